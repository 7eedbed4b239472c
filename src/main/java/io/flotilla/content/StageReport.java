package io.flotilla.content;

/**
 * A snapshot of one stage of a sync ({@code sync.tags}, {@code sync.manifests}, {@code sync.blobs}),
 * as a task API shows it: what it is doing, how many items are done of how many (the total grows
 * while the work is discovered), and for blobs the bytes stored of the bytes to copy (0 elsewhere).
 */
public record StageReport(String code, String message, SyncState state, long done, long total, long bytesDone,
    long bytesTotal) {}
