package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventJournalTest {
  private static final long SEGMENT = 4096;

  @Test
  void appendsAreReadBackInOrderAndSurviveReopening(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      appendAll(j, 0, 10);
      EventJournal.Batch b = j.read(EventJournal.Position.START, 4);
      assertEquals(List.of(1L, 2L, 3L, 4L), seqs(b));
      assertEquals("{\"n\":0}", b.entries().get(0).json());
      EventJournal.Batch rest = j.read(b.next(), 100);
      assertEquals(6, rest.entries().size());
      assertEquals(10, rest.next().seq());
      assertEquals(0, j.read(rest.next(), 100).entries().size());
    }
    assertEquals(SEGMENT, Files.size(onlySegment(dir)), "the current segment is preallocated");
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      assertEquals(10, j.lastSeq());
      assertEquals(11L, j.append("{\"n\":10}").get());
      assertEquals(11, j.read(EventJournal.Position.START, 100).entries().size());
    }
  }

  @Test
  void aTornLineIsCutAndCannotLeaveAFragmentBehind(@TempDir Path dir) throws Exception {
    long end;
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      appendAll(j, 0, 3);
      end = j.end().offset();
    }
    // a crash in the middle of a batch: bytes of an unfinished line after the last complete one
    try (FileChannel ch = FileChannel.open(onlySegment(dir), StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("4\t{\"torn\":\"a long line that never got its newline\"".getBytes(StandardCharsets.UTF_8)), end);
    }
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      assertEquals(3, j.lastSeq());
      assertEquals(4L, j.append("{}").get()); // shorter than the torn bytes it overwrites
    }
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      EventJournal.Batch all = j.read(EventJournal.Position.START, 100);
      assertEquals(List.of(1L, 2L, 3L, 4L), seqs(all));
      assertEquals("{}", all.entries().get(3).json());
    }
  }

  @Test
  void segmentsRollAreCutToTheirEventsAndAreTrimmedBehindReaders(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      for (int i = 0; i < 200; i++) {
        j.append("{\"n\":" + i + ",\"pad\":\"" + "x".repeat(40) + "\"}").get(); // one batch each: deterministic rolls
      }
      List<Path> segments = segments(dir);
      assertTrue(segments.size() > 2, "rolled: " + segments);
      for (Path closed : segments.subList(0, segments.size() - 1)) {
        byte[] bytes = Files.readAllBytes(closed);
        assertEquals('\n', bytes[bytes.length - 1], "closed segment " + closed + " ends after its last event");
      }
      List<EventJournal.Entry> read = new ArrayList<>();
      EventJournal.Position at = EventJournal.Position.START;
      for (EventJournal.Batch b; !(b = j.read(at, 7)).entries().isEmpty(); at = b.next()) {
        read.addAll(b.entries());
      }
      assertEquals(200, read.size());
      for (int i = 0; i < 200; i++) {
        assertEquals(i + 1, read.get(i).seq());
      }
      j.trimBefore(at);
      assertEquals(1, segments(dir).size(), "only the current segment is left");
      assertEquals(0, j.read(at, 10).entries().size());
    }
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      assertEquals(200, j.lastSeq());
    }
  }

  @Test
  void overTheSizeLimitTheOldestEventsAreDroppedAndReportedToReaders(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 3 * SEGMENT)) {
      for (int i = 0; i < 400; i++) {
        j.append("{\"n\":" + i + ",\"pad\":\"" + "x".repeat(40) + "\"}").get();
      }
      EventJournal.Batch b = j.read(EventJournal.Position.START, 1000);
      assertTrue(b.skipped() > 0, "a reader that was behind learns how many events it lost");
      assertEquals(400, b.skipped() + b.entries().size());
      assertEquals(400, b.next().seq());
    }
  }

  @Test
  void concurrentAppendsShareBatchesAndGetDistinctSequenceNumbers(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      List<CompletableFuture<Long>> all = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        all.add(j.append("{\"n\":" + i + "}"));
      }
      List<Long> seqs = new ArrayList<>();
      for (CompletableFuture<Long> f : all) {
        seqs.add(f.get());
      }
      assertEquals(500, seqs.stream().distinct().count());
      assertEquals(500, j.lastSeq());
    }
  }

  @Test
  void eventsAnEarlierVersionListedAsAbortedAreSkippedByReaders(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      appendAll(j, 0, 3);
    }
    Files.writeString(dir.resolve("aborted"), "2\n"); // left by a version that wrote events ahead
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      assertEquals(List.of(1L, 3L), seqs(j.read(EventJournal.Position.START, 10)));
      assertEquals(1, j.abortedCount());
    }
  }

  @Test
  void anEarlierVersionsTailAfterItsSavedReadableEndIsCheckedOnce(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30)) {
      j.append("{\"n\":\"before\"}").get();
      j.append("{\"n\":\"lost\"}").get(); // written ahead by that version; the crash came before its operation
      j.append("{\"n\":\"stored\"}").get(); // ... and this one's operation made it
      j.append("{\"n\":\"after\"}").get();
    }
    long afterFirst = "1\t{\"n\":\"before\"}\n".getBytes(StandardCharsets.UTF_8).length;
    new EventJournal.Position(1, 1, afterFirst).save(dir.resolve("visible")); // that version's saved readable end
    List<String> checked = new ArrayList<>();
    EventJournal.Verifier storage = (json, later) -> {
      checked.add(json);
      return !json.contains("lost");
    };
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, storage)) {
      List<EventJournal.Entry> all = j.read(EventJournal.Position.START, 10).entries();
      assertEquals(List.of("{\"n\":\"before\"}", "{\"n\":\"stored\"}", "{\"n\":\"after\"}"),
          all.stream().map(EventJournal.Entry::json).toList());
      assertEquals(3, checked.size(), "only events after the saved readable end are checked: " + checked);
      assertEquals(4, j.lastSeq());
      assertFalse(Files.exists(dir.resolve("visible")), "checked once: this version writes no readable end");
    }
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, (json, later) -> {
      throw new AssertionError("nothing left to check after a reopen: " + json);
    })) {
      assertEquals(3, j.read(EventJournal.Position.START, 10).entries().size());
      j.append("{\"n\":\"new\"}").get();
    }
    try (EventJournal j = EventJournal.open(dir, 1 << 20, 1L << 30, (json, later) -> {
      throw new AssertionError("events of this version are never checked: " + json);
    })) {
      assertEquals(4, j.read(EventJournal.Position.START, 10).entries().size());
    }
  }

  @Test
  void abortsOfTrimmedSegmentsAreForgotten(@TempDir Path dir) throws Exception {
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      for (int i = 0; i < 200; i++) {
        j.append("{\"n\":" + i + ",\"pad\":\"" + "x".repeat(40) + "\"}").get();
      }
    }
    StringBuilder aborts = new StringBuilder(); // an earlier version aborted every tenth event
    for (int seq = 1; seq <= 200; seq += 10) {
      aborts.append(seq).append('\n');
    }
    Files.writeString(dir.resolve("aborted"), aborts);
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      assertEquals(20, abortedInFile(dir).size());
      assertTrue(segments(dir).size() > 2);
      j.trimBefore(j.end());
      long first = Long.parseLong(segments(dir).get(0).getFileName().toString().replace(".log", ""));
      assertTrue(first > 1);
      assertTrue(abortedInFile(dir).stream().allMatch(seq -> seq >= first),
          "aborts in trimmed segments leave the file: " + abortedInFile(dir) + ", first kept seq " + first);
      assertEquals(abortedInFile(dir).size(), j.abortedCount(), "and the memory");
      assertTrue(j.abortedCount() < 20);
    }
    try (EventJournal j = EventJournal.open(dir, SEGMENT, 1L << 30)) {
      List<EventJournal.Entry> left = j.read(EventJournal.Position.START, 1000).entries();
      assertTrue(left.stream().noneMatch(e -> e.json().matches("\\{\"n\":\\d*0,.*")), "aborted events stay hidden");
    }
  }

  private static List<Long> abortedInFile(Path dir) throws Exception {
    return Files.readAllLines(dir.resolve("aborted")).stream().filter(l -> !l.isBlank()).map(Long::parseLong).toList();
  }

  private static void appendAll(EventJournal j, int from, int to) throws Exception {
    for (int i = from; i < to; i++) {
      j.append("{\"n\":" + i + "}").get();
    }
  }

  private static List<Long> seqs(EventJournal.Batch b) {
    return b.entries().stream().map(EventJournal.Entry::seq).toList();
  }

  private static List<Path> segments(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".log")).sorted().toList();
    }
  }

  private static Path onlySegment(Path dir) throws Exception {
    List<Path> s = segments(dir);
    assertEquals(1, s.size(), s.toString());
    return s.get(0);
  }
}
