package io.flotilla.content;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The live progress of one sync, one {@link StageReport} per stage: {@link #TAGS} (listing and
 * filtering, then one item per selected tag and per tag to remove), {@link #MANIFESTS} (one item per
 * manifest to store, counted as they are fetched, done when stored) and {@link #BLOBS} (one item per
 * distinct blob the manifests need, done when copied or found present; bytes of the blobs to copy).
 * The sync updates it as it goes; readers take {@link #snapshot()}s from any thread.
 */
public final class SyncProgress {
  public static final String TAGS = "sync.tags";
  public static final String MANIFESTS = "sync.manifests";
  public static final String BLOBS = "sync.blobs";

  private final Map<String, StageReport> stages = new LinkedHashMap<>();
  private volatile boolean cancelled;

  public SyncProgress() {
    for (String code : List.of(TAGS, MANIFESTS, BLOBS)) {
      stages.put(code, new StageReport(code, "waiting", SyncState.WAITING, 0, 0, 0, 0));
    }
  }

  /**
   * Asks the sync to stop: it starts no more blob transfers, cancels the ones streaming, stores no
   * more manifests and ends with a {@link SyncCancelledException}. Safe from any thread.
   */
  public void cancel() {
    cancelled = true;
  }

  /** Whether {@link #cancel} was called. */
  public boolean cancelled() {
    return cancelled;
  }

  /** Every stage, in order. */
  public synchronized List<StageReport> snapshot() {
    return List.copyOf(new ArrayList<>(stages.values()));
  }

  /** One stage. */
  public synchronized StageReport stage(String code) {
    StageReport r = stages.get(code);
    if (r == null) {
      throw new IllegalArgumentException("no stage " + code);
    }
    return r;
  }

  /** The stage runs now, with this message. */
  synchronized void start(String code, String message) {
    StageReport r = stage(code);
    stages.put(code, new StageReport(code, message, SyncState.RUNNING, r.done(), r.total(), r.bytesDone(),
        r.bytesTotal()));
  }

  /** More work found: {@code items} to do, {@code bytes} of them to copy. */
  synchronized void add(String code, long items, long bytes) {
    StageReport r = stage(code);
    stages.put(code, new StageReport(code, r.message(), r.state(), r.done(), r.total() + items, r.bytesDone(),
        r.bytesTotal() + bytes));
  }

  /** Work done: {@code items} finished, {@code bytes} stored (negative to take back bytes of a transfer that failed). */
  synchronized void advance(String code, long items, long bytes) {
    StageReport r = stage(code);
    stages.put(code, new StageReport(code, r.message(), r.state(), r.done() + items, r.total(), r.bytesDone() + bytes,
        r.bytesTotal()));
  }

  /** The stage is over: COMPLETED, FAILED or SKIPPED, with a last message. */
  synchronized void finish(String code, SyncState state, String message) {
    StageReport r = stage(code);
    stages.put(code, new StageReport(code, message, state, r.done(), r.total(), r.bytesDone(), r.bytesTotal()));
  }

  /** Every stage not over yet ends SKIPPED (the sync ended before them). */
  synchronized void skipRest(String message) {
    for (StageReport r : List.copyOf(stages.values())) {
      if (r.state() == SyncState.WAITING || r.state() == SyncState.RUNNING) {
        finish(r.code(), SyncState.SKIPPED, message);
      }
    }
  }
}
