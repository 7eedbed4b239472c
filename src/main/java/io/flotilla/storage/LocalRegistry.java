package io.flotilla.storage;

import io.flotilla.config.StorageConfig;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.CatalogPage;
import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.Referrer;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.RepositoryUsage;
import io.flotilla.storage.StorageTypes.TagPage;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.flotilla.storage.StorageTypes.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The storage API over this node's disk. Reads of a repository held in the metadata cache are
 * answered from memory (and the manifest cache) on the caller's thread; anything that touches the
 * disk runs on Vert.x worker threads: writes, the catalog and usage (scans of the metadata
 * database), and the first read of a repository that is not cached (it is loaded there).
 * Thread-safe.
 */
public final class LocalRegistry implements RegistryStorage {
  private final Vertx vertx;
  private final java.util.function.BiPredicate<String, String> readable;
  private final StorageConfig config;
  private final MetadataStore metadata;
  private final BlobStore blobs;
  private final UploadStore uploads;
  private final GarbageCollector gc;
  /** Hot manifests in memory: an eighth of the heap, at most 64 MiB. */
  private final ManifestCache cache = new ManifestCache(Math.min(64L << 20, Runtime.getRuntime().maxMemory() / 8));

  private final EventSink events;

  /** @param events where manifest pushes are reported (once durable; acknowledged once their event is durable) */
  public LocalRegistry(Vertx vertx, StorageConfig config, MetadataStore metadata, BlobStore blobs,
      UploadStore uploads, EventSink events) {
    this(vertx, config, metadata, blobs, uploads, events, (identity, repository) -> true);
  }

  /**
   * @param readable whether the caller named by a request's identity may read a repository: the
   *     catalog lists only those, so every member filters before it answers a fan-out
   */
  public LocalRegistry(Vertx vertx, StorageConfig config, MetadataStore metadata, BlobStore blobs,
      UploadStore uploads, EventSink events, java.util.function.BiPredicate<String, String> readable) {
    this.readable = readable;
    this.vertx = vertx;
    this.events = events;
    this.config = config;
    this.metadata = metadata;
    this.blobs = blobs;
    this.uploads = uploads;
    this.gc = new GarbageCollector(metadata, blobs, uploads, config);
  }

  public BlobStore blobStore() {
    return blobs;
  }

  public MetadataStore metadata() {
    return metadata;
  }

  // ------------------------------------------------------------------ manifests

