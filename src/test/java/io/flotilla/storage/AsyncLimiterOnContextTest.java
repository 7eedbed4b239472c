package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An {@link AsyncLimiter} that starts waiting tasks on a Vert.x context. */
class AsyncLimiterOnContextTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void runsAtMostMaxAtOnceAndEveryOneToItsEnd() throws Exception {
    AsyncLimiter limiter = new AsyncLimiter(vertx.getOrCreateContext(), 4);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    List<Future<Integer>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      int n = i;
      all.add(limiter.run(() -> {
        most.accumulateAndGet(running.incrementAndGet(), Math::max);
        Promise<Integer> p = Promise.promise();
        vertx.setTimer(10 + (n % 3) * 5, t -> {
          running.decrementAndGet();
          p.complete(n);
        });
        return p.future();
      }));
    }
    await(Future.all(all));
    assertEquals(4, most.get());
    for (int i = 0; i < 20; i++) {
      assertEquals(i, all.get(i).result());
    }
  }

  @Test
  void failuresAndThrowsFreeTheirSlot() throws Exception {
    AsyncLimiter limiter = new AsyncLimiter(vertx.getOrCreateContext(), 1);
    Future<Object> failed = limiter.run(() -> Future.failedFuture(new IllegalStateException("no")));
    Future<Object> thrown = limiter.run(() -> {
      throw new IllegalArgumentException("thrown");
    });
    Future<String> after = limiter.run(() -> Future.succeededFuture("ran"));
    assertEquals("ran", await(after));
    assertEquals("no", failed.cause().getMessage());
    assertEquals("thrown", thrown.cause().getMessage());
  }

  @Test
  void aLongQueueOfQuickWorkDoesNotGrowTheStack() throws Exception {
    AsyncLimiter limiter = new AsyncLimiter(vertx.getOrCreateContext(), 2);
    List<Future<Integer>> all = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      int n = i;
      all.add(limiter.run(() -> Future.succeededFuture(n)));
    }
    await(Future.all(all));
    assertEquals(99_999, all.get(99_999).result());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
