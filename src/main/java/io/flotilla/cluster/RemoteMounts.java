package io.flotilla.cluster;

import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.BlobStorage;
import io.flotilla.storage.ForwardingStorage;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import java.util.Set;

/**
 * This node's own storage, able to complete a cross-repository mount whose source repository lives
 * on another node: when the local mount finds nothing, the blob is looked up in the source
 * repository across the cluster and copied here into the target repository ({@link Replicator},
 * verified, as internal work). A mount is thus always performed, whole, by the target's primary
 * (the node {@link RoutingStorage} sends it to), so the storage wrapping this one (events) sees one
 * mount with the caller's context, whichever node held the source. Everything else is the local
 * storage's. Runs where its callers run (the storage verticles' contexts); fails as the lookup or
 * the copy fails, and answers {@code false} (upload instead) when no node has the blob there.
 */
public final class RemoteMounts extends ForwardingStorage {
  /** Lookup outcomes that mean "no node has the blob in the source repository". */
  private static final Set<OciError> NOT_THERE = Set.of(OciError.NAME_UNKNOWN, OciError.BLOB_UNKNOWN,
      OciError.UNAVAILABLE);

  private final BlobStorage cluster;
  private final Replicator replicator;

  /**
   * @param local this node's own storage
   * @param cluster the cluster-wide view, to find a node holding the blob ({@link BlobInfo#node})
   * @param replicator copies the blob onto this node
   */
  public RemoteMounts(RegistryStorage local, BlobStorage cluster, Replicator replicator) {
    super(local);
    this.cluster = cluster;
    this.replicator = replicator;
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return delegate.mountBlob(ctx, repository, digest, from).compose(mounted -> mounted ? Future.succeededFuture(true)
        : cluster.statBlob(ctx, from, digest)
            .compose(found -> found.node() == null ? Future.succeededFuture(false) // here, yet not mountable
                : replicator.pullBlob(ctx, repository, found.node(), digest, found.size()).map(copied -> true))
            .recover(err -> err instanceof OciException e && NOT_THERE.contains(e.error())
                ? Future.succeededFuture(false) : Future.failedFuture(err)));
  }
}
