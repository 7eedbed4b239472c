package io.flotilla.storage;

import io.flotilla.storage.StorageTypes.CatalogPage;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.TagPage;
import io.vertx.core.Future;

/**
 * Manifests, tags, referrers and the catalog: the metadata half of the storage API. Implemented
 * locally by {@link LocalRegistry} and remotely by the bus client; failures are
 * {@link io.flotilla.oci.OciException}s. Arguments are raw strings validated by the implementation.
 */
public interface ManifestStorage {
  Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference);

  Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request);

  /** Deletes a manifest (reference is a digest) or a tag (reference is a tag). */
  default Future<Void> deleteManifest(RequestContext ctx, String repository, String reference) {
    return deleteManifest(ctx, repository, reference, false);
  }

  /**
   * As {@link #deleteManifest(RequestContext, String, String)}; {@code presentElsewhere}: another copy
   * held it, so the delete succeeds here even if this copy did not (it still records the delete).
   */
  Future<Void> deleteManifest(RequestContext ctx, String repository, String reference, boolean presentElsewhere);

  Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last);

  Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType);

  Future<CatalogPage> catalog(RequestContext ctx, int n, String last);
}
