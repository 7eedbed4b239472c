package io.flotilla.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Runs a test's check once per item on a few threads (the read-back rounds of the chaos tests). */
public final class Parallel {
  /** One check of one item; what it throws fails the test. */
  @FunctionalInterface
  public interface Check<T> {
    void run(T item) throws Exception;
  }

  private Parallel() {}

  /** Runs {@code check} per item on 4 threads, waiting up to 10 minutes for each; rethrows the first failure. */
  public static <T> void each(List<T> items, Check<T> check) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (T item : items) {
        futures.add(pool.submit(() -> {
          check.run(item);
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(10, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
