package io.flotilla.storage;

import io.flotilla.config.StorageConfig;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.GcReport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Online mark-and-sweep of blobs nothing references, and of abandoned upload sessions.
 *
 * <ol>
 *   <li>In each repository, blob links that no manifest references and that are older than the
 *       grace delay are removed (layers of a push still in flight are younger, so they stay).</li>
 *   <li>Blob files linked by no repository and not referenced by any manifest are deleted, unless
 *       modified within the grace delay; the time is re-checked under the blob's lock, and every
 *       re-use of an existing blob touches it under that lock, so a racing push keeps its blob.</li>
 *   <li>Upload sessions idle for longer than the upload expiry are removed.</li>
 * </ol>
 * A dry run reports what would go and changes nothing. Blocking: run on a worker thread.
 */
final class GarbageCollector {
  private final MetadataStore metadata;
  private final BlobStore blobs;
  private final UploadStore uploads;
  private final StorageConfig config;

  GarbageCollector(MetadataStore metadata, BlobStore blobs, UploadStore uploads, StorageConfig config) {
    this.metadata = metadata;
    this.blobs = blobs;
    this.uploads = uploads;
    this.config = config;
  }

  synchronized GcReport run(boolean dryRun) {
    long started = System.currentTimeMillis();
    long cutoff = started - config.gcGrace().toMillis();
    int[] linksRemoved = {0};
    Set<Digest> live = new HashSet<>();
    for (RepositoryName name : metadata.repositories()) {
      metadata.withLock(name, () -> {
        Set<Digest> referenced = new HashSet<>();
        for (ManifestMeta m : metadata.manifests(name).values()) {
          referenced.add(m.digest());
          referenced.addAll(m.references());
        }
        for (var e : metadata.blobs(name).entrySet()) {
          boolean dangling = !referenced.contains(e.getKey()) && e.getValue()[1] <= cutoff;
          if (dangling) {
            linksRemoved[0]++;
            if (!dryRun) {
              metadata.unlinkBlob(name, e.getKey());
            }
          } else {
            live.add(e.getKey());
          }
        }
        live.addAll(referenced);
      });
    }
    List<BlobStore.StoredBlob> candidates = new ArrayList<>();
    blobs.forEach(b -> {
      if (!live.contains(b.digest()) && b.modifiedMillis() <= cutoff) {
        candidates.add(b);
      }
    });
    int deleted = 0;
    long freed = 0;
    List<String> digests = new ArrayList<>();
    for (BlobStore.StoredBlob b : candidates) {
      if (dryRun) {
        deleted++;
        freed += b.size();
        digests.add(b.digest().toString());
        continue;
      }
      long size = blobs.deleteIfUnusedSince(b.digest(), cutoff);
      if (size >= 0) {
        deleted++;
        freed += size;
        digests.add(b.digest().toString());
      }
    }
    int uploadsRemoved = 0;
    long uploadCutoff = started - config.uploadExpiry().toMillis();
    for (UploadSession s : uploads.all()) {
      if (s.lastActivityMillis() <= uploadCutoff && s.tryAcquire()) {
        uploadsRemoved++;
        if (!dryRun) {
          uploads.remove(s);
        } else {
          s.release();
        }
      }
    }
    return new GcReport(dryRun, deleted, freed, linksRemoved[0], uploadsRemoved, digests,
        System.currentTimeMillis() - started);
  }
}
