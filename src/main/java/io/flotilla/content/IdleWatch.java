package io.flotilla.content;

import io.vertx.core.Vertx;

/**
 * Notices a response body that goes silent: runs {@code onSilence} once when no data arrived for
 * {@code timeoutMillis} (Vert.x's own idle timeout of a request ends when the answer's head
 * arrives, so bodies need this). One timer at a time, re-armed for the time left; used on the
 * response's context only.
 */
final class IdleWatch {
  private final Vertx vertx;
  private final long timeoutMillis;
  private final Runnable onSilence;
  private long lastData;
  private long timer = -1;
  private boolean stopped;

  IdleWatch(Vertx vertx, long timeoutMillis, Runnable onSilence) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
    this.onSilence = onSilence;
    this.lastData = System.nanoTime();
    arm(timeoutMillis);
  }

  /** Data arrived. */
  void data() {
    lastData = System.nanoTime();
  }

  /** The body ended or failed: no more checks. */
  void stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void arm(long delay) {
    timer = vertx.setTimer(Math.max(1, delay), id -> {
      timer = -1;
      if (stopped) {
        return;
      }
      long silent = (System.nanoTime() - lastData) / 1_000_000;
      if (silent >= timeoutMillis) {
        stopped = true;
        onSilence.run();
      } else {
        arm(timeoutMillis - silent);
      }
    });
  }
}
