package io.flotilla.scan;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The scanner's queue: image manifests waiting for a scan, by priority then arrival, run at most
 * {@code concurrency} at a time on a worker pool, one run per digest however many ask (they share its
 * future). A higher-priority request for a queued digest moves it up. Thread-safe (synchronized).
 */
final class ScanQueue {
  /** What one job does, on a worker thread. */
  @FunctionalInterface
  interface Work {
    ImageScan run(Job job) throws Exception;
  }

  /** One queued scan. */
  record Job(Scanner.Priority priority, long seq, String repository, String digest) {}

  private final WorkerExecutor workers;
  private final int concurrency;
  private final Work work;
  private final PriorityQueue<Job> queue = new PriorityQueue<>((a, b) -> a.priority() != b.priority()
      ? a.priority().compareTo(b.priority()) : Long.compare(a.seq(), b.seq()));
  private final Map<String, Promise<ImageScan>> inFlight = new HashMap<>();
  private final Set<String> runningDigests = new HashSet<>();
  private final AtomicLong seq = new AtomicLong();
  private int running;

  ScanQueue(WorkerExecutor workers, int concurrency, Work work) {
    this.workers = workers;
    this.concurrency = concurrency;
    this.work = work;
  }

  /** Queues {@code digest}; the future completes with the run's result (shared with earlier callers). */
  synchronized Future<ImageScan> submit(Scanner.Priority priority, String repository, String digest) {
    Promise<ImageScan> existing = inFlight.get(digest);
    if (existing != null) {
      if (priority == Scanner.Priority.ON_DEMAND) { // queued at a lower priority: move it up
        queue.add(new Job(priority, seq.incrementAndGet(), repository, digest));
        drain();
      }
      return existing.future();
    }
    Promise<ImageScan> p = Promise.promise();
    inFlight.put(digest, p);
    queue.add(new Job(priority, seq.incrementAndGet(), repository, digest));
    drain();
    return p.future();
  }

  /** Whether {@code digest} is queued or running. */
  synchronized boolean contains(String digest) {
    return inFlight.containsKey(digest);
  }

  /** Jobs waiting (not running). */
  synchronized int queued() {
    return queue.size();
  }

  private synchronized void drain() {
    while (running < concurrency && !queue.isEmpty()) {
      Job job = queue.poll();
      Promise<ImageScan> p = inFlight.get(job.digest());
      if (p == null || !runningDigests.add(job.digest())) {
        continue; // a duplicate of a job that ran or runs: its promise completes with that run
      }
      running++;
      workers.executeBlocking(() -> work.run(job), false).onComplete(ar -> {
        synchronized (this) {
          running--;
          runningDigests.remove(job.digest());
          inFlight.remove(job.digest(), p);
        }
        if (ar.succeeded()) {
          p.tryComplete(ar.result());
        } else {
          p.tryFail(ar.cause());
        }
        drain();
      });
    }
  }
}
