package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The in-memory view of one repository: tags, manifests, linked blobs and the referrers index.
 * Reads are lock-free; every mutation happens under {@code synchronized (this)} after the matching
 * file change is durable, so memory never shows what a crash could take back.
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

  RepoState(RepositoryName name, Path metaDir) {
    this.name = name;
    this.metaDir = metaDir;
  }

  boolean isEmpty() {
    return manifests.isEmpty() && blobs.isEmpty() && tags.isEmpty();
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
