package io.flotilla.content;

/** A sync ended early because it was asked to ({@link SyncProgress#cancel}); what it stored stays, no version is made. */
public final class SyncCancelledException extends RuntimeException {
  public SyncCancelledException() {
    super("canceled", null, false, false);
  }
}
