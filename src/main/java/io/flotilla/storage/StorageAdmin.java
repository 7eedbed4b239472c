package io.flotilla.storage;

import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.Usage;
import io.vertx.core.Future;

/** Operator-facing storage functions: usage accounting, garbage collection, repository deletion. */
public interface StorageAdmin {
  /**
   * Deletes a whole repository: its manifests, tags and blob links (blob files shared with other
   * repositories stay; the rest go at the next garbage collection). NAME_UNKNOWN when it does not
   * exist, UNSUPPORTED when deletes are disabled.
   */
  default Future<Void> deleteRepository(RequestContext ctx, String repository) {
    return deleteRepository(ctx, repository, false);
  }

  /**
   * As {@link #deleteRepository(RequestContext, String)}; {@code presentElsewhere}: another copy of the
   * repository held something, so the delete succeeds here even if this copy is empty (and records
   * that the repository was deleted, so that no older copy brings it back).
   */
  Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere);

  Future<Usage> usage(RequestContext ctx);

  Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun);
}
