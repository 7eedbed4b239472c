package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.ForwardingStorage;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage API of the HTTP front end with pull-through: a manifest GET/HEAD or blob stat that
 * misses locally (NAME_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UNKNOWN) in a repository that
 * {@link PullThroughSources} serves on demand is answered from the upstream instead. A manifest is
 * served with the upstream's verified bytes and stored in the background
 * ({@link PullThroughManifests}); a tag the remote's filter does not select stays MANIFEST_UNKNOWN.
 * A blob stat starts (or waits for) a flight of {@link PullThroughBlobs}. Everything else, tag lists
 * included (local tags only), is the delegate's. Internal requests never go upstream. Called on event
 * loops; never blocks. Upstream failures are {@link UpstreamException}s (404 for NOT_FOUND, 503 or
 * 502 for the rest).
 */
public final class PullThroughStorage extends ForwardingStorage {
  private static final Logger LOG = LoggerFactory.getLogger(PullThroughStorage.class);

  private final PullThroughSources sources;
  private final PullThroughBlobs blobs;
  private final PullThroughManifests manifests;
  private final EventSink events;

  PullThroughStorage(RegistryStorage delegate, PullThroughSources sources, PullThroughBlobs blobs,
      PullThroughManifests manifests, EventSink events) {
    super(delegate);
    this.sources = sources;
    this.blobs = blobs;
    this.manifests = manifests;
    this.events = events;
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return delegate.getManifest(ctx, repository, reference).recover(e -> {
      Optional<PullThroughSource> src = onDemand(ctx, repository, e);
      if (src.isEmpty()) {
        return Future.failedFuture(e);
      }
      Reference ref = Reference.parse(reference);
      if (!ref.isDigest() && !src.get().filter().selects(ref.tag())) {
        return Future.failedFuture(OciError.MANIFEST_UNKNOWN.with("tag " + ref.tag()
            + " is not served from the upstream: the remote's tag filter excludes it"));
      }
      RepositoryName repo = RepositoryName.of(repository);
      return src.get().upstream().manifest(src.get().upstreamName(), ref).map(m -> {
        manifests.store(src.get(), repo, m, ref.isDigest() ? null : ref.tag())
            .onFailure(err -> LOG.info("pull-through of {}:{} from {} not stored: {}", repository, reference,
                src.get().upstreamName(), SyncRun.reason(err)));
        events.record(ctx, new Operation("pull", repository, m.digest().toString(), m.mediaType(), m.body().length,
            ref.isDigest() ? null : ref.tag().value(), null, List.of()));
        return new ManifestContent(m.digest().toString(), m.mediaType(), m.body());
      });
    });
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return delegate.statBlob(ctx, repository, digest).recover(e -> {
      Optional<PullThroughSource> src = onDemand(ctx, repository, e);
      if (src.isEmpty() || !Digest.looksLikeDigest(digest)) {
        return Future.failedFuture(e);
      }
      return blobs.stat(ctx, src.get(), RepositoryName.of(repository), Digest.parse(digest));
    });
  }

  /** The source to ask when {@code failure} says the content is missing here and the repository is served on demand. */
  private Optional<PullThroughSource> onDemand(RequestContext ctx, String repository, Throwable failure) {
    if (ctx.isInternal() || !PullThroughBlobs.absent(failure)) {
      return Optional.empty();
    }
    try {
      return sources.source(repository);
    } catch (RuntimeException e) {
      LOG.warn("pull-through sources failed for {}", repository, e);
      return Optional.empty();
    }
  }
}
