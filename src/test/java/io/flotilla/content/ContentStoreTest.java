package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The content store: revisions, merges in any order, tombstones, and what survives a reopen. */
class ContentStoreTest {
  @TempDir
  Path dir;

  @Test
  void aWriteWinsOverTheRecordItReplacesEvenWhenTheClockIsBehind() {
    AtomicLong clock = new AtomicLong(1000);
    ContentStore s = ContentStore.open(dir, "a", clock::get);
    ContentRecord first = s.put("remote", "r", "{\"v\":1}");
    clock.set(10); // the clock went back
    ContentRecord second = s.put("remote", "r", "{\"v\":2}");
    assertTrue(second.laterThan(first), second + " over " + first);
    assertEquals("{\"v\":2}", s.get("remote", "r").orElseThrow().body());
  }

  @Test
  void mergingTheSameRecordsInAnyOrderGivesTheSameState() {
    List<ContentRecord> records = new ArrayList<>(List.of(
        new ContentRecord("remote", "r", 5, "a", false, "a5"),
        new ContentRecord("remote", "r", 5, "b", false, "b5"),
        new ContentRecord("remote", "r", 4, "c", false, "c4"),
        new ContentRecord("remote", "r", 5, "b", true, ""),
        new ContentRecord("distribution", "d", 1, "a", false, "d1")));
    String expected = null;
    for (int i = 0; i < 20; i++) {
      Collections.shuffle(records, new java.util.Random(i));
      ContentStore s = ContentStore.open(dir.resolve("m" + i), "x");
      for (ContentRecord r : records) {
        s.merge(List.of(r));
      }
      String state = s.snapshot().stream().map(ContentRecord::toString).sorted().toList().toString();
      if (expected == null) {
        expected = state;
      }
      assertEquals(expected, state, "order " + i);
      assertEquals(Optional.empty(), s.get("remote", "r"), "the tombstone of b at 5 wins");
    }
  }

  @Test
  void recordsAndTombstonesSurviveAReopenAndOldTombstonesAreForgotten() {
    AtomicLong clock = new AtomicLong(1000);
    ContentStore s = ContentStore.open(dir, "a", clock::get);
    s.put("remote", "kept", "{}");
    s.put("remote", "gone", "{}");
    assertTrue(s.delete("remote", "gone").isPresent());
    assertTrue(s.delete("remote", "gone").isEmpty(), "nothing live to delete twice");
    ContentStore reopened = ContentStore.open(dir, "a");
    assertEquals(1, reopened.list("remote").size());
    assertEquals(2, reopened.snapshot().size(), "the tombstone is kept");
    // a stale copy of the deleted record does not come back
    assertEquals(List.of(), reopened.merge(List.of(new ContentRecord("remote", "gone", 1000, "a", false, "{}"))));
    assertEquals(1, reopened.forget(Long.MAX_VALUE));
    assertEquals(1, ContentStore.open(dir, "a").snapshot().size());
  }

  @Test
  void listenersHearLocalWritesAndMergedRecordsButNotStaleOnes() {
    ContentStore s = ContentStore.open(dir, "a");
    List<String> heard = new ArrayList<>();
    s.listen(r -> heard.add(r.key() + "@" + r.rev()));
    ContentRecord mine = s.put("task", "t", "{}");
    s.merge(List.of(new ContentRecord("task", "t", mine.rev() - 1, "z", false, "{}"),
        new ContentRecord("task", "u", 7, "z", false, "{}")));
    assertEquals(List.of("t@" + mine.rev(), "u@7"), heard);
  }
}
