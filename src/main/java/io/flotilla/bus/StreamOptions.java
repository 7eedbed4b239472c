package io.flotilla.bus;

import java.time.Duration;
import java.util.Objects;

/**
 * Flow control and timeouts of one end of a bus stream. Immutable; the compact constructor
 * rejects values that would break the memory bound, so an invalid instance cannot exist.
 *
 * @param window chunks a receiver lets be in flight or buffered at most (its credit window)
 * @param chunkSize largest chunk in bytes; a receiver holds at most {@code window * chunkSize}
 * @param idleTimeout a sender aborts when it had no credit for this long; a receiver fails when it
 *     granted credit and heard nothing for this long
 * @param ackTimeout how long a sender waits, after its end message, for the receiver's result
 */
public record StreamOptions(int window, int chunkSize, Duration idleTimeout, Duration ackTimeout) {
  /**
   * 8 chunks of 255 KiB (about 2 MiB in flight at most), 30 s idle, 5 min for the receiver's result.
   * A chunk leaves 1 KiB of a 256 KiB buffer for the event bus envelope (addresses, codec name,
   * sequence number): the clustered event bus grows its wire buffer to the next power of two, so
   * a chunk of exactly 256 KiB would cost a 512 KiB buffer per message.
   */
  public static final StreamOptions DEFAULTS =
      new StreamOptions(8, 255 * 1024, Duration.ofSeconds(30), Duration.ofMinutes(5));

  /** Upper bound of a chunk: larger event bus messages only add latency and memory. */
  public static final int MAX_CHUNK = 4 * 1024 * 1024;

  public StreamOptions {
    if (window < 1 || window > 1024) {
      throw new IllegalArgumentException("window must be 1..1024 chunks, not " + window);
    }
    if (chunkSize < 1 || chunkSize > MAX_CHUNK) {
      throw new IllegalArgumentException("chunkSize must be 1.." + MAX_CHUNK + " bytes, not " + chunkSize);
    }
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    Objects.requireNonNull(ackTimeout, "ackTimeout");
    if (idleTimeout.toMillis() < 1 || ackTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("timeouts must be at least 1 ms");
    }
  }

  public StreamOptions withWindow(int chunks) {
    return new StreamOptions(chunks, chunkSize, idleTimeout, ackTimeout);
  }

  public StreamOptions withChunkSize(int bytes) {
    return new StreamOptions(window, bytes, idleTimeout, ackTimeout);
  }

  public StreamOptions withIdleTimeout(Duration timeout) {
    return new StreamOptions(window, chunkSize, timeout, ackTimeout);
  }

  public StreamOptions withAckTimeout(Duration timeout) {
    return new StreamOptions(window, chunkSize, idleTimeout, timeout);
  }

  /** How often a stream end checks its timeouts: a quarter of the shorter one, 10 ms..1 s. */
  long watchdogMillis() {
    long shorter = Math.min(idleTimeout.toMillis(), ackTimeout.toMillis());
    return Math.max(10, Math.min(1000, shorter / 4));
  }
}
