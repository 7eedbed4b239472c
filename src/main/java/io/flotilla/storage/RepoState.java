package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The in-memory copy of one repository's committed metadata, as the {@link RepoCache} holds it:
 * tags, manifests, linked blobs, the referrers index and the tombstones of deletes. Reads are
 * lock-free; every change is made under {@link #lock} and applied here only after its batch is
 * durable in the {@link MetaDb}, so memory never shows what a crash could take back. A state that
 * was {@link #retired} (dropped, or evicted from the cache) is never written again: writers that
 * find it retired take a fresh state from the store.
 */
final class RepoState {
  final RepositoryName name;
  final ReentrantLock lock = new ReentrantLock();
  final ConcurrentSkipListMap<String, Digest> tags = new ConcurrentSkipListMap<>();
  /** Tag -> when it was last pointed at its manifest. */
  final ConcurrentHashMap<String, Long> tagTimes = new ConcurrentHashMap<>();
  /** Tag -> the newest time its writer knew for it when it set it (see MetaValues.TagValue); absent = 0. */
  final ConcurrentHashMap<String, Long> tagReplaced = new ConcurrentHashMap<>();
  final ConcurrentHashMap<Digest, ManifestMeta> manifests = new ConcurrentHashMap<>();
  /** Linked blob -> [size, linked-at millis]. */
  final ConcurrentHashMap<Digest, long[]> blobs = new ConcurrentHashMap<>();
  /** Subject digest -> referrer manifest digests. */
  final ConcurrentHashMap<Digest, Set<Digest>> referrers = new ConcurrentHashMap<>();
  /** Tombstones: tag -> when it was deleted. */
  final ConcurrentHashMap<String, Long> deletedTags = new ConcurrentHashMap<>();
  /** Tombstones: manifest -> when it was deleted. */
  final ConcurrentHashMap<Digest, Long> deletedManifests = new ConcurrentHashMap<>();
  /** When the whole repository was last deleted: what was set before that is gone (0 = never). */
  volatile long clearedMillis;
  /**
   * The repository's order here: the newest time of anything recorded in it (a tag set, a manifest
   * stored, a delete). A client's write is stamped after it ({@link #next}), so writes through this
   * node are ordered per repository whatever the wall clock does (a hybrid clock: milliseconds while
   * the clock runs ahead, counted up past the newest record when it does not).
   */
  volatile long newest;
  /** Set, under the lock, when the state left the cache (dropped or evicted). */
  volatile boolean retired;
  /** Whether the repository's summary is in the database (false for a state no write committed to yet). */
  volatile boolean stored;
  /** The committed version, its fingerprint and counts, replaced together. */
  volatile Stamp stamp = new Stamp(0, 0, 0, 0, 0, 0);
  /** The cache's clock at the last use (approximate LRU). */
  volatile long lastUsed;

  /** A version of the repository, its fingerprint and how many entries of each kind it holds. */
  record Stamp(long version, long fingerprint, int manifests, int tags, int blobs, int tombstones) {}

  RepoState(RepositoryName name) {
    this.name = name;
  }

  boolean isEmpty() {
    return manifests.isEmpty() && blobs.isEmpty() && tags.isEmpty();
  }

  /** Nothing at all is kept: no content and no tombstone. */
  boolean isVacant() {
    return isEmpty() && deletedTags.isEmpty() && deletedManifests.isEmpty() && clearedMillis == 0;
  }

  long version() {
    return stamp.version();
  }

  /** How much the cache counts this state: one per entry it holds, and one for itself. */
  long weight() {
    Stamp s = stamp;
    return 1L + s.manifests() + s.tags() + s.blobs() + s.tombstones();
  }

  /** The committed summary, without counting the maps. */
  MetaValues.Summary summary() {
    Stamp s = stamp;
    return new MetaValues.Summary(s.version(), clearedMillis, s.manifests(), s.tags(), s.blobs(), s.tombstones(),
        s.fingerprint());
  }

  /** Sets the stamp from the maps (after a load: counts them and computes the fingerprint). */
  void restamp(long version) {
    stamp = new Stamp(version, computeFingerprint(), manifests.size(), tags.size(), blobs.size(),
        deletedTags.size() + deletedManifests.size());
  }

  /**
   * A 64-bit digest of what replication converges: tags and their targets, manifests, and
   * tombstones (blob links and times of live entries are left out: they legitimately differ between
   * copies). Equal values on two nodes mean the copies agree. It is an order-independent sum of one
   * term per entry, so a change adjusts it by the terms it removes and adds ({@link RepoChange});
   * this recomputes it from scratch (on load).
   */
  long computeFingerprint() {
    long fp = clearedTerm(clearedMillis);
    for (Map.Entry<String, Digest> e : tags.entrySet()) {
      fp += tagTerm(e.getKey(), e.getValue());
    }
    for (Digest d : manifests.keySet()) {
      fp += manifestTerm(d);
    }
    for (Map.Entry<String, Long> e : deletedTags.entrySet()) {
      fp += tagTombstoneTerm(e.getKey(), e.getValue());
    }
    for (Map.Entry<Digest, Long> e : deletedManifests.entrySet()) {
      fp += manifestTombstoneTerm(e.getKey(), e.getValue());
    }
    return fp;
  }

  static long clearedTerm(long clearedMillis) {
    return mix(clearedMillis);
  }

  static long tagTerm(String tag, Digest digest) {
    return mix(hash("t", tag, digest.toString()));
  }

  static long manifestTerm(Digest d) {
    return mix(hash("m", d.toString(), ""));
  }

  static long tagTombstoneTerm(String tag, long millis) {
    return mix(hash("dt", tag, Long.toString(millis)));
  }

  static long manifestTombstoneTerm(Digest d, long millis) {
    return mix(hash("dm", d.toString(), Long.toString(millis)));
  }

  private static long hash(String kind, String a, String b) {
    long h = 0xcbf29ce484222325L;
    h = fnv(h, kind);
    h = fnv((h ^ 0) * 0x100000001b3L, a);
    return fnv((h ^ 1) * 0x100000001b3L, b);
  }

  private static long fnv(long h, String s) {
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return h;
  }

  /** SplitMix64's finaliser: spreads each entry's hash before the (order-independent) sum. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  // ------------------------------------------------------------------ mutations (under the lock, after commit)

  /** Raises the repository's order to {@code millis} (under the lock, or while loading). */
  void saw(long millis) {
    if (millis > newest) {
      newest = millis;
    }
  }

  /** The stamp of a client's write made now: the wall clock, or just after the newest record. */
  long next(long wallMillis) {
    return Math.max(wallMillis, newest + 1);
  }

  void putTag(String tag, Digest digest, long millis, long replaced) {
    saw(millis);
    tags.put(tag, digest);
    tagTimes.put(tag, millis);
    if (replaced > 0) {
      tagReplaced.put(tag, replaced);
    } else {
      tagReplaced.remove(tag);
    }
  }

  void removeTag(String tag) {
    tags.remove(tag);
    tagTimes.remove(tag);
    tagReplaced.remove(tag);
  }

  void indexManifest(ManifestMeta meta) {
    saw(meta.createdMillis());
    manifests.put(meta.digest(), meta);
    if (meta.subject() != null) {
      referrers.computeIfAbsent(meta.subject(), k -> ConcurrentHashMap.newKeySet()).add(meta.digest());
    }
  }

  void unindexManifest(ManifestMeta meta) {
    manifests.remove(meta.digest());
    if (meta.subject() != null) {
      Set<Digest> set = referrers.get(meta.subject());
      if (set != null) {
        set.remove(meta.digest());
        if (set.isEmpty()) {
          referrers.remove(meta.subject());
        }
      }
    }
  }
}
