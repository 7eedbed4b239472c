package io.flotilla.bus;

import io.flotilla.storage.RegistryStorage;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * Serves this node's storage on its node-scoped storage addresses. Thin: each address maps to one
 * method of the {@link RegistryStorage} it is given. Lives beside the bus (not in {@code storage})
 * because storage must not depend on the bus that carries it.
 */
public final class StorageVerticle extends VerticleBase {
  private final RegistryStorage storage;
  private final String nodeId;

  public StorageVerticle(RegistryStorage storage, String nodeId) {
    this.storage = storage;
    this.nodeId = nodeId;
  }

  @Override
  public Future<?> start() {
    RegistryStorage s = storage;
    return Future.all(java.util.List.of(
        Bus.serve(vertx, Addresses.MANIFEST_GET, nodeId, q -> s.getManifest(q.ctx(), q.repository(), q.reference())),
        Bus.serve(vertx, Addresses.MANIFEST_PUT, nodeId, q -> s.putManifest(q.ctx(), q.manifest())),
        Bus.serve(vertx, Addresses.MANIFEST_DELETE, nodeId,
            q -> s.deleteManifest(q.ctx(), q.repository(), q.reference(), q.presentElsewhere()).map(v -> new Messages.Done())),
        Bus.serve(vertx, Addresses.TAGS_LIST, nodeId, q -> s.listTags(q.ctx(), q.repository(), q.n(), q.last())),
        Bus.serve(vertx, Addresses.REFERRERS_LIST, nodeId,
            q -> s.referrers(q.ctx(), q.repository(), q.subject(), q.artifactType())),
        Bus.serve(vertx, Addresses.CATALOG_LIST, nodeId, q -> s.catalog(q.ctx(), q.n(), q.last())),
        Bus.serve(vertx, Addresses.BLOB_STAT, nodeId, q -> s.statBlob(q.ctx(), q.repository(), q.digest())),
        Bus.serve(vertx, Addresses.BLOB_DELETE, nodeId,
            q -> s.deleteBlob(q.ctx(), q.repository(), q.digest()).map(v -> new Messages.Done())),
        Bus.serve(vertx, Addresses.REPOSITORY_DELETE, nodeId,
            q -> s.deleteRepository(q.ctx(), q.repository(), q.presentElsewhere()).map(v -> new Messages.Done())),
        Bus.serve(vertx, Addresses.BLOB_MOUNT, nodeId,
            q -> s.mountBlob(q.ctx(), q.repository(), q.digest(), q.from()).map(Messages.Mounted::new)),
        Bus.serve(vertx, Addresses.UPLOAD_START, nodeId, q -> s.startUpload(q.ctx(), q.repository())),
        Bus.serve(vertx, Addresses.UPLOAD_GET, nodeId, q -> s.uploadStatus(q.ctx(), q.repository(), q.uploadId())),
        Bus.serve(vertx, Addresses.UPLOAD_CANCEL, nodeId,
            q -> s.cancelUpload(q.ctx(), q.repository(), q.uploadId()).map(v -> new Messages.Done())),
        Bus.serve(vertx, Addresses.USAGE_GET, nodeId, q -> s.usage(q.ctx())),
        Bus.serve(vertx, Addresses.GC_RUN, nodeId, q -> s.collectGarbage(q.ctx(), q.dryRun()))));
  }
}
