package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ScanQueueTest {
  Vertx vertx;
  WorkerExecutor workers;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    workers = vertx.createSharedWorkerExecutor("scan-queue-test", 1);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  static ImageScan scan(String digest) {
    return new ImageScan(digest, "", LayerInventory.ANALYZER_VERSION, "", OsRelease.UNKNOWN, List.of(), List.of(), 0);
  }

  @Test
  void oneRunPerDigestAndOnDemandJumpsTheQueue() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicInteger concurrent = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    ScanQueue q = new ScanQueue(workers, 1, job -> {
      most.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
      try {
        if (job.digest().equals("first")) {
          gate.await(10, TimeUnit.SECONDS); // holds the only worker while the others queue
        }
        order.add(job.digest() + "/" + job.priority());
        return scan(job.digest());
      } finally {
        concurrent.decrementAndGet();
      }
    });
    Future<ImageScan> first = q.submit(Scanner.Priority.SWEEP, "r", "first");
    Future<ImageScan> a = q.submit(Scanner.Priority.SWEEP, "r", "a");
    Future<ImageScan> b = q.submit(Scanner.Priority.PUSH, "r", "b");
    Future<ImageScan> a2 = q.submit(Scanner.Priority.ON_DEMAND, "r", "a"); // same digest: moved up, one run
    assertSame(a, a2);
    assertTrue(q.contains("a"));
    gate.countDown();
    Future.all(first, a, b).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("first/SWEEP", "a/ON_DEMAND", "b/PUSH"), order);
    assertEquals(1, most.get(), "never more than the concurrency");
    assertEquals("a", a.result().digest());
    assertEquals(0, q.queued());
    assertTrue(!q.contains("a"));
  }

  @Test
  void aFailedRunFailsEveryCallerAndTheDigestCanRunAgain() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    ScanQueue q = new ScanQueue(workers, 2, job -> {
      if (runs.incrementAndGet() == 1) {
        throw new IllegalStateException("boom");
      }
      return scan(job.digest());
    });
    Future<ImageScan> f = q.submit(Scanner.Priority.PUSH, "r", "x");
    try {
      f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      assertEquals("boom", e.getCause().getMessage());
    }
    assertTrue(f.failed());
    ImageScan again = q.submit(Scanner.Priority.PUSH, "r", "x").toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals("x", again.digest());
    assertEquals(2, runs.get());
  }
}
