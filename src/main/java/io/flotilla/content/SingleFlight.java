package io.flotilla.content;

import io.vertx.core.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * At most one task in flight per key: the first caller of {@link #join} starts the task, callers
 * that come while it runs get the same future, and once it completes (either way) the key is free
 * again, so a later call starts afresh (a failure is not remembered: the next caller retries).
 * Thread-safe; the task is started on the calling thread, outside any lock.
 */
final class SingleFlight<K, V> {
  private final Map<K, Future<V>> flights = new ConcurrentHashMap<>();

  /** The running task's future for {@code key}, or {@code start}'s (started now) when none runs. */
  Future<V> join(K key, Supplier<Future<V>> start) {
    while (true) {
      Future<V> running = flights.get(key);
      if (running != null) {
        return running;
      }
      io.vertx.core.Promise<V> mine = io.vertx.core.Promise.promise();
      if (flights.putIfAbsent(key, mine.future()) != null) {
        continue; // another caller won the race: join it
      }
      Future<V> task;
      try {
        task = start.get();
      } catch (RuntimeException e) {
        task = Future.failedFuture(e);
      }
      task.onComplete(ar -> {
        flights.remove(key, mine.future());
        mine.handle(ar);
      });
      return mine.future();
    }
  }

  /** The future of the task running for {@code key} now, or null when none runs. */
  Future<V> running(K key) {
    return flights.get(key);
  }

  /** How many tasks run now. */
  int size() {
    return flights.size();
  }
}
