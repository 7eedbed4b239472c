package io.flotilla.storage;

import io.flotilla.config.StorageConfig;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.GcReport;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Online mark-and-sweep of blobs nothing references, and of abandoned upload sessions.
 *
 * <ol>
 *   <li>Begin the mark: {@link BlobStore#beginMark} waits for link sections in progress, and from
 *       then on every blob linked anywhere (upload commit, manifest put, mount, replica link) is
 *       recorded in the run's {@link BlobStore.Mark}.</li>
 *   <li>Mark, one repository at a time under its lock: blob links that no manifest references,
 *       that are older than the grace delay and that were not linked again since the mark began
 *       are removed; every other link, every manifest and every referenced digest is live.</li>
 *   <li>Sweep: blob files that are not live and not modified within the grace delay are deleted;
 *       under the blob's lock the time is re-checked and the mark consulted, so a blob linked since
 *       the mark began is kept.</li>
 *   <li>Upload sessions idle for longer than the upload expiry are removed.</li>
 * </ol>
 *
 * <p>Why this is safe against pushes that run concurrently: a link is a link section (the blob
 * file is created or touched, and the repository's link or manifest written, under the blob's
 * lock, inside the mark lock). A section that finished before the mark began is seen by the mark
 * phase (the repository lock orders it), so its link is live unless it is older than the grace
 * delay and unreferenced, which is what garbage is. A section that runs after the mark began is
 * recorded in the mark before it writes any metadata; the mark phase keeps such a link, and the
 * sweep, which checks the mark under the same blob lock the section holds, cannot delete the file
 * between the section's check that it exists and its link. So a repository marked before a push
 * linked into it does not lose the pushed blob, and this does not depend on file times or on the
 * clocks of the writers and the collector agreeing; the grace delay only covers what happens
 * between sections (layers waiting for their manifest). Freshly committed blobs also get the
 * current time as their modification time, so the sweep's time check treats them as young too.
 *
 * <p>A dry run reports what would go and changes nothing. One run at a time. Blocking: run on a
 * worker thread.
 */
final class GarbageCollector {
  private final MetadataStore metadata;
  private final BlobStore blobs;
  private final UploadStore uploads;
  private final StorageConfig config;
  private final LongSupplier clock;

  GarbageCollector(MetadataStore metadata, BlobStore blobs, UploadStore uploads, StorageConfig config) {
    this(metadata, blobs, uploads, config, System::currentTimeMillis);
  }

  /** @param clock the collector's wall clock, millis (tests set it apart from the writers' clock) */
  GarbageCollector(MetadataStore metadata, BlobStore blobs, UploadStore uploads, StorageConfig config,
      LongSupplier clock) {
    this.metadata = metadata;
    this.blobs = blobs;
    this.uploads = uploads;
    this.config = config;
    this.clock = clock;
  }

  synchronized GcReport run(boolean dryRun) {
    long started = clock.getAsLong();
    long cutoff = started - config.gcGrace().toMillis();
    int[] linksRemoved = {0};
    int deleted = 0;
    long freed = 0;
    List<String> digests = new ArrayList<>();
    try (BlobStore.Mark mark = blobs.beginMark()) {
      Set<Digest> live = new HashSet<>();
      for (RepositoryName name : metadata.repositories()) {
        metadata.withLock(name, () -> {
          Set<Digest> referenced = new HashSet<>();
          for (ManifestMeta m : metadata.manifests(name).values()) {
            referenced.add(m.digest());
            referenced.addAll(m.references());
          }
          for (var e : metadata.blobs(name).entrySet()) {
            boolean dangling = !referenced.contains(e.getKey()) && e.getValue()[1] <= cutoff
                && !mark.contains(e.getKey());
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
        if (!live.contains(b.digest()) && b.modifiedMillis() <= cutoff && !mark.contains(b.digest())) {
          candidates.add(b);
        }
      });
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
        clock.getAsLong() - started);
  }
}
