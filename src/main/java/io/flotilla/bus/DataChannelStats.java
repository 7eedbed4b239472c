package io.flotilla.bus;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters of one node's data channel, both ends: bytes this node sent and received over it, the
 * transfers that completed or failed, the connections refused for a bad ticket and those open now.
 * Shown on {@code /metrics} ({@code flotilla_datachannel_*}). Thread-safe; never fails.
 */
public final class DataChannelStats {
  private final AtomicLong sentBytes = new AtomicLong();
  private final AtomicLong receivedBytes = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicInteger open = new AtomicInteger();

  void sent(long bytes) {
    sentBytes.addAndGet(bytes);
  }

  void received(long bytes) {
    receivedBytes.addAndGet(bytes);
  }

  void completed() {
    completed.incrementAndGet();
  }

  void failed() {
    failed.incrementAndGet();
  }

  void refused() {
    refused.incrementAndGet();
  }

  void opened() {
    open.incrementAndGet();
  }

  void closed() {
    open.decrementAndGet();
  }

  /** Blob bytes this node sent over the data channel (either end of a connection). */
  public long sentBytes() {
    return sentBytes.get();
  }

  /** Blob bytes this node received over the data channel. */
  public long receivedBytes() {
    return receivedBytes.get();
  }

  /** Transfers (this node at either end) that ended complete. */
  public long completedTransfers() {
    return completed.get();
  }

  /** Transfers (this node at either end) that ended early: peer gone, truncated, idle, refused write. */
  public long failedTransfers() {
    return failed.get();
  }

  /** Connections to this node's data port closed for an unknown, expired, reused or misdirected ticket. */
  public long refusedConnections() {
    return refused.get();
  }

  /** Data-channel connections open now on this node (both ends). */
  public int openConnections() {
    return open.get();
  }
}
