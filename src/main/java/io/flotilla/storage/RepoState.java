package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The in-memory view of one repository: tags, manifests, linked blobs, the referrers index and the
 * tombstones of deletes. Reads are lock-free; every mutation happens under {@code synchronized (this)}
 * after the matching file change is durable, so memory never shows what a crash could take back.
 * A state that was dropped (the repository moved to other nodes) is never written again: writers
 * that find {@link #dropped} set take a fresh state from the store.
 */
final class RepoState {
  final RepositoryName name;
  final Path metaDir;
  final ConcurrentSkipListMap<String, Digest> tags = new ConcurrentSkipListMap<>();
  /** Tag -> when it was last pointed at its manifest (the tag file's modification time). */
  final ConcurrentHashMap<String, Long> tagTimes = new ConcurrentHashMap<>();
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
  /** Set, under the lock, when the repository was dropped from this node. */
  volatile boolean dropped;
  /** Incremented, under the lock, by every change. */
  volatile long version;
  /** The last computed fingerprint and the version it was computed at. */
  private volatile long[] fingerprint = {-1, 0};

  RepoState(RepositoryName name, Path metaDir) {
    this.name = name;
    this.metaDir = metaDir;
  }

  boolean isEmpty() {
    return manifests.isEmpty() && blobs.isEmpty() && tags.isEmpty();
  }

  /** Nothing at all is kept: no content and no tombstone. */
  boolean isVacant() {
    return isEmpty() && deletedTags.isEmpty() && deletedManifests.isEmpty() && clearedMillis == 0;
  }

  /** Records a change; call under the lock. */
  void changed() {
    version++;
  }

  /**
   * A 64-bit digest of what replication converges: tags and their targets, manifests, and
   * tombstones (blob links and times of live entries are left out: they legitimately differ between
   * copies). Equal values on two nodes mean the copies agree.
   */
  long fingerprint() {
    long[] cached = fingerprint;
    if (cached[0] == version) {
      return cached[1];
    }
    long v;
    long fp;
    do {
      v = version;
      fp = mix(clearedMillis);
      for (Map.Entry<String, Digest> e : tags.entrySet()) {
        fp += mix(hash("t", e.getKey(), e.getValue().toString()));
      }
      for (Digest d : manifests.keySet()) {
        fp += mix(hash("m", d.toString(), ""));
      }
      for (Map.Entry<String, Long> e : deletedTags.entrySet()) {
        fp += mix(hash("dt", e.getKey(), Long.toString(e.getValue())));
      }
      for (Map.Entry<Digest, Long> e : deletedManifests.entrySet()) {
        fp += mix(hash("dm", e.getKey().toString(), Long.toString(e.getValue())));
      }
    } while (v != version);
    fingerprint = new long[] {v, fp};
    return fp;
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

  void indexManifest(ManifestMeta meta) {
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
