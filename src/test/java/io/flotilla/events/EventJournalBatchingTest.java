package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit and the pull window: the journal renders events on its writer thread, one fsync
 * covers every event queued meanwhile, and events appended with {@link EventJournal.Durability#WINDOW}
 * cause no fsync of their own but are synced by the next one, by the window, or by a clean close.
 * Asserts on the journal's sync counter, never on time.
 */
class EventJournalBatchingTest {
  private static final long HOUR = 3_600_000;

  @Test
  void eventsQueuedWhileTheWriterIsBusyShareOneSync(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      long before = j.syncCount();
      CountDownLatch rendering = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      CompletableFuture<Long> first = j.append(() -> {
        rendering.countDown();
        await(release); // the writer is busy with this batch while the others queue up
        return "{\"n\":\"first\"}";
      }, EventJournal.Durability.SYNC);
      assertTrue(rendering.await(30, TimeUnit.SECONDS));
      List<CompletableFuture<Long>> queued = new ArrayList<>();
      ExecutorService callers = Executors.newFixedThreadPool(8);
      List<java.util.concurrent.Future<?>> submitted = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int thread = t;
        submitted.add(callers.submit(() -> {
          for (int i = 0; i < 50; i++) {
            CompletableFuture<Long> f = j.append("{\"t\":" + thread + ",\"i\":" + i + "}");
            synchronized (queued) {
              queued.add(f);
            }
          }
        }));
      }
      for (java.util.concurrent.Future<?> s : submitted) {
        s.get(30, TimeUnit.SECONDS);
      }
      callers.shutdown();
      release.countDown();
      first.get(30, TimeUnit.SECONDS);
      for (CompletableFuture<Long> f : queued) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertEquals(401, j.lastSeq());
      assertEquals(2, j.syncCount() - before, "one sync for the first batch, one for the 400 events queued behind it");
      assertEquals(401, j.read(EventJournal.Position.START, 1000).entries().size());
    }
  }

  @Test
  void windowEventsCauseNoSyncOfTheirOwnAndShareTheNextOne(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, HOUR, EventJournal.Verifier.ALL_DONE)) {
      long before = j.syncCount();
      List<CompletableFuture<Long>> pulls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        int n = i;
        pulls.add(j.append(() -> "{\"pull\":" + n + "}", EventJournal.Durability.WINDOW));
      }
      long push = j.append("{\"push\":1}").get(30, TimeUnit.SECONDS);
      assertEquals(21, push);
      for (CompletableFuture<Long> p : pulls) {
        assertTrue(p.isDone() && !p.isCompletedExceptionally(), "synced by the push's sync");
      }
      assertEquals(1, j.syncCount() - before, "twenty pulls and a push: one sync");
      assertEquals(21, j.read(EventJournal.Position.START, 100).entries().size());
    }
  }

  @Test
  void windowEventsAloneAreSyncedAndReadableWithinTheWindow(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, 20, EventJournal.Verifier.ALL_DONE)) {
      long before = j.syncCount();
      List<CompletableFuture<Long>> pulls = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        int n = i;
        pulls.add(j.append(() -> "{\"pull\":" + n + "}", EventJournal.Durability.WINDOW));
      }
      for (CompletableFuture<Long> p : pulls) {
        p.get(30, TimeUnit.SECONDS); // nothing else is written: the window alone syncs them
      }
      assertTrue(j.syncCount() - before >= 1);
      assertTrue(j.syncCount() - before <= 10, "pulls written together share syncs");
      assertEquals(10, j.lastSeq());
      assertEquals(10, j.read(EventJournal.Position.START, 100).entries().size());
    }
  }

  @Test
  void windowEventsSurviveACleanClose(@TempDir Path dir) throws Exception {
    List<CompletableFuture<Long>> pulls = new ArrayList<>();
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, HOUR, EventJournal.Verifier.ALL_DONE)) {
      for (int i = 0; i < 5; i++) {
        int n = i;
        pulls.add(j.append(() -> "{\"pull\":" + n + "}", EventJournal.Durability.WINDOW));
      }
    }
    for (CompletableFuture<Long> p : pulls) {
      assertTrue(p.isDone() && !p.isCompletedExceptionally(), "close syncs what the window still held");
    }
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      List<EventJournal.Entry> back = j.read(EventJournal.Position.START, 100).entries();
      assertEquals(List.of("{\"pull\":0}", "{\"pull\":1}", "{\"pull\":2}", "{\"pull\":3}", "{\"pull\":4}"),
          back.stream().map(EventJournal.Entry::json).toList());
    }
  }

  @Test
  void unobservedEventsAreWrittenStraightAsUtf8AndCountedWhenLost(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, 20, EventJournal.Verifier.ALL_DONE)) {
      for (int i = 0; i < 3; i++) {
        int n = i;
        j.appendUnobserved(new EventJournal.EventLine() {
          @Override
          public String json() {
            throw new AssertionError("no tap wants strings: the line is written as bytes");
          }

          @Override
          public void writeJson(java.io.OutputStream out) throws java.io.IOException {
            out.write(("{\"pull\":" + n + ",\"name\":\"caf\u00e9\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }
        });
      }
      // a line that breaks in two is refused alone
      j.appendUnobserved(new EventJournal.EventLine() {
        @Override
        public String json() {
          return "{}";
        }

        @Override
        public void writeJson(java.io.OutputStream out) throws java.io.IOException {
          out.write("{\"two\":\n1}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
      });
      j.append(() -> "{\"push\":1}", EventJournal.Durability.SYNC).get(30, TimeUnit.SECONDS);
      assertEquals(List.of("{\"pull\":0,\"name\":\"caf\u00e9\"}", "{\"pull\":1,\"name\":\"caf\u00e9\"}",
          "{\"pull\":2,\"name\":\"caf\u00e9\"}", "{\"push\":1}"),
          j.read(EventJournal.Position.START, 100).entries().stream().map(EventJournal.Entry::json).toList());
      assertEquals(1, j.lostUnobserved());
    }
  }

  @Test
  void anEventThatCannotBeRenderedFailsAloneAndTheRestAreWritten(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      CompletableFuture<Long> bad = j.append(() -> "{\"two\":\n\"lines\"}", EventJournal.Durability.SYNC);
      long good = j.append("{\"ok\":1}").get(30, TimeUnit.SECONDS);
      assertTrue(bad.isCompletedExceptionally());
      assertEquals(1, good);
      assertEquals(List.of("{\"ok\":1}"),
          j.read(EventJournal.Position.START, 10).entries().stream().map(EventJournal.Entry::json).toList());
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
