package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SingleFlightTest {
  private final SingleFlight<String, String> flights = new SingleFlight<>();

  @Test
  void callersWhileATaskRunsShareIt() {
    AtomicInteger started = new AtomicInteger();
    Promise<String> task = Promise.promise();
    Future<String> a = flights.join("k", () -> {
      started.incrementAndGet();
      return task.future();
    });
    Future<String> b = flights.join("k", () -> {
      started.incrementAndGet();
      return Future.succeededFuture("other");
    });
    assertEquals(1, started.get());
    assertSame(a, b);
    assertSame(a, flights.running("k"));
    task.complete("done");
    assertEquals("done", a.result());
    assertEquals("done", b.result());
    assertNull(flights.running("k"));
  }

  @Test
  void otherKeysRunTheirOwnTasks() {
    Promise<String> one = Promise.promise();
    flights.join("a", one::future);
    Future<String> b = flights.join("b", () -> Future.succeededFuture("b"));
    assertEquals("b", b.result());
    assertEquals(1, flights.size());
  }

  @Test
  void aFailureIsSharedThenForgotten() {
    Promise<String> task = Promise.promise();
    Future<String> a = flights.join("k", task::future);
    Future<String> b = flights.join("k", () -> Future.succeededFuture("not started"));
    task.fail(new IllegalStateException("upstream died"));
    assertTrue(a.failed());
    assertTrue(b.failed());
    assertEquals("upstream died", b.cause().getMessage());
    // the next caller retries
    assertEquals("retried", flights.join("k", () -> Future.succeededFuture("retried")).result());
    assertEquals(0, flights.size());
  }

  @Test
  void aTaskThatThrowsFailsItsFutureAndFreesTheKey() {
    Future<String> a = flights.join("k", () -> {
      throw new IllegalArgumentException("bad");
    });
    assertTrue(a.failed());
    assertEquals(0, flights.size());
  }

  @Test
  void manyThreadsAtOnceStartOneTask() throws Exception {
    AtomicInteger started = new AtomicInteger();
    Promise<String> task = Promise.promise();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    List<java.util.concurrent.Future<Future<String>>> all = new ArrayList<>();
    try {
      for (int i = 0; i < 64; i++) {
        all.add(pool.submit(() -> {
          go.await();
          return flights.join("k", () -> {
            started.incrementAndGet();
            return task.future();
          });
        }));
      }
      go.countDown();
      List<Future<String>> futures = new ArrayList<>();
      for (var f : all) {
        futures.add(f.get(10, TimeUnit.SECONDS));
      }
      assertEquals(1, started.get());
      task.complete("one");
      futures.forEach(f -> assertEquals("one", f.result()));
    } finally {
      pool.shutdownNow();
    }
  }
}
