package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.MetaValues.Summary;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Repository metadata: tags, manifest records, blob links, the referrers index and the tombstones
 * of deletes, kept in the node's {@link MetaDb} (RocksDB under {@code <dataDir>/metadata}, keys in
 * {@link MetaKeys}). Each operation is one atomic, synced write batch; concurrent operations share
 * WAL fsyncs (group commit). Hot repositories are held in memory by a bounded {@link RepoCache} and
 * read lock-free from there; the catalog, repository list, versions and fingerprints come from the
 * repositories' summaries without loading them. Start-up only opens the database (and, once, moves
 * an old file layout in: {@link FileLayoutMigration}).
 *
 * <p><b>Deletes stay deleted.</b> Every tag, manifest and tombstone carries a time; copies of a
 * repository on other nodes converge by last-writer-wins on those times: a tag set at {@code t}
 * survives a delete stamped {@code t' < t} and loses to one stamped {@code t' > t}; a manifest
 * created (on the node that first stored it) before its tombstone is not copied back. A delete made
 * here is stamped after the entry it removes, so it always wins over what it saw. Tombstones are
 * kept for {@code storage.tombstoneRetention} and then pruned by garbage collection, together with
 * repositories that hold nothing any more.
 *
 * <p>Writers block (call them on worker threads) and run under the repository's lock; readers may
 * run on any thread (a repository not in the cache is loaded on the caller's thread).
 */
public final class MetadataStore implements AutoCloseable {
  /** What the cache may hold when the caller does not say: about an eighth of the heap at ~1 KiB per entry. */
  static final long DEFAULT_CACHE_WEIGHT = Math.max(10_000, Runtime.getRuntime().maxMemory() / 8 / 1024);

  private final Path dataDir;
  private final long cacheWeight;
  private final FileLayoutMigration.Hook migrationHook;
  private volatile MetaDb db;
  private volatile RepoCache cache;

  public MetadataStore(Path dataDir) {
    this(dataDir, DEFAULT_CACHE_WEIGHT, FileLayoutMigration.Hook.NONE);
  }

  /** @param cacheWeight how many entries (tags, manifests, links, tombstones) the cache may hold */
  MetadataStore(Path dataDir, long cacheWeight, FileLayoutMigration.Hook migrationHook) {
    this.dataDir = dataDir;
    this.cacheWeight = cacheWeight;
    this.migrationHook = migrationHook;
  }

  // ------------------------------------------------------------------ opening and closing

  /**
   * Opens the database, and moves an old file layout ({@code <dataDir>/repositories/**&#47;_meta})
   * into it if one is there; blocking, once at start-up.
   */
  public void load() throws IOException {
    MetaDb opened = MetaDb.open(dataDir.resolve("metadata"));
    try {
      new FileLayoutMigration(dataDir, opened, migrationHook).run();
    } catch (IOException | RuntimeException e) {
      opened.close();
      throw e;
    }
    this.cache = new RepoCache(cacheWeight, this::loadRepo);
    this.db = opened;
  }

  /** Closes the database (idempotent); the store cannot be used afterwards. */
  @Override
  public void close() {
    MetaDb d = db;
    if (d != null) {
      d.close();
    }
  }

  /** The database (tests and measurements). */
  MetaDb db() {
    return db;
  }

  RepoCache cache() {
    return cache;
  }

  /** Reads a whole repository from the database; null when it is not stored. */
  private RepoState loadRepo(RepositoryName name) {
    byte[] summary = db.get(MetaKeys.summary(name));
    if (summary == null) {
      return null;
    }
    Summary s = MetaValues.summary(summary);
    RepoState r = new RepoState(name);
    r.clearedMillis = s.clearedMillis();
    r.saw(s.clearedMillis());
    db.scan(MetaKeys.repoPrefix("m", name), (k, v) -> {
      r.indexManifest(MetaValues.manifest(v));
      return true;
    });
    db.scan(MetaKeys.repoPrefix("t", name), (k, v) -> {
      MetaValues.TagValue t = MetaValues.tag(v);
      r.putTag(MetaKeys.last(k), t.digest(), t.millis(), t.replaced());
      return true;
    });
    db.scan(MetaKeys.repoPrefix("b", name), (k, v) -> {
      MetaValues.BlobLink l = MetaValues.blob(v);
      r.blobs.put(Digest.parse(MetaKeys.last(k)), new long[] {l.size(), l.linkedMillis()});
      return true;
    });
    db.scan(MetaKeys.repoPrefix("x", name), (k, v) -> {
      String[] f = MetaKeys.fields(k);
      long millis = MetaValues.millis(v);
      r.saw(millis);
      if (f[1].equals("t")) {
        r.deletedTags.put(f[2], millis);
      } else {
        r.deletedManifests.put(Digest.parse(f[2]), millis);
      }
      return true;
    });
    r.stored = true;
    r.restamp(s.version());
    return r;
  }

  /** The summary of a repository: from the cache when it is held there, else from the database. */
  private Summary summary(RepositoryName name) {
    RepoState r = cache.cached(name);
    if (r != null && !r.retired) {
      return r.stored ? r.summary() : null;
    }
    byte[] v = db.get(MetaKeys.summary(name));
    return v == null ? null : MetaValues.summary(v);
  }

  // ------------------------------------------------------------------ reads (any thread)

  /**
   * Whether the repository's metadata is in memory now, so reads of it do no I/O (false also for
   * a repository that is not stored: finding that out reads the database).
   */
  public boolean isCached(RepositoryName name) {
    RepoState r = cache.cached(name);
    return r != null && !r.retired && r.stored;
  }

  /** Loads the repository into memory if it is stored and not there yet; blocking. */
  public void preload(RepositoryName name) {
    repo(name);
  }

  /** The repository, or null if nothing is stored for it. */
  RepoState repo(RepositoryName name) {
    RepoState r = cache.get(name);
    return r == null || !r.stored ? null : r;
  }

  public ManifestMeta manifest(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    return r == null ? null : r.manifests.get(digest);
  }

  public Digest tag(RepositoryName name, Tag tag) {
    RepoState r = repo(name);
    return r == null ? null : r.tags.get(tag.value());
  }

  /**
   * The repository's order on this node: the stamp of the newest record in it (a write through
   * this node is stamped after it), 0 when nothing is recorded. May load the repository: blocking.
   */
  public long order(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? 0 : r.newest;
  }

  /**
   * {@link #order}, answered only from memory (for event loops): -1 when the repository is not
   * cached. Takes the name as a string already validated by the request it comes from, so the
   * event of every pull does not validate it again.
   */
  public long cachedOrder(String repository) {
    RepoState r = cache.cached(repository);
    return r == null || r.retired ? -1 : r.newest;
  }

  /** When a tag was last set, or 0 when it is not set. */
  public long tagTime(RepositoryName name, Tag tag) {
    RepoState r = repo(name);
    return r == null || !r.tags.containsKey(tag.value()) ? 0 : r.tagTimes.getOrDefault(tag.value(), 0L);
  }

  /**
   * The newest time the writer of a tag knew for it when it set it (the set or delete it replaced;
   * 0 when unknown or not set): a copy of the tag newer than that was not seen by that writer.
   */
  public long tagReplaced(RepositoryName name, Tag tag) {
    RepoState r = repo(name);
    return r == null || !r.tags.containsKey(tag.value()) ? 0 : r.tagReplaced.getOrDefault(tag.value(), 0L);
  }

  /** A repository's fingerprint and the version of its state it belongs to (0, 0 when not held here). */
  public StorageTypes.Fingerprint fingerprintAt(RepositoryName name) {
    RepoState r = cache.cached(name);
    if (r != null && !r.retired && r.stored) {
      RepoState.Stamp s = r.stamp;
      return new StorageTypes.Fingerprint(s.version(), s.fingerprint());
    }
    Summary s = summary(name);
    return s == null ? new StorageTypes.Fingerprint(0, 0) : new StorageTypes.Fingerprint(s.version(), s.fingerprint());
  }

  /** Size of a blob linked into the repository, or -1 when it is not visible there. */
  public long blobSize(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    long[] v = r == null ? null : r.blobs.get(digest);
    return v == null ? -1 : v[0];
  }

  /** Whether the repository holds content (manifests, tags or blob links) here. */
  public boolean exists(RepositoryName name) {
    RepoState r = cache.cached(name);
    if (r != null && !r.retired) {
      return r.stored && !r.isEmpty();
    }
    Summary s = summary(name);
    return s != null && !s.isEmpty();
  }

  /** Tags after {@code last} (exclusive), at most {@code n}; plus whether more follow. */
  public Page tags(RepositoryName name, int n, String last) {
    RepoState r = repo(name);
    if (r == null || n == 0) {
      return new Page(List.of(), false);
    }
    var keys = last == null ? r.tags.navigableKeySet() : r.tags.navigableKeySet().tailSet(last, false);
    List<String> out = new ArrayList<>(Math.min(n, 1024));
    for (String k : keys) {
      if (out.size() == n) {
        return new Page(out, true);
      }
      out.add(k);
    }
    return new Page(out, false);
  }

  /** Non-empty repository names after {@code last}, at most {@code n}; plus whether more follow. */
  public Page catalog(int n, String last) {
    return catalog(n, last, name -> true);
  }

  /**
   * A catalog page of the repositories {@code visible} accepts (paging counts only those): an
   * ordered scan of the repository summaries from {@code last} on.
   */
  public Page catalog(int n, String last, Predicate<String> visible) {
    if (n == 0) {
      return new Page(List.of(), false);
    }
    List<String> out = new ArrayList<>(Math.min(n, 1024));
    boolean[] more = {false};
    byte[] prefix = MetaKeys.summaryPrefix();
    byte[] from = last == null ? prefix : MetaKeys.summary(last);
    db.scan(prefix, from, (k, v) -> {
      String name = MetaKeys.last(k);
      if (name.equals(last) || MetaValues.summary(v).isEmpty() || !visible.test(name)) {
        return true;
      }
      if (out.size() == n) {
        more[0] = true;
        return false;
      }
      out.add(name);
      return true;
    });
    return new Page(out, more[0]);
  }

  public List<ManifestMeta> referrers(RepositoryName name, Digest subject) {
    RepoState r = repo(name);
    if (r == null) {
      return List.of();
    }
    var set = r.referrers.get(subject);
    if (set == null) {
      return List.of();
    }
    List<ManifestMeta> out = new ArrayList<>(set.size());
    for (Digest d : set) {
      ManifestMeta m = r.manifests.get(d);
      if (m != null) {
        out.add(m);
      }
    }
    out.sort((a, b) -> a.digest().compareTo(b.digest()));
    return out;
  }

  /** The tombstones of a repository, for replication (all empty when there are none). */
  public Tombstones tombstones(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return new Tombstones(Map.of(), Map.of(), 0);
    }
    return new Tombstones(Map.copyOf(r.deletedTags), Map.copyOf(r.deletedManifests), r.clearedMillis);
  }

  /**
   * Deletes a repository remembers: tag and manifest tombstones (when each was deleted) and when the
   * whole repository was last deleted (0 = never).
   */
  public record Tombstones(Map<String, Long> tags, Map<Digest, Long> manifests, long clearedMillis) {}

  /** A counter that every change of the repository increments (0 when it is not held here). */
  public long version(RepositoryName name) {
    return fingerprintAt(name).version();
  }

  /**
   * Every repository stored here (empty ones too) with its fingerprint, in name order: one ordered
   * scan of the summaries, no lookup per repository; blocking.
   */
  public Map<RepositoryName, StorageTypes.Fingerprint> fingerprintsOfAll() {
    Map<RepositoryName, StorageTypes.Fingerprint> out = new java.util.LinkedHashMap<>();
    db.scan(MetaKeys.summaryPrefix(), (k, v) -> {
      Summary s = MetaValues.summary(v);
      out.put(RepositoryName.of(MetaKeys.last(k)), new StorageTypes.Fingerprint(s.version(), s.fingerprint()));
      return true;
    });
    return out;
  }

  private static final byte[] LAST_ALIVE = MetaKeys.internal("last-alive");

  /** When this node last recorded that it ran ({@link #markAlive}), 0 if never. */
  public long lastAlive() {
    byte[] v = db.get(LAST_ALIVE);
    return v == null || v.length != 8 ? 0 : java.nio.ByteBuffer.wrap(v).getLong();
  }

  /** Records, durably, that this node runs at {@code millis}. Blocks (a synced write). */
  public void markAlive(long millis) {
    try (MetaDb.Batch b = new MetaDb.Batch()) {
      b.put(LAST_ALIVE, java.nio.ByteBuffer.allocate(8).putLong(millis).array());
      db.commit(b);
    }
  }

  /** What {@link #discardAll} forgot. */
  public record Discarded(int repositories, int manifests, int tags) {}

  /**
   * Forgets every repository's metadata here (tombstones included), each in one batch; blob files
   * stay for garbage collection, and for a copy that brings the same blob back to link it again.
   */
  public Discarded discardAll() {
    int repositories = 0;
    int manifests = 0;
    int tags = 0;
    for (RepositoryName name : repositories()) {
      RepoState r = repo(name);
      if (r != null) {
        repositories++;
        manifests += r.manifests.size();
        tags += r.tags.size();
      }
      dropRepository(name);
    }
    return new Discarded(repositories, manifests, tags);
  }

  /** Whether any repository holds content here: a scan of the summaries that stops at the first non-empty one. */
  public boolean holdsContent() {
    boolean[] found = {false};
    db.scan(MetaKeys.summaryPrefix(), (k, v) -> {
      found[0] = !MetaValues.summary(v).isEmpty();
      return !found[0];
    });
    return found[0];
  }

  /** Every repository name, including empty ones (GC and usage), in name order. */
  public List<RepositoryName> repositories() {
    List<RepositoryName> out = new ArrayList<>();
    db.scan(MetaKeys.summaryPrefix(), (k, v) -> {
      out.add(RepositoryName.of(MetaKeys.last(k)));
      return true;
    });
    return out;
  }

  public Map<Digest, ManifestMeta> manifests(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? Map.of() : Map.copyOf(r.manifests);
  }

  /** Linked blobs of a repository: digest -> [size, linked-at millis]. */
  public Map<Digest, long[]> blobs(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? Map.of() : Map.copyOf(r.blobs);
  }

  /** Tag -> (digest, last set) of a repository, for replication. */
  public Map<String, Map.Entry<Digest, Long>> tagEntries(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return Map.of();
    }
    Map<String, Map.Entry<Digest, Long>> out = new java.util.TreeMap<>();
    for (var e : r.tags.entrySet()) {
      out.put(e.getKey(), Map.entry(e.getValue(), r.tagTimes.getOrDefault(e.getKey(), 0L)));
    }
    return out;
  }

  /**
   * A 64-bit value that changes whenever the repository's tags, manifests or tombstones change; equal
   * values on two nodes mean their copies agree (blob links are left out: copies link only what
   * their manifests reference). 0 when the repository is not held here.
   */
  public long fingerprint(RepositoryName name) {
    return fingerprintAt(name).value();
  }

  /** Whether this node keeps anything of the repository (content or tombstones). */
  public boolean holds(RepositoryName name) {
    return summary(name) != null;
  }

  /** One page of a sorted listing. */
  public record Page(List<String> items, boolean more) {}

  // ------------------------------------------------------------------ writes (worker threads)

  /**
   * Runs {@code action} under the repository's lock on a state that is current (a writer that
   * raced with a drop or an eviction gets a fresh state, so nothing is written into a repository
   * that was removed, and no commit is lost to a reload), then commits what it changed as one batch.
   */
  private <T> T write(RepositoryName name, Function<RepoChange, T> action) {
    while (true) {
      RepoState r = cache.getOrCreate(name);
      r.lock.lock();
      try {
        if (r.retired) {
          continue;
        }
        try {
          return commitLocked(r, action);
        } finally {
          if (!r.stored) {
            cache.remove(r); // nothing was ever committed: no empty repository stays behind
          }
        }
      } finally {
        r.lock.unlock();
      }
    }
  }

  /** Applies {@code action} to a change of {@code r} (locked, current) and commits it as one batch. */
  private <T> T commitLocked(RepoState r, Function<RepoChange, T> action) {
    try (RepoChange change = new RepoChange(r)) {
      T out = action.apply(change);
      if (change.commit(db)) {
        cache.reweigh(r);
        changed(r.name);
      }
      return out;
    }
  }

  private final java.util.List<java.util.function.Consumer<String>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Calls {@code listener} with a repository's name after each committed change to it, and after it
   * was dropped (on the writer's thread, under the repository's lock: it must only take note).
   */
  public void onChange(java.util.function.Consumer<String> listener) {
    listeners.add(listener);
  }

  private void changed(RepositoryName name) {
    for (var l : listeners) {
      l.accept(name.value());
    }
  }

  /** Like {@link #write} for a repository that must already be stored: returns {@code absent} when it is not. */
  private <T> T writeExisting(RepositoryName name, T absent, Function<RepoChange, T> action) {
    while (true) {
      RepoState r = repo(name);
      if (r == null) {
        return absent;
      }
      r.lock.lock();
      try {
        if (r.retired) {
          continue;
        }
        return commitLocked(r, action);
      } finally {
        r.lock.unlock();
      }
    }
  }

  /** Makes a stored blob visible in a repository. */
  public void linkBlob(RepositoryName name, Digest digest, long size) {
    write(name, c -> {
      if (!c.state().blobs.containsKey(digest)) {
        c.linkBlob(digest, size, System.currentTimeMillis());
      }
      return null;
    });
  }

  /** Hides a blob from a repository; returns whether it was linked. */
  public boolean unlinkBlob(RepositoryName name, Digest digest) {
    return writeExisting(name, false, c -> {
      if (!c.state().blobs.containsKey(digest)) {
        return false;
      }
      c.unlinkBlob(digest);
      return true;
    });
  }

  /** A client's push: see {@link #putManifest(RepositoryName, ManifestMeta, Tag, long, boolean, Runnable)}. */
  public void putManifest(RepositoryName name, ManifestMeta meta, Tag tag, Runnable check) {
    putManifest(name, meta, tag, 0, false, check);
  }

  /**
   * Records a manifest (whose bytes are already durable in the blob store) and optionally points a
   * tag at it, in one atomic batch. {@code check} runs under the repository lock first (reference
   * validation), so a concurrent delete of a referenced blob or child manifest cannot slip in
   * between the check and the write. A client's push ({@code replica} false) is stamped after any
   * delete of the same manifest or tag. A copy from another node ({@code replica} true) keeps
   * the times it had there ({@code meta.createdMillis()}, {@code tagMillis}) and loses, last writer
   * wins, to a newer delete or tag here.
   *
   * @param tagMillis when the tag was set (0 = now)
   * @return whether the manifest is recorded here afterwards
   */
  public boolean putManifest(RepositoryName name, ManifestMeta meta, Tag tag, long tagMillis, boolean replica,
      Runnable check) {
    return write(name, c -> {
      check.run();
      RepoState r = c.state();
      Digest d = meta.digest();
      if (!r.manifests.containsKey(d)) {
        long tomb = Math.max(r.clearedMillis, r.deletedManifests.getOrDefault(d, 0L));
        ManifestMeta m = meta;
        if (replica && meta.createdMillis() <= tomb) {
          return false; // deleted here after it was created there
        }
        long created = replica ? meta.createdMillis() : r.next(meta.createdMillis()); // a push: after the newest record
        if (created != meta.createdMillis()) {
          m = new ManifestMeta(d, meta.mediaType(), meta.size(), meta.artifactType(), meta.subject(),
              meta.annotations(), meta.references(), created);
        }
        c.putManifest(m);
        c.removeManifestTombstone(d); // obsolete, if any: the manifest is newer
      }
      if (tag != null) {
        setTag(c, tag.value(), d, tagMillis > 0 ? tagMillis : System.currentTimeMillis(), !replica, 0);
      }
      return true;
    });
  }

  /**
   * What importing a tag did: whether the tag changed here, and, when the value it replaced here was
   * newer than anything its writer knew of the tag ({@code lost}, set at {@code lostMillis}), that
   * value: two writes that did not see each other (the halves of a split cluster), resolved by last
   * writer wins, and to be reported.
   */
  public record TagImport(boolean changed, Digest lost, long lostMillis) {
    public boolean conflict() {
      return lost != null;
    }
  }

  /**
   * Points a tag at a manifest already recorded here if the tag is missing or was last set before
   * {@code updatedMillis} (at the same time: the greater digest wins, so every copy decides alike),
   * and no delete of it or of the repository is newer (last writer wins, by the writing node's clock);
   * the tag keeps that time and {@code replaced}, the newest time its writer knew for the tag.
   */
  public TagImport importTag(RepositoryName name, Tag tag, Digest digest, long updatedMillis, long replaced) {
    return write(name, c -> {
      RepoState r = c.state();
      if (!r.manifests.containsKey(digest)) {
        throw new IllegalStateException("manifest " + digest + " is not recorded in " + name);
      }
      String t = tag.value();
      Digest before = r.tags.get(t);
      long beforeMillis = r.tagTimes.getOrDefault(t, 0L);
      boolean changed = setTag(c, t, digest, updatedMillis, false, replaced);
      boolean unseen = changed && before != null && !before.equals(digest) && replaced < beforeMillis;
      return new TagImport(changed, unseen ? before : null, unseen ? beforeMillis : 0);
    });
  }

  /**
   * Sets a tag. A client's write ({@code fresh}) moves the time past what is known here and records
   * that as what it replaced; a copy ({@code fresh} false) wins by last writer wins, ties going to
   * the greater digest, and keeps the {@code replaced} time its writer recorded.
   */
  private static boolean setTag(RepoChange c, String tag, Digest digest, long millis, boolean fresh, long replaced) {
    RepoState r = c.state();
    Digest current = r.tags.get(tag);
    long deleted = Math.max(r.clearedMillis, r.deletedTags.getOrDefault(tag, 0L));
    long setAt = r.tagTimes.getOrDefault(tag, 0L);
    long known = Math.max(deleted, setAt);
    if (digest.equals(current)) {
      return false;
    }
    if (fresh) {
      replaced = known;
      millis = Math.max(r.next(millis), known + 1);
    } else if (millis < known || millis == known && (millis <= deleted || current == null
        || digest.toString().compareTo(current.toString()) <= 0)) {
      return false;
    }
    c.putTag(tag, digest, millis, replaced);
    c.removeTagTombstone(tag); // obsolete, if any: the tag is newer
    return true;
  }

  /**
   * Forgets a repository on this node: its metadata goes, in one batch, and it leaves the catalog.
   * Blob files stay for garbage collection (other repositories may share them).
   */
  public void dropRepository(RepositoryName name) {
    while (true) {
      RepoState r = repo(name);
      if (r == null) {
        return;
      }
      r.lock.lock();
      try {
        if (r.retired) {
          continue;
        }
        drop(r);
        return;
      } finally {
        r.lock.unlock();
      }
    }
  }

  /**
   * Drops a repository that moved to other nodes, only if nothing changed since {@code version} and no
   * upload is settling in it (a blob linked after {@code youngLinkCutoff} that no manifest references
   * yet belongs to a push in flight). The check and the drop hold the repository's lock, so a write
   * either lands before (and the drop is refused) or after (on a fresh repository). Returns whether
   * the repository is gone.
   */
  public boolean dropIfUnchanged(RepositoryName name, long version, long youngLinkCutoff) {
    return dropIfUnchanged(name, version, youngLinkCutoff, java.util.Set.of());
  }

  /**
   * As {@link #dropIfUnchanged(RepositoryName, long, long)}, where the young unreferenced links in
   * {@code handedOver} do not hold the drop back: their blobs are on the new owners already.
   */
  public boolean dropIfUnchanged(RepositoryName name, long version, long youngLinkCutoff,
      java.util.Set<Digest> handedOver) {
    while (true) {
      RepoState r = repo(name);
      if (r == null) {
        return true;
      }
      r.lock.lock();
      try {
        if (r.retired) {
          continue;
        }
        if (r.version() != version) {
          return false;
        }
        if (!handedOver.containsAll(youngUnreferenced(r, youngLinkCutoff).keySet())) {
          return false;
        }
        drop(r);
        return true;
      } finally {
        r.lock.unlock();
      }
    }
  }

  /**
   * Blobs linked into a repository after {@code youngLinkCutoff} that no manifest references: uploads
   * of a push in flight (digest to size).
   */
  public Map<Digest, Long> youngUnreferencedLinks(RepositoryName name, long youngLinkCutoff) {
    RepoState r = repo(name);
    return r == null ? new java.util.TreeMap<>() : youngUnreferenced(r, youngLinkCutoff);
  }

  /** The blobs of {@code r} linked after {@code youngLinkCutoff} that no manifest references, by digest, with their sizes. */
  private static Map<Digest, Long> youngUnreferenced(RepoState r, long youngLinkCutoff) {
    java.util.Set<Digest> referenced = new java.util.HashSet<>();
    for (ManifestMeta m : r.manifests.values()) {
      referenced.addAll(m.references());
    }
    Map<Digest, Long> out = new java.util.TreeMap<>(java.util.Comparator.comparing(Digest::toString));
    for (var e : r.blobs.entrySet()) {
      if (e.getValue()[1] > youngLinkCutoff && !referenced.contains(e.getKey())) {
        out.put(e.getKey(), e.getValue()[0]);
      }
    }
    return out;
  }

  /** Deletes every key of the repository in one batch; call under its lock. */
  private void drop(RepoState r) {
    RepositoryName n = r.name;
    try {
      dropLocked(r);
    } finally {
      changed(n);
    }
  }

  private void dropLocked(RepoState r) {
    RepositoryName n = r.name;
    try (MetaDb.Batch b = new MetaDb.Batch()) {
      r.tags.keySet().forEach(t -> b.delete(MetaKeys.tag(n, t)));
      for (ManifestMeta m : r.manifests.values()) {
        b.delete(MetaKeys.manifest(n, m.digest()));
        if (m.subject() != null) {
          b.delete(MetaKeys.referrer(n, m.subject(), m.digest()));
        }
      }
      r.blobs.keySet().forEach(d -> b.delete(MetaKeys.blob(n, d)));
      r.deletedTags.keySet().forEach(t -> b.delete(MetaKeys.tagTombstone(n, t)));
      r.deletedManifests.keySet().forEach(d -> b.delete(MetaKeys.manifestTombstone(n, d)));
      b.delete(MetaKeys.summary(n));
      db.commit(b);
    }
    cache.remove(r);
  }

  /** A client's delete of a manifest and every tag pointing at it, stamped now; returns whether it existed. */
  public boolean deleteManifest(RepositoryName name, Digest digest) {
    return deleteManifest(name, digest, System.currentTimeMillis(), true);
  }

  /**
   * Deletes a manifest and every tag pointing at it, and keeps a tombstone so that no older copy
   * brings it back, in one batch. A client's delete ({@code fresh}) is stamped after the manifest's
   * creation and is refused (DENIED, 409) while an index in the repository lists the manifest; a
   * delete copied from another node ({@code fresh} false) loses to a manifest created after it. The
   * tombstone is kept even when the manifest is not here (a stale copy elsewhere must not return).
   * Returns whether the manifest was here.
   */
  public boolean deleteManifest(RepositoryName name, Digest digest, long millis, boolean fresh) {
    return write(name, c -> {
      RepoState r = c.state();
      ManifestMeta meta = r.manifests.get(digest);
      if (meta == null) {
        recordManifestTombstone(c, digest, millis);
        return false;
      }
      if (!fresh && meta.createdMillis() >= millis) {
        return false; // pushed again after that delete
      }
      if (fresh) {
        requireUnlisted(r, digest);
      }
      long t = fresh ? Math.max(r.next(millis), meta.createdMillis() + 1) : millis;
      recordManifestTombstone(c, digest, t);
      for (var e : r.tags.entrySet()) {
        if (e.getValue().equals(digest)) {
          removeTag(c, e.getKey(), t);
        }
      }
      c.removeManifest(digest);
      return true;
    });
  }

  /**
   * Refuses (DENIED, 409) the delete of a manifest that an index in the repository lists: deleting
   * it would leave the index dangling.
   */
  public void checkDeletable(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    if (r != null) {
      requireUnlisted(r, digest);
    }
  }

  private static void requireUnlisted(RepoState r, Digest digest) {
    for (ManifestMeta m : r.manifests.values()) {
      if (!m.digest().equals(digest) && MediaTypes.isIndex(m.mediaType()) && m.references().contains(digest)) {
        throw new OciException(OciError.DENIED, "manifest " + digest + " is listed by index " + m.digest()
            + " in " + r.name + "; delete the index first", 409);
      }
    }
  }

  private static void recordManifestTombstone(RepoChange c, Digest digest, long millis) {
    RepoState r = c.state();
    Long tomb = r.deletedManifests.get(digest);
    if ((tomb == null || tomb < millis) && millis > r.clearedMillis) {
      c.putManifestTombstone(digest, millis);
    }
  }

  /** A client's delete of one tag, stamped now; returns whether it existed. */
  public boolean deleteTag(RepositoryName name, Tag tag) {
    return deleteTag(name, tag, System.currentTimeMillis(), true);
  }

  /**
   * Deletes a tag and keeps a tombstone (also when the tag is not here). A client's delete
   * ({@code fresh}) is stamped after the tag was set; a copied one loses to a tag set after it.
   * Returns whether the tag was here and is gone.
   */
  public boolean deleteTag(RepositoryName name, Tag tag, long millis, boolean fresh) {
    return write(name, c -> {
      RepoState r = c.state();
      String t = tag.value();
      Long setAt = r.tagTimes.get(t);
      if (r.tags.get(t) == null) {
        recordTagTombstone(c, t, millis);
        return false;
      }
      if (!fresh && setAt >= millis) {
        return false; // set again after that delete
      }
      removeTag(c, t, fresh ? Math.max(r.next(millis), setAt + 1) : millis);
      return true;
    });
  }

  private static void removeTag(RepoChange c, String tag, long millis) {
    recordTagTombstone(c, tag, millis);
    c.removeTag(tag);
  }

  private static void recordTagTombstone(RepoChange c, String tag, long millis) {
    RepoState r = c.state();
    Long tomb = r.deletedTags.get(tag);
    if ((tomb == null || tomb < millis) && millis > r.clearedMillis) {
      c.putTagTombstone(tag, millis);
    }
  }

  /**
   * Deletes everything in a repository and remembers when, so that no older copy brings any of it
   * back, in one batch. A client's delete ({@code fresh}) is stamped after everything here; a copied
   * one removes only what was set before it. Returns whether the repository held anything.
   */
  public boolean clearRepository(RepositoryName name, long millis, boolean fresh) {
    return write(name, c -> {
      RepoState r = c.state();
      boolean had = !r.isEmpty();
      long t = fresh ? r.next(millis) : millis;
      if (fresh) {
        for (long v : r.tagTimes.values()) {
          t = Math.max(t, v + 1);
        }
        for (ManifestMeta m : r.manifests.values()) {
          t = Math.max(t, m.createdMillis() + 1);
        }
      }
      if (t <= r.clearedMillis) {
        return false;
      }
      c.setCleared(t);
      boolean removed = false;
      for (var e : r.tags.entrySet()) {
        if (r.tagTimes.getOrDefault(e.getKey(), 0L) <= t) {
          c.removeTag(e.getKey());
          removed = true;
        }
      }
      for (ManifestMeta m : r.manifests.values()) {
        if (m.createdMillis() <= t) {
          c.removeManifest(m.digest());
          removed = true;
        }
      }
      for (var e : r.blobs.entrySet()) {
        if (fresh || e.getValue()[1] <= t) {
          c.unlinkBlob(e.getKey());
        }
      }
      for (var e : r.deletedTags.entrySet()) {
        if (e.getValue() <= t) {
          c.removeTagTombstone(e.getKey());
        }
      }
      for (var e : r.deletedManifests.entrySet()) {
        if (e.getValue() <= t) {
          c.removeManifestTombstone(e.getKey());
        }
      }
      return had && removed;
    });
  }

  /**
   * Forgets tombstones older than {@code cutoffMillis}, and repositories that then hold nothing at
   * all. Returns how many tombstones went. Repositories whose summary shows content and no
   * tombstone are not loaded. A node that was away for longer than the retention can bring back what was deleted
   * meanwhile.
   */
  public int pruneTombstones(long cutoffMillis) {
    List<RepositoryName> candidates = new ArrayList<>();
    db.scan(MetaKeys.summaryPrefix(), (k, v) -> {
      Summary s = MetaValues.summary(v);
      if (s.tombstones() > 0 || s.clearedMillis() != 0 || s.isEmpty()) {
        candidates.add(RepositoryName.of(MetaKeys.last(k)));
      }
      return true;
    });
    int pruned = 0;
    for (RepositoryName name : candidates) {
      pruned += writeExisting(name, 0, c -> {
        RepoState r = c.state();
        int n = 0;
        for (var e : r.deletedTags.entrySet()) {
          if (e.getValue() < cutoffMillis) {
            c.removeTagTombstone(e.getKey());
            n++;
          }
        }
        for (var e : r.deletedManifests.entrySet()) {
          if (e.getValue() < cutoffMillis) {
            c.removeManifestTombstone(e.getKey());
            n++;
          }
        }
        if (r.clearedMillis != 0 && r.clearedMillis < cutoffMillis) {
          c.setCleared(0);
          n++;
        }
        return n;
      });
      withLock(name, () -> {
        RepoState r = repo(name);
        if (r != null && r.isVacant()) {
          drop(r);
        }
      });
    }
    return pruned;
  }

  /**
   * Runs {@code action} under a repository's write lock (GC uses it to sweep links safely); nothing
   * runs when the repository is not stored.
   */
  public void withLock(RepositoryName name, Runnable action) {
    while (true) {
      RepoState r = repo(name);
      if (r == null) {
        return;
      }
      r.lock.lock();
      try {
        if (r.retired) {
          continue;
        }
        action.run();
        return;
      } finally {
        r.lock.unlock();
      }
    }
  }
}
