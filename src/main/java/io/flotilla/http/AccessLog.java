package io.flotilla.http;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One line per request, written by a background thread so that event loops never block on the
 * terminal or a log file. If the writer falls more than 64k lines behind, lines are dropped and
 * counted ({@link #dropped()}, exported as a metric) rather than stalling requests.
 */
public final class AccessLog implements AutoCloseable {
  private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(65_536);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  public AccessLog() {
    writer = new Thread(this::drain, "flotilla-access-log");
    writer.setDaemon(true);
    writer.start();
  }

  /** Queues a line (never blocks). */
  public void log(String remote, String identity, String method, String uri, int status, long bytes,
      long micros, String userAgent, String requestId) {
    String line = remote + " - " + identity + " [" + Instant.now() + "] \"" + method + " " + uri + "\" " + status
        + " " + bytes + " " + (micros / 1000.0) + "ms \"" + userAgent + "\" " + requestId;
    if (!queue.offer(line)) {
      dropped.incrementAndGet();
    }
  }

  public long dropped() {
    return dropped.get();
  }

  private void drain() {
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    List<String> batch = new ArrayList<>(1024);
    try {
      while (!closed || !queue.isEmpty()) {
        String first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, 4096);
        for (String line : batch) {
          out.write(line);
          out.write('\n');
        }
        batch.clear();
        out.flush();
      }
      out.flush();
    } catch (InterruptedException | IOException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      writer.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
