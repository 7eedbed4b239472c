package io.flotilla.storage;

import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.Usage;
import io.vertx.core.Future;

/** Operator-facing storage functions: usage accounting and garbage collection. */
public interface StorageAdmin {
  Future<Usage> usage(RequestContext ctx);

  Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun);
}
