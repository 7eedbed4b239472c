package io.flotilla.content;

import io.flotilla.storage.AsyncLimiter;
import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the sync's target repository holds, read through the storage API as internal requests (no
 * pull events, no download counts), a few reads at a time. A repository that does not exist holds
 * nothing. Whether a manifest is present is asked once per digest and remembered for the run.
 */
final class LocalRepository {
  private static final int PAGE = 1000;

  private final RegistryStorage storage;
  private final RequestContext reads;
  private final String name;
  private final AsyncLimiter limiter;
  private final Map<Digest, Future<Boolean>> manifests = new ConcurrentHashMap<>();

  LocalRepository(RegistryStorage storage, RequestContext reads, String name, AsyncLimiter limiter) {
    this.storage = storage;
    this.reads = reads;
    this.name = name;
    this.limiter = limiter;
  }

  /** Every tag and the manifest it names, sorted by tag. */
  Future<Map<String, Digest>> tags() {
    return tagNames(null, new ArrayList<>()).compose(names -> {
      Map<String, Digest> out = new ConcurrentHashMap<>();
      List<Future<Void>> each = names.stream().map(t -> limiter.run(() -> storage.getManifest(reads, name, t))
          .<Void>map(m -> {
            out.put(t, Digest.parse(m.digest()));
            return null;
          })
          .recover(e -> absent(e) ? Future.succeededFuture() : Future.failedFuture(e))).toList();
      return Future.all(each).map(v -> new TreeMap<>(out));
    });
  }

  /** Whether the repository has this manifest (remembered: asked once per digest). */
  Future<Boolean> hasManifest(Digest digest) {
    return manifests.computeIfAbsent(digest, d -> limiter.run(() -> storage.getManifest(reads, name, d.toString()))
        .map(m -> true)
        .recover(e -> absent(e) ? Future.succeededFuture(false) : Future.failedFuture(e)));
  }

  /** Whether the repository has this blob. */
  Future<Boolean> hasBlob(Digest digest) {
    return limiter.run(() -> storage.statBlob(reads, name, digest.toString()))
        .map(info -> true)
        .recover(e -> absent(e) ? Future.succeededFuture(false) : Future.failedFuture(e));
  }

  private Future<List<String>> tagNames(String last, List<String> into) {
    return storage.listTags(reads, name, PAGE, last)
        .recover(e -> absent(e) ? Future.succeededFuture(null) : Future.failedFuture(e))
        .compose(page -> {
          if (page == null) {
            return Future.succeededFuture(into);
          }
          into.addAll(page.tags());
          return page.more() && !page.tags().isEmpty()
              ? tagNames(page.tags().get(page.tags().size() - 1), into) : Future.succeededFuture(into);
        });
  }

  /** Whether a storage failure says the repository, manifest or blob does not exist. */
  private static boolean absent(Throwable e) {
    return e instanceof OciException o && (o.error() == OciError.NAME_UNKNOWN || o.error() == OciError.MANIFEST_UNKNOWN
        || o.error() == OciError.BLOB_UNKNOWN);
  }
}
