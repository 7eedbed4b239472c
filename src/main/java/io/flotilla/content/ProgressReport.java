package io.flotilla.content;

/**
 * One line of a task's progress: which action of the task it belongs to ({@code sync}, {@code publish},
 * {@code distribute}), its stage ({@code sync.tags}, {@code sync.manifests}, {@code sync.blobs},
 * {@code publish}, {@code distribute}), a message, items done of total, its state, and for blobs
 * the bytes stored of the bytes to copy.
 */
public record ProgressReport(String action, String stage, String message, long done, long total, String state,
    long bytesDone, long bytesTotal) {

  /** A report of a sync stage. */
  static ProgressReport of(StageReport r) {
    return new ProgressReport("sync", r.code(), r.message(), r.done(), r.total(),
        r.state().name().toLowerCase(java.util.Locale.ROOT), r.bytesDone(), r.bytesTotal());
  }
}
