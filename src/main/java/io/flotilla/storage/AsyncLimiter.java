package io.flotilla.storage;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.function.Supplier;

/**
 * Runs at most {@code permits} asynchronous tasks at a time; the rest wait in arrival order. Bounds
 * the memory and disk bandwidth that background copies (replication, upstream syncs) take from
 * client traffic. Thread-safe.
 */
public final class AsyncLimiter {
  private final Context context;
  private final int permits;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;

  /** A waiting task starts on the thread that completed the one before it. */
  public AsyncLimiter(int permits) {
    this(null, permits);
  }

  /**
   * A waiting task starts on {@code context}, off the stack of the task that freed its permit: a long
   * queue of tasks that complete at once cannot overflow the stack.
   */
  public AsyncLimiter(Context context, int permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits must be positive");
    }
    this.context = context;
    this.permits = permits;
  }

  /** Starts {@code task} when a permit is free; the permit is returned when its future completes. */
  public <T> Future<T> run(Supplier<Future<T>> task) {
    Promise<T> promise = Promise.promise();
    Runnable start = () -> {
      Future<T> f;
      try {
        f = task.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      f.onComplete(ar -> {
        release();
        promise.handle(ar);
      });
    };
    boolean now;
    synchronized (this) {
      now = running < permits;
      if (now) {
        running++;
      } else {
        waiting.add(start);
      }
    }
    if (now) {
      start.run();
    }
    return promise.future();
  }

  private void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        running--;
      }
    }
    if (next != null) {
      if (context == null) {
        next.run();
      } else {
        context.runOnContext(v -> next.run());
      }
    }
  }

  /** Tasks running now. */
  public synchronized int running() {
    return running;
  }
}
