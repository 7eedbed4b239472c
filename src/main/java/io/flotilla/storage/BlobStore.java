package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Content-addressed blob files, shared by all repositories (each blob is stored once):
 * {@code <root>/blobs/<algorithm>/<first two hex>/<hex>}. A blob file only ever appears by atomic
 * rename of a fully written, fsynced and digest-verified temp file, so its presence means its
 * content is complete and correct. Which repositories may see a blob is the
 * {@link MetadataStore}'s business. Methods block; call them from worker threads.
 */
public final class BlobStore {
  private final Path root;
  private final Object[] stripes = new Object[64];
  private final java.util.concurrent.atomic.AtomicLong storedBytes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong storedBlobs = new java.util.concurrent.atomic.AtomicLong();

  public BlobStore(Path dataDir) {
    this.root = dataDir.resolve("blobs");
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
  }

  /** Counts what is stored and removes temp files a crash left; blocking, once at start-up. */
  public void load() throws IOException {
    if (Files.isDirectory(root)) {
      try (var walk = Files.walk(root)) {
        for (Path p : walk.filter(f -> f.getFileName().toString().startsWith("._tmp-")).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
    forEach(b -> {
      storedBytes.addAndGet(b.size());
      storedBlobs.incrementAndGet();
    });
  }

  /** De-duplicated bytes of all stored blobs. */
  public long storedBytes() {
    return storedBytes.get();
  }

  public long storedBlobs() {
    return storedBlobs.get();
  }

  private Object stripe(Digest d) {
    return stripes[Math.floorMod(d.hex().hashCode(), stripes.length)];
  }

  /**
   * Marks an existing blob as just used, so a concurrent garbage collection (which re-checks the
   * time under the same lock) keeps it. Returns false when the blob is not stored.
   */
  public boolean touch(Digest digest) {
    synchronized (stripe(digest)) {
      try {
        Files.setLastModifiedTime(path(digest), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        return true;
      } catch (NoSuchFileException e) {
        return false;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Deletes a blob unless it was touched after {@code notAfterMillis}; returns the bytes freed or -1. */
  public long deleteIfUnusedSince(Digest digest, long notAfterMillis) {
    synchronized (stripe(digest)) {
      Path p = path(digest);
      try {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        if (a.lastModifiedTime().toMillis() > notAfterMillis) {
          return -1;
        }
        Fs.deleteDurably(p);
        storedBytes.addAndGet(-a.size());
        storedBlobs.decrementAndGet();
        return a.size();
      } catch (NoSuchFileException e) {
        return -1;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public Path path(Digest digest) {
    return root.resolve(digest.algorithm().id()).resolve(digest.hex().substring(0, 2)).resolve(digest.hex());
  }

  /** Size of the blob, or -1 when it is not stored. */
  public long size(Digest digest) {
    try {
      return Files.readAttributes(path(digest), BasicFileAttributes.class).size();
    } catch (NoSuchFileException e) {
      return -1;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Moves a verified temp file into place. If the blob is already stored (another push of the same
   * content won), the temp file is dropped: content addressing makes both copies identical.
   */
  public void commit(Path verifiedTemp, Digest digest) throws IOException {
    Path target = path(digest);
    if (touch(digest)) {
      Files.deleteIfExists(verifiedTemp);
      return;
    }
    Fs.createDirectoriesDurably(target.getParent());
    synchronized (stripe(digest)) {
      if (Files.exists(target)) {
        Files.deleteIfExists(verifiedTemp);
        return;
      }
      long size = Files.size(verifiedTemp);
      Fs.moveAtomic(verifiedTemp, target);
      storedBytes.addAndGet(size);
      storedBlobs.incrementAndGet();
    }
  }

  /** Stores small in-memory content (manifests) under its digest, atomically. */
  public void put(Digest digest, byte[] content) {
    if (touch(digest)) {
      return;
    }
    synchronized (stripe(digest)) {
      if (Files.exists(path(digest))) {
        return;
      }
      Fs.writeAtomic(path(digest), content);
      storedBytes.addAndGet(content.length);
      storedBlobs.incrementAndGet();
    }
  }

  public byte[] read(Digest digest) throws IOException {
    return Files.readAllBytes(path(digest));
  }

  /** Visits every stored blob with its last-modified time, for garbage collection. */
  public void forEach(Consumer<StoredBlob> visitor) {
    for (DigestAlgorithm algorithm : DigestAlgorithm.values()) {
      Path algRoot = root.resolve(algorithm.id());
      if (!Files.isDirectory(algRoot)) {
        continue;
      }
      try (var prefixes = Files.list(algRoot)) {
        for (Path prefix : (Iterable<Path>) prefixes::iterator) {
          List<Path> files = new ArrayList<>();
          try (var list = Files.list(prefix)) {
            list.forEach(files::add);
          }
          for (Path f : files) {
            Digest d;
            try {
              d = new Digest(algorithm, f.getFileName().toString());
            } catch (RuntimeException notABlob) {
              continue;
            }
            try {
              BasicFileAttributes attrs = Files.readAttributes(f, BasicFileAttributes.class);
              visitor.accept(new StoredBlob(d, attrs.size(), attrs.lastModifiedTime().toMillis()));
            } catch (NoSuchFileException gone) {
              // deleted concurrently
            }
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A blob as found on disk. */
  public record StoredBlob(Digest digest, long size, long modifiedMillis) {}
}
