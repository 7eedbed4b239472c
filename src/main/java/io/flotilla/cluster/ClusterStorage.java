package io.flotilla.cluster;

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

/**
 * The storage API as the HTTP layer of a clustered node sees it. Today the catalog is answered
 * cluster-wide ({@link ClusterCatalog}); every repository-scoped call still goes to this node's
 * own storage over the bus. Placement-based routing of those calls to the repository's owners, with
 * replication, is the next step of the cluster work and slots in here without changing the API.
 */
public final class ClusterStorage implements RegistryStorage {
  private final RegistryStorage local;
  private final ClusterCatalog catalog;

  public ClusterStorage(RegistryStorage local, ClusterCatalog catalog) {
    this.local = local;
    this.catalog = catalog;
  }

  @Override
  public Future<CatalogPage> catalog(RequestContext ctx, int n, String last) {
    return catalog.page(ctx, n, last);
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return local.getManifest(ctx, repository, reference);
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return local.putManifest(ctx, request);
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference) {
    return local.deleteManifest(ctx, repository, reference);
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
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return local.statBlob(ctx, repository, digest);
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return local.deleteBlob(ctx, repository, digest);
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return local.mountBlob(ctx, repository, digest, from);
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
  public Future<Usage> usage(RequestContext ctx) {
    return local.usage(ctx);
  }

  @Override
  public Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun) {
    return local.collectGarbage(ctx, dryRun);
  }
}
