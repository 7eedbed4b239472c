package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.search.PrefToggles.Kind;
import io.flotilla.search.PrefsStore.Pref;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stars and bookmarks on one node's store: toggles, counts, the file, and merges in any order. */
class PrefsStoreTest {
  @TempDir
  Path dir;

  @Test
  void togglesFlipAndStarCountsCountUsers() {
    AtomicLong clock = new AtomicLong(1000);
    PrefsStore s = PrefsStore.open(dir, "node-0", clock::get);
    assertTrue(s.toggle("alice", "team/app", Kind.STAR).on());
    assertTrue(s.toggle("bob", "team/app", Kind.STAR).on());
    assertTrue(s.toggle("alice", "team/app", Kind.BOOKMARK).on());
    assertTrue(s.starred("alice", "team/app"));
    assertTrue(s.starred("bob", "team/app"));
    assertTrue(s.bookmarked("alice", "team/app"));
    assertFalse(s.bookmarked("bob", "team/app"));
    assertFalse(s.starred("alice", "team/other"));
    assertEquals(2, s.stars("team/app"));
    assertEquals(0, s.stars("team/other"));

    // a second toggle in the same millisecond still flips (the record is one millisecond later)
    Pref off = s.toggle("alice", "team/app", Kind.STAR);
    assertFalse(off.on());
    assertEquals(1001, off.millis());
    assertFalse(s.starred("alice", "team/app"));
    assertEquals(1, s.stars("team/app"));
    assertTrue(s.bookmarked("alice", "team/app"), "a star does not touch the bookmark");
    assertTrue(s.toggle("alice", "team/app", Kind.STAR).on());
    assertEquals(2, s.stars("team/app"));

    assertThrows(IllegalArgumentException.class, () -> s.toggle("", "team/app", Kind.STAR));
    assertThrows(IllegalArgumentException.class, () -> s.toggle("alice", "Not/Valid", Kind.STAR));
    assertThrows(IllegalArgumentException.class, () -> s.toggle("alice", "", Kind.STAR));
  }

  @Test
  void everyToggleIsOnDiskBeforeItReturns() throws Exception {
    PrefsStore s = PrefsStore.open(dir, "node-0");
    s.toggle("alice", "team/app", Kind.STAR);
    s.toggle("bob", "team/app", Kind.STAR);
    s.toggle("bob", "team/lib", Kind.BOOKMARK);
    s.toggle("bob", "team/app", Kind.STAR); // unstarred
    assertTrue(Files.exists(dir.resolve("_search/userprefs.json")));

    PrefsStore again = PrefsStore.open(dir, "node-0");
    assertTrue(again.starred("alice", "team/app"));
    assertFalse(again.starred("bob", "team/app"));
    assertTrue(again.bookmarked("bob", "team/lib"));
    assertEquals(1, again.stars("team/app"));
    assertEquals(new HashSet<>(s.snapshot()), new HashSet<>(again.snapshot()), "the unset record too");
    // no temp files left beside it
    try (var files = Files.list(dir.resolve("_search"))) {
      assertEquals(List.of("userprefs.json"), files.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void mergesConvergeWhateverTheOrderAndRepetition() {
    // records of three nodes toggling the same few keys at interleaved and equal times
    List<Pref> all = new ArrayList<>();
    String[] users = {"alice", "bob"};
    String[] repos = {"team/app", "team/lib"};
    Random random = new Random(7);
    for (int i = 0; i < 200; i++) {
      all.add(new Pref(users[random.nextInt(2)], repos[random.nextInt(2)], Kind.values()[random.nextInt(2)],
          random.nextBoolean(), 1 + random.nextInt(20), "node-" + random.nextInt(3)));
    }
    PrefsStore reference = PrefsStore.open(dir.resolve("ref"), "x");
    reference.merge(all);
    for (int run = 0; run < 10; run++) {
      List<Pref> shuffled = new ArrayList<>(all);
      shuffled.addAll(all.subList(0, 50)); // replays
      Collections.shuffle(shuffled, new Random(run));
      PrefsStore s = PrefsStore.open(dir.resolve("run" + run), "x");
      // in batches, as pushes and rounds deliver them
      for (int from = 0; from < shuffled.size(); from += 17) {
        s.merge(shuffled.subList(from, Math.min(shuffled.size(), from + 17)));
      }
      assertEquals(new HashSet<>(reference.snapshot()), new HashSet<>(s.snapshot()), "run " + run);
      for (String r : repos) {
        assertEquals(reference.stars(r), s.stars(r));
        for (String u : users) {
          assertEquals(reference.starred(u, r), s.starred(u, r));
          assertEquals(reference.bookmarked(u, r), s.bookmarked(u, r));
        }
      }
    }
    // and the counts match the records
    for (String r : repos) {
      long on = reference.snapshot().stream().filter(p -> p.on() && p.kind() == Kind.STAR && p.repository().equals(r)).count();
      assertEquals(on, reference.stars(r));
    }
  }

  @Test
  void theLaterRecordWinsAndAStaleOneDoesNotComeBack() {
    PrefsStore a = PrefsStore.open(dir.resolve("a"), "node-a", () -> 5000);
    PrefsStore b = PrefsStore.open(dir.resolve("b"), "node-b", () -> 6000);
    Pref starred = a.toggle("alice", "team/app", Kind.STAR);
    assertTrue(b.merge(List.of(starred)));
    Pref unstarred = b.toggle("alice", "team/app", Kind.STAR);
    assertFalse(unstarred.on());
    assertTrue(a.merge(List.of(unstarred)));
    assertFalse(a.starred("alice", "team/app"));
    assertFalse(a.merge(List.of(starred)), "the older record changes nothing");
    assertFalse(a.starred("alice", "team/app"));
    assertEquals(0, a.stars("team/app"));
    // a toggle on a whose clock is behind the record still flips it
    assertTrue(a.toggle("alice", "team/app", Kind.STAR).on());
    assertEquals(6001, a.snapshot().get(0).millis());
    // malformed records are ignored
    assertFalse(a.merge(List.of(new Pref("", "team/app", Kind.STAR, true, 9999, "n"),
        new Pref("bob", "../x", Kind.STAR, true, 9999, "n"), new Pref("bob", "team/app", null, true, 9999, "n"))));
  }
}
