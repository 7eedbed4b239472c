package io.flotilla.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Crash-safe file primitives: every durable write is temp file, fsync, atomic rename, fsync of the
 * directory. A reader therefore sees either the old file or the whole new one, never a torn one.
 * All methods block: call them from worker threads only.
 */
public final class Fs {
  private Fs() {}

  /** Writes {@code data} to {@code target} atomically and durably, creating parent folders. */
  public static void writeAtomic(Path target, byte[] data) {
    Path dir = target.getParent();
    Path tmp = dir.resolve("._tmp-" + UUID.randomUUID());
    try {
      createDirectoriesDurably(dir);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(data);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      moveAtomic(tmp, target);
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new UncheckedIOException("write " + target, e);
    }
  }

  /**
   * Atomic but not durable: a reader sees the old or the new file, and a process crash keeps it,
   * but a power loss may take it back. For state whose loss only makes a client start over.
   */
  public static void writeAtomicNoSync(Path target, byte[] data) {
    Path tmp = target.resolveSibling("._tmp-" + UUID.randomUUID());
    try {
      Files.write(tmp, data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new UncheckedIOException("write " + target, e);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort: start-up removes any temp file that survives
    }
  }

  /** Renames {@code source} over {@code target} atomically and fsyncs the target's folder. */
  public static void moveAtomic(Path source, Path target) throws IOException {
    createDirectoriesDurably(target.getParent());
    try {
      Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the data directory's file system cannot rename atomically", e);
    }
    fsyncDir(target.getParent());
  }

  /** Creates {@code dir} and its parents, fsyncing each folder that was created and its parent. */
  public static void createDirectoriesDurably(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.getParent();
    if (parent != null) {
      createDirectoriesDurably(parent);
    }
    try {
      Files.createDirectory(dir);
    } catch (FileAlreadyExistsException e) {
      return;
    }
    if (parent != null) {
      fsyncDir(parent);
    }
  }

  /** Deletes a file if present and fsyncs its folder; returns whether it existed. */
  public static boolean deleteDurably(Path file) {
    try {
      boolean existed = Files.deleteIfExists(file);
      if (existed) {
        fsyncDir(file.getParent());
      }
      return existed;
    } catch (IOException e) {
      throw new UncheckedIOException("delete " + file, e);
    }
  }

  /** Flushes a folder's entries (renames, creations, deletions) to disk. */
  public static void fsyncDir(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (NoSuchFileException e) {
      // The folder is gone: nothing of ours remains in it to make durable.
    }
  }

  /** Removes a folder tree, ignoring what is already gone. */
  public static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("delete " + root, e);
    }
  }
}
