package io.flotilla.content;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.function.Supplier;

/**
 * Runs asynchronous work at most {@code max} at a time, in the order it was submitted; queued work
 * starts on the given context once a running one completes. Thread-safe.
 */
final class Limiter {
  private final Context context;
  private final int max;
  private final Queue<Runnable> queue = new ArrayDeque<>();
  private int running;

  Limiter(Context context, int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1");
    }
    this.context = context;
    this.max = max;
  }

  <T> Future<T> submit(Supplier<Future<T>> work) {
    Promise<T> result = Promise.promise();
    Runnable start = () -> {
      Future<T> f;
      try {
        f = work.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        release();
        result.handle(ar);
      });
    };
    boolean now;
    synchronized (this) {
      now = running < max;
      if (now) {
        running++;
      } else {
        queue.add(start);
      }
    }
    if (now) {
      start.run();
    }
    return result.future();
  }

  private void release() {
    Runnable next;
    synchronized (this) {
      next = queue.poll();
      if (next == null) {
        running--;
      }
    }
    if (next != null) {
      context.runOnContext(v -> next.run()); // not on this stack: a long queue of quick work would overflow it
    }
  }
}
