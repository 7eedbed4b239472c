package io.flotilla.content;

import io.flotilla.storage.AsyncLimiter;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * The sync engine: copies the selected tags of an upstream repository into a repository of this
 * registry through the node's ordinary storage paths, so every manifest is validated and every blob
 * verified as if a client had pushed it. For each selected tag whose upstream manifest differs from
 * the local one it fetches the manifest (and an index's child manifests), streams every blob the
 * local repository lacks from upstream straight into {@link BlobTransfer#monolithic} (a few at a time,
 * each distinct blob once, never buffered whole), then stores the child manifests, the manifest under
 * its tag, and the manifests that refer to them (through the upstream's referrers API, when it has
 * one). With {@link SyncSpec#mirror()} it then removes the local tags that are not selected upstream.
 * A tag that fails (a manifest or blob that cannot be fetched or does not verify) is reported in the
 * {@link SyncOutcome} while the others are copied; the sync itself fails only when the upstream tags
 * (or the local ones) cannot be listed. Runs on a Vert.x event loop and never blocks it.
 */
public final class RepositorySync {
  /** Blob transfers that run at once by default. */
  public static final int DEFAULT_PARALLEL_BLOBS = 4;

  private final Vertx vertx;
  private final UpstreamRegistry upstream;
  private final RegistryStorage storage;
  private final BlobTransfer transfer;
  private final int parallelBlobs;

  /**
   * @param storage the node's storage API ({@code Node.storage()}), which manifests and tags go through
   * @param transfer the node's blob byte path ({@code Node.blobTransfer()}), which blobs go through
   */
  public RepositorySync(Vertx vertx, UpstreamRegistry upstream, RegistryStorage storage, BlobTransfer transfer,
      int parallelBlobs) {
    if (parallelBlobs < 1) {
      throw new IllegalArgumentException("parallelBlobs must be at least 1");
    }
    this.vertx = vertx;
    this.upstream = upstream;
    this.storage = storage;
    this.transfer = transfer;
    this.parallelBlobs = parallelBlobs;
  }

  public RepositorySync(Vertx vertx, UpstreamRegistry upstream, RegistryStorage storage, BlobTransfer transfer) {
    this(vertx, upstream, storage, transfer, DEFAULT_PARALLEL_BLOBS);
  }

  /**
   * Runs one sync, updating {@code progress} as it goes. {@code ctx} is who the writes are made for:
   * {@link RequestContext#sync} reports them as push and delete events like a client's, an internal
   * context keeps them silent. Reads of the local repository are always made as internal requests.
   */
  public Future<SyncOutcome> run(SyncSpec spec, RequestContext ctx, SyncProgress progress) {
    Context context = vertx.getOrCreateContext();
    Promise<SyncOutcome> done = Promise.promise();
    context.runOnContext(v -> {
      try {
        new SyncRun(upstream, storage, transfer, spec, ctx, progress, new AsyncLimiter(context, SyncRun.PARALLEL_FETCHES),
            new AsyncLimiter(context, parallelBlobs)).run().onComplete(done);
      } catch (RuntimeException e) {
        done.fail(e);
      }
    });
    return done.future();
  }

  /** A context for {@link #run} that reports the sync's writes as events, naming the upstream. */
  public RequestContext context(String syncId) {
    return RequestContext.sync(syncId, upstream.config().url().toString());
  }
}
