package io.flotilla.storage;

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
 * A storage that hands every call to another one: the base of decorators that change a few calls
 * (events, cross-node mounts) and leave the rest alone.
 */
public abstract class ForwardingStorage implements RegistryStorage {
  /** The storage calls go to. */
  protected final RegistryStorage delegate;

  protected ForwardingStorage(RegistryStorage delegate) {
    this.delegate = delegate;
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return delegate.getManifest(ctx, repository, reference);
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return delegate.putManifest(ctx, request);
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference,
      boolean presentElsewhere) {
    return delegate.deleteManifest(ctx, repository, reference, presentElsewhere);
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    return delegate.listTags(ctx, repository, n, last);
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    return delegate.referrers(ctx, repository, subject, artifactType);
  }

  @Override
  public Future<CatalogPage> catalog(RequestContext ctx, int n, String last) {
    return delegate.catalog(ctx, n, last);
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return delegate.statBlob(ctx, repository, digest);
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return delegate.deleteBlob(ctx, repository, digest);
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return delegate.mountBlob(ctx, repository, digest, from);
  }

  @Override
  public Future<UploadStatus> startUpload(RequestContext ctx, String repository) {
    return delegate.startUpload(ctx, repository);
  }

  @Override
  public Future<UploadStatus> uploadStatus(RequestContext ctx, String repository, String uploadId) {
    return delegate.uploadStatus(ctx, repository, uploadId);
  }

  @Override
  public Future<Void> cancelUpload(RequestContext ctx, String repository, String uploadId) {
    return delegate.cancelUpload(ctx, repository, uploadId);
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    return delegate.deleteRepository(ctx, repository, presentElsewhere);
  }

  @Override
  public Future<Usage> usage(RequestContext ctx) {
    return delegate.usage(ctx);
  }

  @Override
  public Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun) {
    return delegate.collectGarbage(ctx, dryRun);
  }
}