  /** Completes once the repository's metadata is in memory: at once when it is, else after a load on a worker. */
  private Future<Void> warm(RepositoryName name) {
    if (metadata.isCached(name)) {
      return Future.succeededFuture();
    }
    return blocking(() -> {
      metadata.preload(name);
      return null;
    });
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    try {
      RepositoryName name = RepositoryName.of(repository);
      Reference ref = Reference.parse(reference);
      return warm(name).compose(v -> manifest(name, ref));
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<ManifestContent> manifest(RepositoryName name, Reference ref) {
    try {
      if (!metadata.exists(name)) {
        throw OciError.NAME_UNKNOWN.with("repository " + name + " is not known");
      }
      Digest digest = ref.isDigest() ? ref.digest() : metadata.tag(name, ref.tag());
      ManifestMeta meta = digest == null ? null : metadata.manifest(name, digest);
      if (meta == null) {
        throw OciError.MANIFEST_UNKNOWN.with("manifest " + ref + " is not known in " + name);
      }
      byte[] cached = cache.get(digest);
      if (cached != null) {
        return Future.succeededFuture(new ManifestContent(digest.toString(), meta.mediaType(), cached));
      }
      return blocking(() -> {
        byte[] body = blobs.read(digest);
        cache.put(digest, body);
        return new ManifestContent(digest.toString(), meta.mediaType(), body);
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    try {
      RepositoryName name = RepositoryName.of(request.repository());
      Reference ref = Reference.parse(request.reference());
      byte[] body = request.body();
      if (body.length > config.maxManifestBytes()) {
        throw new OciException(OciError.SIZE_INVALID,
            "manifest is larger than " + config.maxManifestBytes() + " bytes", 413);
      }
      Manifest manifest = ManifestParser.parse(body, request.contentType());
      DigestAlgorithm algorithm = ref.isDigest() ? ref.digest().algorithm() : DigestAlgorithm.SHA256;
      Digest digest = Digest.of(algorithm, body);
      if (ref.isDigest() && !ref.digest().equals(digest)) {
        throw OciError.DIGEST_INVALID.with("manifest digest is " + digest + ", not " + ref.digest());
      }
      // a copy from another node (replication) keeps the time it was first stored there
      boolean replica = ctx.isInternal() && request.createdMillis() > 0;
      ManifestMeta meta = new ManifestMeta(digest, manifest.mediaType(), body.length, manifest.artifactType(),
          manifest.subject() == null ? null : manifest.subject().digest(), manifest.annotations(),
          references(manifest), replica ? request.createdMillis() : System.currentTimeMillis());
      checkReferences(name, manifest, replica);
      List<String> references = meta.references().stream().map(Digest::toString).toList();
      Tag tag = ref.isDigest() ? null : ref.tag();
      EventSink.Operation event = new EventSink.Operation("push", name.value(), digest.toString(),
          meta.mediaType(), body.length, tag == null ? null : tag.value(), null, references);
      // reported once durable; acknowledged once its event is durable too
      long[] order = {-1};
      return blocking(() -> {
        blobs.put(digest, body, stored ->
            metadata.putManifest(name, meta, tag, 0, replica, () -> checkReferences(name, manifest, replica)));
        cache.put(digest, body);
        ManifestMeta stored = metadata.manifest(name, digest);
        order[0] = metadata.order(name);
        return new ManifestPut(digest.toString(), meta.mediaType(), references,
            meta.subject() == null ? null : meta.subject().toString(),
            stored == null ? meta.createdMillis() : stored.createdMillis(),
            tag == null ? 0 : metadata.tagTime(name, tag), tag == null ? 0 : metadata.tagReplaced(name, tag));
      }).compose(put -> events.record(ctx, event.withOrder(order[0])).map(put));
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  private static List<Digest> references(Manifest m) {
    List<Digest> out = new ArrayList<>();
    if (m.config() != null) {
      out.add(m.config().digest());
    }
    m.layers().forEach(d -> out.add(d.digest()));
    m.manifests().forEach(d -> out.add(d.digest()));
    return out;
  }

  /**
   * Every descriptor must name content visible in the repository (MANIFEST_BLOB_UNKNOWN) with the
   * size that is stored (MANIFEST_INVALID): a wrong size would be served as the Content-Length of
   * every copy. Blob links record the stored file's size, child manifests their body's length.
   * Foreign layers are not stored here and are not checked. A copy from another node
   * ({@code replica}) may list children its source no longer holds (the copy is faithful: the
   * source accepted the index when its children existed).
   */
  private void checkReferences(RepositoryName name, Manifest m, boolean replica) {
    if (m.config() != null) {
      checkBlob(name, m.config(), "config blob");
    }
    for (Descriptor layer : m.layers()) {
      if (!MediaTypes.isForeignLayer(layer.mediaType())) {
        checkBlob(name, layer, "blob");
      }
    }
    for (Descriptor child : m.manifests()) {
      ManifestMeta stored = metadata.manifest(name, child.digest());
      if (stored == null) {
        if (replica) {
          continue;
        }
        throw OciError.MANIFEST_BLOB_UNKNOWN.with("manifest " + child.digest() + " is not known in " + name);
      }
      checkSize(child, stored.size(), "manifest");
    }
  }

  private void checkBlob(RepositoryName name, Descriptor d, String what) {
    long stored = metadata.blobSize(name, d.digest());
    if (stored < 0) {
      throw OciError.MANIFEST_BLOB_UNKNOWN.with(what + " " + d.digest() + " is not known in " + name);
    }
    checkSize(d, stored, what);
  }

  private static void checkSize(Descriptor d, long stored, String what) {
    if (d.size() != stored) {
      throw OciError.MANIFEST_INVALID.with(what + " " + d.digest() + " has " + stored + " bytes, the descriptor says "
          + d.size());
    }
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference,
      boolean presentElsewhere) {
    try {
      requireDeletes();
      RepositoryName name = RepositoryName.of(repository);
      Reference ref = Reference.parse(reference);
      return blocking(() -> {
        long now = System.currentTimeMillis();
        boolean removed = ref.isDigest() ? metadata.deleteManifest(name, ref.digest(), now, true)
            : metadata.deleteTag(name, ref.tag(), now, true);
        if (!removed && !presentElsewhere) {
          throw OciError.MANIFEST_UNKNOWN.with("manifest " + ref + " is not known in " + name);
        }
        return null;
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    try {
      RepositoryName name = RepositoryName.of(repository);
      checkPageSize(n);
      return warm(name).map(v -> {
        if (!metadata.exists(name)) {
          throw OciError.NAME_UNKNOWN.with("repository " + name + " is not known");
        }
        MetadataStore.Page page = metadata.tags(name, n, last);
        return new TagPage(name.value(), page.items(), page.more());
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    try {
      RepositoryName name = RepositoryName.of(repository);
      Digest digest = Digest.parse(subject);
      boolean filter = artifactType != null && !artifactType.isEmpty();
      return warm(name).map(v -> {
        List<Referrer> out = new ArrayList<>();
        for (ManifestMeta m : metadata.referrers(name, digest)) {
          if (filter && !artifactType.equals(m.artifactType())) {
            continue;
          }
          out.add(new Referrer(m.mediaType(), m.digest().toString(), m.size(), m.artifactType(), m.annotations()));
        }
        return new Referrers(out, filter);
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<CatalogPage> catalog(RequestContext ctx, int n, String last) {
    try {
      checkPageSize(n);
      return blocking(() -> {
        MetadataStore.Page page = ctx.isInternal() ? metadata.catalog(n, last)
            : metadata.catalog(n, last, repository -> readable.test(ctx.identity(), repository));
        return new CatalogPage(page.items(), page.more(), List.of());
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  // ------------------------------------------------------------------ blobs

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    try {
      RepositoryName name = RepositoryName.of(repository);
      Digest d = Digest.parse(digest);
      return warm(name).map(v -> {
        long size = metadata.blobSize(name, d);
        if (size < 0) {
          ManifestMeta m = metadata.manifest(name, d);
          if (m == null) {
            throw OciError.BLOB_UNKNOWN.with("blob " + d + " is not known in " + name);
          }
          size = m.size();
        }
        return new BlobInfo(d.toString(), size);
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    try {
      requireDeletes();
      RepositoryName name = RepositoryName.of(repository);
      Digest d = Digest.parse(digest);
      return blocking(() -> {
        if (!metadata.unlinkBlob(name, d)) {
          throw OciError.BLOB_UNKNOWN.with("blob " + d + " is not known in " + name);
        }
        return null;
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    try {
      RepositoryName name = RepositoryName.of(repository);
      Digest d = Digest.parse(digest);
      RepositoryName source = RepositoryName.of(from);
      return blocking(() -> metadata.blobSize(source, d) >= 0
          && blobs.linkIfStored(d, stored -> metadata.linkBlob(name, d, stored)));
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<UploadStatus> startUpload(RequestContext ctx, String repository) {
    try {
      RepositoryName name = RepositoryName.of(repository);
      return blocking(() -> {
        UploadSession s = uploads.create(name, true);
        return new UploadStatus(name.value(), s.id(), 0);
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<UploadStatus> uploadStatus(RequestContext ctx, String repository, String uploadId) {
    try {
      UploadSession s = uploads.get(RepositoryName.of(repository), uploadId);
      return Future.succeededFuture(new UploadStatus(repository, s.id(), s.offset()));
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Void> cancelUpload(RequestContext ctx, String repository, String uploadId) {
    try {
      UploadSession s = uploads.get(RepositoryName.of(repository), uploadId);
      if (!s.tryAcquire()) {
        throw OciError.BLOB_UPLOAD_INVALID.with("upload " + uploadId + " is in use by another request");
      }
      return blocking(() -> {
        uploads.remove(s);
        return null;
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  // ------------------------------------------------------------------ admin

  @Override
  public Future<Usage> usage(RequestContext ctx) {
    return blocking(this::usageNow);
  }

  private Usage usageNow() {
    List<RepositoryUsage> repos = new ArrayList<>();
    for (RepositoryName name : metadata.repositories()) {
      var manifests = metadata.manifests(name);
      var linked = metadata.blobs(name);
      long bytes = 0;
      Set<Digest> counted = new HashSet<>();
      for (var e : linked.entrySet()) {
        if (counted.add(e.getKey())) {
          bytes += e.getValue()[0];
        }
      }
      for (ManifestMeta m : manifests.values()) {
        if (counted.add(m.digest())) {
          bytes += m.size();
        }
      }
      int tags = metadata.tags(name, Integer.MAX_VALUE, null).items().size();
      repos.add(new RepositoryUsage(name.value(), bytes, manifests.size(), tags, linked.size(),
          String.format("%016x", metadata.fingerprint(name))));
    }
    if (Double.isNaN(blobs.storedBlobs().doubleValue())) {
      blobs.recount(); // asked before the start-up walk counted: count now (usage is a blocking report anyway)
    }
    return new Usage(blobs.storedBytes().longValue(), blobs.storedBlobs().longValue(), repos);
  }

  @Override
  public Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun) {
    return blocking(() -> {
      GcReport report = gc.run(dryRun);
      if (!dryRun) {
        metadata.pruneTombstones(System.currentTimeMillis() - config.tombstoneRetention().toMillis());
      }
      return report;
    });
  }

  // ------------------------------------------------------------------ helpers

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    try {
      requireDeletes();
      RepositoryName name = RepositoryName.of(repository);
      return blocking(() -> {
        boolean removed = metadata.clearRepository(name, System.currentTimeMillis(), true);
        if (!removed && !presentElsewhere) {
          throw OciError.NAME_UNKNOWN.with("repository " + name + " is not known");
        }
        return null;
      });
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
  }

  private void requireDeletes() {
    if (!config.deleteEnabled()) {
      throw OciError.UNSUPPORTED.with("deletes are disabled on this registry");
    }
  }

  private void checkPageSize(int n) {
    if (n < 0 || n > config.maxPageSize()) {
      throw OciError.PAGINATION_NUMBER_INVALID.with("n must be between 0 and " + config.maxPageSize());
    }
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(() -> {
      try {
        return work.call();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, false);
  }
}
