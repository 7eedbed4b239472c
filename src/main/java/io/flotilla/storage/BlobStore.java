package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Content-addressed blob files, shared by all repositories (each blob is stored once):
 * {@code <root>/blobs/<algorithm>/<first two hex>/<hex>}. A blob file only ever appears by atomic
 * rename of a fully written, fsynced and digest-verified temp file, so its presence means its
 * content is complete and correct. Which repositories may see a blob is the
 * {@link MetadataStore}'s business. Methods block; call them from worker threads.
 *
 * <p>Every write that makes a blob visible somewhere (commit of an upload, a manifest's bytes, a
 * mount, a replica link) is a <em>link section</em>: it stores or touches the file and runs the
 * caller's metadata write under the blob's lock, inside a shared lock that a garbage collection
 * run takes exclusively for an instant when it begins its mark ({@link #beginMark}). Sections
 * begun after that are recorded in the run's {@link Mark}, which the sweep checks under the same
 * blob lock; so the sweep never deletes a blob that a link made during the run points at, whatever
 * the clocks say (see {@link GarbageCollector}). Lock order: mark lock, then blob lock, then a
 * repository's lock; nothing takes them the other way round.
 */
public final class BlobStore {
  private final Path root;
  private final Object[] stripes = new Object[64];
  /** Held shared by every link section, exclusively while a mark begins. */
  private final ReentrantReadWriteLock markLock = new ReentrantReadWriteLock();
  private final AtomicReference<Mark> mark = new AtomicReference<>();
  private final java.util.concurrent.atomic.AtomicLong storedBytes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong storedBlobs = new java.util.concurrent.atomic.AtomicLong();

  public BlobStore(Path dataDir) {
    this.root = dataDir.resolve("blobs");
    this.counted = !Files.exists(root); // a new node stores nothing: nothing to count
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
  }

  /**
   * The start-up walk of the blob tree, proportional to the data, so it runs in the background
   * after the node is up: removes the temp files ({@code ._tmp-*}) of writes a crash cut short (those
   * last modified before {@code beforeMillis}, the node's start: a write in progress keeps its own)
   * and counts what is stored. Until it ends, {@link #storedBytes()} and {@link #storedBlobs()} are
   * unknown; blobs stored or deleted while it walks may be counted twice or missed (the gauges are
   * off by that many until the next {@link #recount}). Blocking.
   *
   * @return how many temp files were removed
   */
  public int startupWalk(long beforeMillis) throws IOException {
    int removed = 0;
    if (Files.isDirectory(root)) {
      try (var walk = Files.walk(root)) {
        for (Path p : walk.filter(f -> f.getFileName().toString().startsWith("._tmp-")).toList()) {
          try {
            if (Files.getLastModifiedTime(p).toMillis() < beforeMillis && Files.deleteIfExists(p)) {
              removed++;
            }
          } catch (NoSuchFileException gone) {
            // renamed into place or removed meanwhile
          }
        }
      }
    }
    recount();
    return removed;
  }

  /** Counts what is stored (a walk of the blob tree) and makes that the base of the live counters; blocking. */
  public synchronized void recount() {
    storedBytes.set(0);
    storedBlobs.set(0);
    long[] t = new long[2];
    forEach(b -> {
      t[0]++;
      t[1] += b.size();
    });
    storedBlobs.addAndGet(t[0]);
    storedBytes.addAndGet(t[1]);
    counted = true;
  }

  private volatile boolean counted;

  /** De-duplicated bytes of all stored blobs; NaN until the start-up walk has counted them. */
  public Number storedBytes() {
    return counted ? storedBytes.get() : Double.NaN;
  }

  /** Stored blobs; NaN until the start-up walk has counted them. */
  public Number storedBlobs() {
    return counted ? storedBlobs.get() : Double.NaN;
  }

  private Object stripe(Digest d) {
    return stripes[Math.floorMod(d.hex().hashCode(), stripes.length)];
  }

  /**
   * Marks an existing blob as just used, so a concurrent garbage collection keeps it. Returns false
   * when the blob is not stored.
   */
  public boolean touch(Digest digest) {
    return linkIfStored(digest, size -> { });
  }

  /**
   * A link section for a blob that is already stored: under the blob's lock, marks it just used,
   * records it for a collection run in progress, and runs {@code link} with the stored file's size
   * (which is what a repository must link, whatever a caller or a manifest claims). Returns false,
   * without running {@code link}, when the blob is not stored.
   */
  boolean linkIfStored(Digest digest, LongConsumer link) {
    markLock.readLock().lock();
    try {
      synchronized (stripe(digest)) {
        long size = touchLocked(digest);
        if (size < 0) {
          return false;
        }
        recordLinked(digest);
        link.accept(size);
        return true;
      }
    } finally {
      markLock.readLock().unlock();
    }
  }

  /** Sets the blob's modification time to now; returns its size, or -1 when it is not stored. */
  private long touchLocked(Digest digest) {
    Path p = path(digest);
    try {
      Files.setLastModifiedTime(p, FileTime.fromMillis(System.currentTimeMillis()));
      return Files.readAttributes(p, BasicFileAttributes.class).size();
    } catch (NoSuchFileException e) {
      return -1;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void recordLinked(Digest digest) {
    Mark m = mark.get();
    if (m != null) {
      m.linked.add(digest);
    }
  }

  /**
   * Starts a collection run's mark: from here until the mark is closed, every blob that goes
   * through a link section is recorded in it. Waits for link sections in progress to finish, so
   * that each link is either complete before the mark begins (and the run's mark phase sees it)
   * or recorded in the mark (and the run must spare the blob). One mark at a time.
   */
  Mark beginMark() {
    markLock.writeLock().lock();
    try {
      Mark m = new Mark();
      if (!mark.compareAndSet(null, m)) {
        throw new IllegalStateException("a garbage collection mark is already open");
      }
      return m;
    } finally {
      markLock.writeLock().unlock();
    }
  }

  /** Deletes a blob unless it was touched after {@code notAfterMillis} or linked since the open mark began; returns the bytes freed or -1. */
  public long deleteIfUnusedSince(Digest digest, long notAfterMillis) {
    synchronized (stripe(digest)) {
      Path p = path(digest);
      try {
        Mark m = mark.get();
        if (m != null && m.contains(digest)) {
          return -1;
        }
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

  /** {@link #commit(Path, Digest, LongConsumer)} without linking. */
  public void commit(Path verifiedTemp, Digest digest) throws IOException {
    commit(verifiedTemp, digest, size -> { });
  }

  /**
   * Moves a verified temp file into place and, in the same link section (see
   * {@link #linkIfStored}), runs {@code link} with the stored size, which it also returns. If the
   * blob is already stored (another push of the same content won), the temp file is dropped:
   * content addressing makes both copies identical. The blob's modification time is now either
   * way, never the upload file's: a session finished long after its last chunk is a young blob.
   */
  long commit(Path verifiedTemp, Digest digest, LongConsumer link) throws IOException {
    Path target = path(digest);
    Fs.createDirectoriesDurably(target.getParent());
    markLock.readLock().lock();
    try {
      synchronized (stripe(digest)) {
        long size = touchLocked(digest);
        if (size >= 0) {
          Files.deleteIfExists(verifiedTemp);
        } else {
          size = Files.size(verifiedTemp);
          Files.setLastModifiedTime(verifiedTemp, FileTime.fromMillis(System.currentTimeMillis()));
          Fs.moveAtomic(verifiedTemp, target);
          storedBytes.addAndGet(size);
          storedBlobs.incrementAndGet();
        }
        recordLinked(digest);
        link.accept(size);
        return size;
      }
    } finally {
      markLock.readLock().unlock();
    }
  }

  /** Stores small in-memory content (manifests) under its digest, atomically. */
  public void put(Digest digest, byte[] content) {
    put(digest, content, size -> { });
  }

  /**
   * Stores small in-memory content under its digest, atomically, and runs {@code link} with its
   * size in the same link section (see {@link #linkIfStored}).
   */
  void put(Digest digest, byte[] content, LongConsumer link) {
    markLock.readLock().lock();
    try {
      synchronized (stripe(digest)) {
        long size = touchLocked(digest);
        if (size < 0) {
          Fs.writeAtomic(path(digest), content);
          size = content.length;
          storedBytes.addAndGet(size);
          storedBlobs.incrementAndGet();
        }
        recordLinked(digest);
        link.accept(size);
      }
    } finally {
      markLock.readLock().unlock();
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

  /**
   * The blobs linked since a collection run began marking (see {@link #beginMark}); the run must
   * not collect them. Closing it ends the recording.
   */
  final class Mark implements AutoCloseable {
    private final Set<Digest> linked = ConcurrentHashMap.newKeySet();

    boolean contains(Digest digest) {
      return linked.contains(digest);
    }

    @Override
    public void close() {
      mark.compareAndSet(this, null);
    }
  }
}
