package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FsTest {
  @TempDir
  Path dir;

  private static List<String> names(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static List<Path> tempFilesUnder(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.getFileName().toString().startsWith("._tmp-")).toList();
    }
  }

  @Test
  void writeAtomicCreatesParentsAndLeavesNoTempFile() throws IOException {
    Path target = dir.resolve("a").resolve("b").resolve("file");
    Fs.writeAtomic(target, "hello".getBytes(StandardCharsets.UTF_8));
    assertEquals("hello", Files.readString(target));
    assertEquals(List.of("file"), names(target.getParent()));
  }

  @Test
  void writeAtomicReplacesContentWholly() throws IOException {
    Path target = dir.resolve("file");
    byte[] big = new byte[256 * 1024];
    java.util.Arrays.fill(big, (byte) 'x');
    Fs.writeAtomic(target, big);
    Fs.writeAtomic(target, "short".getBytes(StandardCharsets.UTF_8));
    // The new content replaces the old one entirely (no tail of the longer old file survives).
    assertEquals("short", Files.readString(target));
    Fs.writeAtomic(target, new byte[0]);
    assertEquals(0, Files.size(target));
    assertEquals(List.of("file"), names(dir));
  }

  @Test
  void writeAtomicConcurrentWritersLeaveOneWholeValue() throws Exception {
    Path target = dir.resolve("tag");
    int writers = 8;
    List<byte[]> values = new java.util.ArrayList<>();
    for (int i = 0; i < writers; i++) {
      byte[] v = new byte[64 * 1024];
      java.util.Arrays.fill(v, (byte) ('a' + i));
      values.add(v);
    }
    var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      var futures = new java.util.ArrayList<java.util.concurrent.Future<?>>();
      for (int round = 0; round < 5; round++) {
        for (byte[] v : values) {
          futures.add(pool.submit(() -> Fs.writeAtomic(target, v)));
        }
      }
      for (var f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    byte[] got = Files.readAllBytes(target);
    assertTrue(values.stream().anyMatch(v -> java.util.Arrays.equals(v, got)), "file is one writer's whole value");
    assertEquals(List.of("tag"), names(dir));
  }

  /**
   * A write that fails after its temp file was created (here: the target is a non-empty folder, in
   * production typically ENOSPC while writing) must not leave the temp file behind: temp files in
   * the blob store are never cleaned up by anything else.
   */
  @Test
  void failedWriteAtomicLeavesNoTempFile() throws IOException {
    Path target = dir.resolve("occupied");
    Files.createDirectories(target.resolve("child"));
    assertThrows(UncheckedIOException.class, () -> Fs.writeAtomic(target, "x".getBytes(StandardCharsets.UTF_8)));
    assertTrue(Files.isDirectory(target.resolve("child")), "the existing folder is untouched");
    assertEquals(List.of(), tempFilesUnder(dir), "temp files left behind by a failed write");
  }

  @Test
  void moveAtomicReplacesTarget() throws IOException {
    Path src = dir.resolve("src");
    Path target = dir.resolve("x").resolve("target");
    Files.writeString(src, "new");
    Fs.moveAtomic(src, target);
    assertFalse(Files.exists(src));
    assertEquals("new", Files.readString(target));
    Files.writeString(src, "newer");
    Fs.moveAtomic(src, target);
    assertEquals("newer", Files.readString(target));
  }

  @Test
  void createDirectoriesDurablyIsIdempotent() throws IOException {
    Path d = dir.resolve("x").resolve("y").resolve("z");
    Fs.createDirectoriesDurably(d);
    assertTrue(Files.isDirectory(d));
    Fs.createDirectoriesDurably(d);
    assertTrue(Files.isDirectory(d));
  }

  @Test
  void deleteDurablyReportsWhetherTheFileExisted() throws IOException {
    Path f = dir.resolve("f");
    Files.writeString(f, "x");
    assertTrue(Fs.deleteDurably(f));
    assertFalse(Files.exists(f));
    assertFalse(Fs.deleteDurably(f));
    assertFalse(Fs.deleteDurably(dir.resolve("missing").resolve("f")));
  }

  @Test
  void deleteTreeRemovesEverythingAndToleratesMissing() throws IOException {
    Path root = dir.resolve("tree");
    Files.createDirectories(root.resolve("a").resolve("b"));
    Files.writeString(root.resolve("a").resolve("b").resolve("f"), "x");
    Files.writeString(root.resolve("g"), "y");
    Fs.deleteTree(root);
    assertFalse(Files.exists(root));
    Fs.deleteTree(root);
    assertArrayEquals(new String[0], names(dir).toArray(new String[0]));
  }
}
