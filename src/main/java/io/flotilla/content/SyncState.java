package io.flotilla.content;

/** Where one stage of a sync is. */
public enum SyncState {
  /** Not started yet. */
  WAITING,
  RUNNING,
  /** Ran to its end; single items may have failed (the sync's failures say which). */
  COMPLETED,
  /** The sync ended in this stage (the upstream could not be listed, local storage did not answer). */
  FAILED,
  /** Never ran: an earlier stage failed. */
  SKIPPED
}
