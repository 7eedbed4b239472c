package io.flotilla.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * A measurement, not a test: durable single-key writes per second from N threads, in the metadata
 * database (synced {@link MetaDb#commit}, counting RocksDB's WAL fsyncs: concurrent writers share
 * one) and, for comparison, as files of the old layout ({@link Fs#writeAtomic}: temp file, fsync,
 * rename, fsync of the folder, per fact). Run with the test class path:
 *
 * <pre>java -cp target/classes:target/test-classes:$(cat cp.txt) io.flotilla.storage.GroupCommitMeasure DIR [SECONDS] [THREADS...]</pre>
 */
public final class GroupCommitMeasure {
  private GroupCommitMeasure() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args.length > 0 ? args[0] : "/tmp/group-commit");
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    List<Integer> threads = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      threads.add(Integer.parseInt(args[i]));
    }
    if (threads.isEmpty()) {
      threads = List.of(1, 2, 4, 8, 16, 32);
    }
    Fs.deleteTree(dir);
    System.out.println("| store | threads | durable writes/s | fsyncs/s | writes per fsync |");
    System.out.println("|---|---:|---:|---:|---:|");
    for (int n : threads) {
      Path d = dir.resolve("rocks-" + n);
      try (MetaDb db = MetaDb.open(d, true)) {
        long before = db.walSyncs();
        long[] r = run(n, seconds, (t, i) -> {
          try (MetaDb.Batch b = new MetaDb.Batch()) {
            b.put(("k\0" + t + "\0" + i).getBytes(StandardCharsets.UTF_8), new byte[64]);
            db.commit(b);
          }
        });
        long syncs = db.walSyncs() - before;
        print("RocksDB, sync=true", n, r, syncs * 1000.0 / r[1]);
      }
      Fs.deleteTree(d);
      Path f = dir.resolve("files-" + n);
      long[] r = run(n, seconds, (t, i) -> Fs.writeAtomic(f.resolve("t" + t).resolve(Long.toString(i)), new byte[64]));
      print("files (Fs.writeAtomic)", n, r, 2.0 * r[0] * 1000.0 / r[1]);
      Fs.deleteTree(f);
    }
  }

  private static void print(String store, int n, long[] r, double syncsPerSecond) {
    double writes = r[0] * 1000.0 / r[1];
    System.out.printf("| %s | %d | %.0f | %.0f | %.1f |%n", store, n, writes, syncsPerSecond, writes / syncsPerSecond);
  }

  @FunctionalInterface
  private interface Write {
    void write(int thread, long i) throws Exception;
  }

  /** Runs {@code n} writers for {@code seconds}; returns {writes, elapsed millis}. */
  private static long[] run(int n, int seconds, Write w) throws Exception {
    LongAdder done = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(n);
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < n; t++) {
      int thread = t;
      Thread th = new Thread(() -> {
        try {
          for (long i = 0; !stop.get(); i++) {
            w.write(thread, i);
            done.increment();
          }
        } catch (Throwable e) {
          errors.add(e);
        } finally {
          finished.countDown();
        }
      });
      th.start();
    }
    Thread.sleep(seconds * 1000L);
    stop.set(true);
    finished.await();
    long millis = (System.nanoTime() - start) / 1_000_000;
    if (!errors.isEmpty()) {
      throw new IllegalStateException(errors.get(0));
    }
    return new long[] {done.sum(), millis};
  }
}
