package io.flotilla.content;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.storage.Fs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * This node's copy of every content object ({@link ContentRecord}s), all in memory for reads and
 * each saved in its own file, {@code <dataDir>/_content/<kind>/<hash of key>.json}, replaced
 * atomically and durably ({@link Fs#writeAtomic}) before the method that changed it returns: a crash
 * leaves the old record or the new one. A write gets a revision above the one it replaces and above
 * this node's clock in milliseconds (a hybrid clock), so a later write on any node wins. Deletes leave
 * tombstones; {@link #forget} drops tombstones older than a retention.
 *
 * <p>Reads are lock-free and safe on an event loop; {@link #put}, {@link #delete}, {@link #merge}
 * and {@link #open} touch the disk: call them from worker threads. Listeners hear every record that
 * changed here, written locally or merged from a peer, after it was saved.
 */
public final class ContentStore {
  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Path dir;
  private final String nodeId;
  private final LongSupplier clock;
  private final Map<String, ContentRecord> records = new ConcurrentHashMap<>();
  private final List<Consumer<ContentRecord>> listeners = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();

  private ContentStore(Path dir, String nodeId, LongSupplier clock) {
    this.dir = dir;
    this.nodeId = nodeId;
    this.clock = clock;
  }

  /** Loads every record under {@code <dataDir>/_content}. Blocking. */
  public static ContentStore open(Path dataDir, String nodeId) {
    return open(dataDir, nodeId, System::currentTimeMillis);
  }

  /** As above, with a clock (tests). */
  public static ContentStore open(Path dataDir, String nodeId, LongSupplier clock) {
    ContentStore s = new ContentStore(dataDir.resolve("_content"), nodeId, clock);
    s.load();
    return s;
  }

  private void load() {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir, 2)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
        ContentRecord r = JSON.readValue(Files.readAllBytes(f), ContentRecord.class);
        ContentRecord old = records.get(r.id());
        if (old == null || r.laterThan(old)) {
          records.put(r.id(), r);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir, e);
    }
  }

  /** This node's name (what its writes are stamped with). */
  public String nodeId() {
    return nodeId;
  }

  /** Hears every record that changed on this node (after it was saved), on the thread that changed it. */
  public void listen(Consumer<ContentRecord> listener) {
    listeners.add(listener);
  }

  /** The live record of a key. */
  public Optional<ContentRecord> get(String kind, String key) {
    ContentRecord r = records.get(ContentRecord.id(kind, key));
    return r == null || r.deleted() ? Optional.empty() : Optional.of(r);
  }

  /** Every live record of a kind, in no particular order. */
  public List<ContentRecord> list(String kind) {
    List<ContentRecord> out = new ArrayList<>();
    for (ContentRecord r : records.values()) {
      if (!r.deleted() && r.kind().equals(kind)) {
        out.add(r);
      }
    }
    return out;
  }

  /** Every record, tombstones included (what this node offers its peers). */
  public List<ContentRecord> snapshot() {
    return List.copyOf(records.values());
  }

  /** Writes {@code body} under the key with a new revision; returns the saved record. Blocking. */
  public ContentRecord put(String kind, String key, String body) {
    return write(kind, key, body, false);
  }

  /** Deletes the key (a tombstone); returns it, or empty when there was nothing live. Blocking. */
  public Optional<ContentRecord> delete(String kind, String key) {
    synchronized (lock) {
      if (get(kind, key).isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(write(kind, key, "", true));
    }
  }

  private ContentRecord write(String kind, String key, String body, boolean deleted) {
    ContentRecord saved;
    synchronized (lock) {
      ContentRecord old = records.get(ContentRecord.id(kind, key));
      long rev = Math.max(clock.getAsLong(), old == null ? 0 : old.rev() + 1);
      saved = new ContentRecord(kind, key, rev, nodeId, deleted, body);
      save(saved);
      records.put(saved.id(), saved);
    }
    listeners.forEach(l -> l.accept(saved));
    return saved;
  }

  /** Takes the records of a peer that win over this node's; returns those that changed anything. Blocking. */
  public List<ContentRecord> merge(Collection<ContentRecord> incoming) {
    List<ContentRecord> changed = new ArrayList<>();
    synchronized (lock) {
      for (ContentRecord r : incoming) {
        ContentRecord old = records.get(r.id());
        if (old == null || r.laterThan(old)) {
          save(r);
          records.put(r.id(), r);
          changed.add(r);
        }
      }
    }
    changed.forEach(r -> listeners.forEach(l -> l.accept(r)));
    return changed;
  }

  /** Drops tombstones written before {@code beforeMillis} (revisions are milliseconds). Blocking. */
  public int forget(long beforeMillis) {
    int n = 0;
    synchronized (lock) {
      for (ContentRecord r : List.copyOf(records.values())) {
        if (r.deleted() && r.rev() < beforeMillis) {
          records.remove(r.id());
          Fs.deleteDurably(file(r.kind(), r.key()));
          n++;
        }
      }
    }
    return n;
  }

  private void save(ContentRecord r) {
    try {
      Fs.writeAtomic(file(r.kind(), r.key()), JSON.writeValueAsBytes(r));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save " + r.kind() + " " + r.key(), e);
    }
  }

  private Path file(String kind, String key) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
      return dir.resolve(kind).resolve(HexFormat.of().formatHex(h, 0, 16) + ".json");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
