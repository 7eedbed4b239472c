package io.flotilla.cluster;

import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.BlobStorage;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.CatalogPage;
import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.TagPage;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.flotilla.storage.StorageTypes.Usage;
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
public final class RemoteMounts implements RegistryStorage {
  /** Lookup outcomes that mean "no node has the blob in the source repository". */
  private static final Set<OciError> NOT_THERE = Set.of(OciError.NAME_UNKNOWN, OciError.BLOB_UNKNOWN,
      OciError.UNAVAILABLE);

  private final RegistryStorage local;
  private final BlobStorage cluster;
  private final Replicator replicator;

  /**
   * @param local this node's own storage
   * @param cluster the cluster-wide view, to find a node holding the blob ({@link BlobInfo#node})
   * @param replicator copies the blob onto this node
   */
  public RemoteMounts(RegistryStorage local, BlobStorage cluster, Replicator replicator) {
    this.local = local;
    this.cluster = cluster;
    this.replicator = replicator;
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return local.mountBlob(ctx, repository, digest, from).compose(mounted -> mounted ? Future.succeededFuture(true)
        : cluster.statBlob(ctx, from, digest)
            .compose(found -> found.node() == null ? Future.succeededFuture(false) // here, yet not mountable
                : replicator.pullBlob(ctx, repository, found.node(), digest, found.size()).map(copied -> true))
            .recover(err -> err instanceof OciException e && NOT_THERE.contains(e.error())
                ? Future.succeededFuture(false) : Future.failedFuture(err)));
  }

  // ------------------------------------------------------------------ the local storage's

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return local.getManifest(ctx, repository, reference);
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return local.putManifest(ctx, request);
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference,
      boolean presentElsewhere) {
    return local.deleteManifest(ctx, repository, reference, presentElsewhere);
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    return local.listTags(ctx, repository, n, last);
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    return local.referrers(ctx, repository, subject, artifactType);
  }

  @Override
  public Future<CatalogPage> catalog(RequestContext ctx, int n, String last) {
    return local.catalog(ctx, n, last);
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return local.statBlob(ctx, repository, digest);
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return local.deleteBlob(ctx, repository, digest);
  }

  @Override
  public Future<UploadStatus> startUpload(RequestContext ctx, String repository) {
    return local.startUpload(ctx, repository);
  }

  @Override
  public Future<UploadStatus> uploadStatus(RequestContext ctx, String repository, String uploadId) {
    return local.uploadStatus(ctx, repository, uploadId);
  }

  @Override
  public Future<Void> cancelUpload(RequestContext ctx, String repository, String uploadId) {
    return local.cancelUpload(ctx, repository, uploadId);
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    return local.deleteRepository(ctx, repository, presentElsewhere);
  }

  @Override
  public Future<Usage> usage(RequestContext ctx) {
    return local.usage(ctx);
  }

  @Override
  public Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun) {
    return local.collectGarbage(ctx, dryRun);
  }
}
