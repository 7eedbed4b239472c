package io.flotilla.bus;

import io.flotilla.bus.Messages.CancelUpload;
import io.flotilla.bus.Messages.CollectGarbage;
import io.flotilla.bus.Messages.DeleteBlob;
import io.flotilla.bus.Messages.DeleteManifest;
import io.flotilla.bus.Messages.DeleteRepository;
import io.flotilla.bus.Messages.GetManifest;
import io.flotilla.bus.Messages.GetUpload;
import io.flotilla.bus.Messages.GetUsage;
import io.flotilla.bus.Messages.ListCatalog;
import io.flotilla.bus.Messages.ListReferrers;
import io.flotilla.bus.Messages.ListTags;
import io.flotilla.bus.Messages.MountBlob;
import io.flotilla.bus.Messages.PutManifestRequest;
import io.flotilla.bus.Messages.StartUpload;
import io.flotilla.bus.Messages.StatBlob;
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
import io.vertx.core.Vertx;

/**
 * The storage API as a bus client: every call is a typed request to one node's storage verticle.
 * The HTTP layer talks to storage only through this, so routing to other nodes later changes which
 * node id is chosen, not the API.
 */
public final class BusRegistryClient implements RegistryStorage {
  private final Vertx vertx;
  private final String nodeId;
  private final boolean local;

  /** @param local true when {@code nodeId} is this process, so messages skip the cluster */
  public BusRegistryClient(Vertx vertx, String nodeId, boolean local) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.local = local;
  }

  private <Q, R> Future<R> call(Address<Q, R> address, Q body) {
    return Bus.request(vertx, address, nodeId, local, body);
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return call(Addresses.MANIFEST_GET, new GetManifest(ctx, repository, reference));
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return call(Addresses.MANIFEST_PUT, new PutManifestRequest(ctx, request));
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference,
      boolean presentElsewhere) {
    return call(Addresses.MANIFEST_DELETE, new DeleteManifest(ctx, repository, reference, presentElsewhere)).mapEmpty();
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    return call(Addresses.TAGS_LIST, new ListTags(ctx, repository, n, last));
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    return call(Addresses.REFERRERS_LIST, new ListReferrers(ctx, repository, subject, artifactType));
  }

  @Override
  public Future<CatalogPage> catalog(RequestContext ctx, int n, String last) {
    return call(Addresses.CATALOG_LIST, new ListCatalog(ctx, n, last));
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return call(Addresses.BLOB_STAT, new StatBlob(ctx, repository, digest));
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return call(Addresses.BLOB_DELETE, new DeleteBlob(ctx, repository, digest)).mapEmpty();
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return call(Addresses.BLOB_MOUNT, new MountBlob(ctx, repository, digest, from)).map(Messages.Mounted::mounted);
  }

  @Override
  public Future<UploadStatus> startUpload(RequestContext ctx, String repository) {
    return call(Addresses.UPLOAD_START, new StartUpload(ctx, repository));
  }

  @Override
  public Future<UploadStatus> uploadStatus(RequestContext ctx, String repository, String uploadId) {
    return call(Addresses.UPLOAD_GET, new GetUpload(ctx, repository, uploadId));
  }

  @Override
  public Future<Void> cancelUpload(RequestContext ctx, String repository, String uploadId) {
    return call(Addresses.UPLOAD_CANCEL, new CancelUpload(ctx, repository, uploadId)).mapEmpty();
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    return call(Addresses.REPOSITORY_DELETE, new DeleteRepository(ctx, repository, presentElsewhere)).mapEmpty();
  }

  @Override
  public Future<Usage> usage(RequestContext ctx) {
    return call(Addresses.USAGE_GET, new GetUsage(ctx));
  }

  @Override
  public Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun) {
    return call(Addresses.GC_RUN, new CollectGarbage(ctx, dryRun));
  }
}
