package io.flotilla.content;

import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Stores a manifest that was served from upstream, in the background, through the ordinary manifest
 * put: only once everything it references is in the repository (an index's child manifests, each
 * stored the same way first; a manifest's config and layers, copied through {@link PullThroughBlobs}
 * so that a client's concurrent pull of the same blob shares the one upstream GET). So the put's
 * validation (every reference present, sizes right) applies exactly as for a push, and nothing
 * unverified is stored: manifests were verified by the upstream client, blobs by it and by storage.
 * One store per (repository, reference) at a time. Writes are made with {@link RequestContext#sync},
 * so they are reported as push events of the node, naming the upstream. Thread-safe.
 */
final class PullThroughManifests {
  private static final int MAX_NESTING = 4;
  private static final AtomicLong IDS = new AtomicLong();

  private final RegistryStorage storage;
  private final PullThroughBlobs blobs;
  private final SingleFlight<String, Void> stores = new SingleFlight<>();

  /** @param storage the storage API without pull-through */
  PullThroughManifests(RegistryStorage storage, PullThroughBlobs blobs) {
    this.storage = storage;
    this.blobs = blobs;
  }

  /** Stores {@code m} (under {@code tag} when not null, else by digest) once its references are stored. */
  Future<Void> store(PullThroughSource src, RepositoryName repo, UpstreamManifest m, Tag tag) {
    RequestContext writes = RequestContext.sync("pull-through-" + IDS.incrementAndGet(),
        src.upstream().config().url().toString());
    if (tag == null) {
      return stores.join(repo.value() + "@" + m.digest(), () -> put(src, repo, m, null, 0, writes));
    }
    return stores.join(repo.value() + ":" + tag + "@" + m.digest(), () -> put(src, repo, m, tag, 0, writes));
  }

  private Future<Void> put(PullThroughSource src, RepositoryName repo, UpstreamManifest m, Tag tag, int depth,
      RequestContext writes) {
    List<Future<Void>> needs = new ArrayList<>();
    if (m.manifest().isIndex()) {
      if (depth >= MAX_NESTING) {
        return Future.failedFuture(OciError.MANIFEST_INVALID.with("index " + m.digest() + ": indexes nested deeper than "
            + MAX_NESTING));
      }
      for (Descriptor child : m.manifest().manifests()) {
        needs.add(child(src, repo, child.digest(), depth + 1, writes));
      }
    }
    for (Descriptor blob : m.manifest().storedBlobs()) {
      needs.add(blobs.ensure(src, repo, blob.digest()));
    }
    return Future.all(needs).compose(v -> storage.putManifest(writes, new PutManifest(repo.value(),
        tag == null ? m.digest().toString() : tag.value(), m.mediaType(), m.body()))).mapEmpty();
  }

  /** A child manifest of an index: nothing when the repository has it, else fetched and stored (once). */
  private Future<Void> child(PullThroughSource src, RepositoryName repo, Digest digest, int depth,
      RequestContext writes) {
    return storage.getManifest(RequestContext.internal("pull-through"), repo.value(), digest.toString())
        .<Boolean>map(c -> true)
        .recover(e -> PullThroughBlobs.absent(e) ? Future.succeededFuture(false) : Future.failedFuture(e))
        .compose(has -> has ? Future.succeededFuture() : stores.join(repo.value() + "@" + digest,
            () -> src.upstream().manifest(src.upstreamName(), Reference.of(digest))
                .compose(m -> put(src, repo, m, null, depth, writes))));
  }
}
