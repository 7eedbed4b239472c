package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AsyncLimiterTest {
  @Test
  void runsAtMostThePermitsAtOnceAndTheRestInArrivalOrder() {
    AsyncLimiter limiter = new AsyncLimiter(2);
    List<Promise<String>> tasks = new ArrayList<>();
    List<Integer> started = new ArrayList<>();
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      int n = i;
      Promise<String> p = Promise.promise();
      tasks.add(p);
      results.add(limiter.run(() -> {
        started.add(n);
        return p.future();
      }));
    }
    assertEquals(List.of(0, 1), started);
    assertEquals(2, limiter.running());
    tasks.get(1).complete("one");
    assertEquals(List.of(0, 1, 2), started);
    tasks.get(0).fail("boom");
    assertEquals(List.of(0, 1, 2, 3), started);
    assertTrue(results.get(0).failed(), "a failure reaches its caller and still frees the permit");
    assertEquals("one", results.get(1).result());
    tasks.get(2).complete("two");
    tasks.get(3).complete("three");
    tasks.get(4).complete("four");
    assertEquals(List.of(0, 1, 2, 3, 4), started);
    assertEquals("four", results.get(4).result());
    assertEquals(0, limiter.running());
  }

  @Test
  void aTaskThatThrowsFailsItsFutureAndFreesThePermit() {
    AsyncLimiter limiter = new AsyncLimiter(1);
    Future<String> bad = limiter.run(() -> {
      throw new IllegalStateException("no");
    });
    assertTrue(bad.failed());
    assertEquals("ok", limiter.run(() -> Future.succeededFuture("ok")).result());
  }
}
