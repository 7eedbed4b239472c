package io.flotilla.content;

import io.flotilla.storage.AsyncLimiter;
import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.Reference;
import io.flotilla.oci.Tag;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One run of {@link RepositorySync}, in four steps: resolve (upstream manifests of the selected
 * tags, their children and referrers, what the local repository lacks), blobs (stat, then copy the
 * missing ones), store (manifests children first, then the tag, then referrers), remove (mirror).
 * Everything it fetched stays in memory until the run ends (manifests are at most 4 MiB each).
 */
final class SyncRun {
  /** Upstream manifest fetches and local reads that run at once. */
  static final int PARALLEL_FETCHES = 4;
  private static final int MAX_NESTING = 4;

  private final UpstreamRegistry upstream;
  private final RegistryStorage storage;
  private final BlobTransfer transfer;
  private final SyncSpec spec;
  private final String local;
  private final RequestContext ctx;
  private final LocalRepository target;
  private final SyncProgress progress;
  private final AsyncLimiter fetches;
  private final AsyncLimiter blobs;
  private final Map<Digest, Future<UpstreamManifest>> fetched = new ConcurrentHashMap<>();
  private final Map<Digest, Future<Void>> stored = new ConcurrentHashMap<>();
  private final Set<Digest> counted = ConcurrentHashMap.newKeySet();
  private final Map<Digest, String> blobFailures = new ConcurrentHashMap<>();
  private final List<SyncFailure> failures = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, List<String>> tagResults = new ConcurrentHashMap<>();
  private final AtomicInteger blobsCopied = new AtomicInteger();
  private final AtomicInteger blobsSkipped = new AtomicInteger();
  private final AtomicLong bytesCopied = new AtomicLong();

  SyncRun(UpstreamRegistry upstream, RegistryStorage storage, BlobTransfer transfer, SyncSpec spec,
      RequestContext ctx, SyncProgress progress, AsyncLimiter fetches, AsyncLimiter blobs) {
    this.upstream = upstream;
    this.storage = storage;
    this.transfer = transfer;
    this.spec = spec;
    this.local = spec.local().value();
    this.ctx = ctx;
    this.target = new LocalRepository(storage, RequestContext.internal(ctx.requestId()), local, fetches);
    this.progress = progress;
    this.fetches = fetches;
    this.blobs = blobs;
    for (String result : List.of("added", "updated", "removed", "unchanged")) {
      tagResults.put(result, Collections.synchronizedList(new ArrayList<>()));
    }
  }

  Future<SyncOutcome> run() {
    progress.start(SyncProgress.TAGS, "listing the tags of " + spec.upstream());
    Future<List<Tag>> listed = upstream.listTags(spec.upstream());
    Future<Map<String, Digest>> before = target.tags();
    return Future.all(listed, before)
        .recover(e -> {
          progress.finish(SyncProgress.TAGS, SyncState.FAILED, "cannot list the tags: " + reason(e));
          progress.skipRest("the tags could not be listed");
          return Future.failedFuture(e);
        })
        .compose(v -> sync(listed.result(), before.result()));
  }

  private Future<SyncOutcome> sync(List<Tag> upstreamTags, Map<String, Digest> before) {
    TagFilter filter = spec.filter();
    List<Tag> selected = upstreamTags.stream().filter(filter::selects).sorted(Comparator.comparing(Tag::value))
        .toList();
    Set<String> names = new HashSet<>();
    selected.forEach(t -> names.add(t.value()));
    List<String> removals = spec.mirror()
        ? before.keySet().stream().filter(t -> !names.contains(t)).sorted().toList() : List.of();
    progress.add(SyncProgress.TAGS, selected.size() + removals.size(), 0);
    progress.start(SyncProgress.TAGS, selected.size() + " of " + upstreamTags.size() + " upstream tags selected, "
        + removals.size() + " local tags to remove");
    progress.start(SyncProgress.MANIFESTS, "fetching the manifests of " + selected.size() + " tags");
    List<Future<TagPlan>> plans = selected.stream().map(t -> resolve(t, before.get(t.value()))).toList();
    return Future.all(plans).map(v -> plans.stream().map(Future::result).toList())
        .compose(all -> unlessCancelled().compose(x -> copyBlobs(all)).map(all))
        .compose(all -> unlessCancelled().compose(x -> storeAll(all)))
        .compose(v -> unlessCancelled().compose(x -> remove(removals)))
        .compose(v -> unlessCancelled())
        .compose(v -> target.tags().recover(e -> {
          failures.add(new SyncFailure("local tags", "cannot list them after the sync: " + reason(e)));
          return Future.succeededFuture(Map.of());
        }))
        .map(this::outcome);
  }

  /** Fails with {@link SyncCancelledException} once the sync was asked to stop. */
  private Future<Void> unlessCancelled() {
    if (progress.cancelled()) {
      progress.skipRest("canceled");
      return Future.failedFuture(new SyncCancelledException());
    }
    return Future.succeededFuture();
  }

  // ------------------------------------------------------------------ resolve

  /** The upstream manifest of a tag and, unless the local tag already names it, what must be stored. Never fails. */
  private Future<TagPlan> resolve(Tag tag, Digest before) {
    return fetches.run(() -> upstream.manifest(spec.upstream(), Reference.of(tag)))
        .compose(top -> {
          Future<List<UpstreamManifest>> children = top.digest().equals(before)
              ? Future.succeededFuture(List.of()) : children(top, 0);
          return children.compose(c -> referrersOf(tag, top).map(refs -> new TagPlan(tag, before, top, c, refs, null)));
        })
        .recover(e -> Future.succeededFuture(TagPlan.failed(tag, before, reason(e))));
  }

  /** The child manifests of an index that the local repository lacks, fetched, each after its own children. */
  private Future<List<UpstreamManifest>> children(UpstreamManifest m, int depth) {
    if (!m.manifest().isIndex() || m.manifest().manifests().isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    if (depth >= MAX_NESTING) {
      return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, OciError.MANIFEST_UNKNOWN, "index "
          + m.digest() + ": indexes nested deeper than " + MAX_NESTING));
    }
    List<Future<List<UpstreamManifest>>> each = m.manifest().manifests().stream()
        .map(d -> missingTree(d.digest(), depth + 1)).toList();
    return flatten(each);
  }

  /** A manifest by digest with its missing children before it, or nothing when the local repository has it. */
  private Future<List<UpstreamManifest>> missingTree(Digest digest, int depth) {
    return target.hasManifest(digest).compose(has -> has ? Future.succeededFuture(List.<UpstreamManifest>of())
        : fetch(digest).compose(m -> children(m, depth).map(c -> {
          List<UpstreamManifest> out = new ArrayList<>(c);
          out.add(m);
          return out;
        })));
  }

  /**
   * The referrers of the tag's manifest and of its children that the local repository lacks, as
   * trees; a referrer that cannot be fetched, or a listing that fails, is a failure of its own (the
   * tag is still copied). Never fails.
   */
  private Future<List<UpstreamManifest>> referrersOf(Tag tag, UpstreamManifest top) {
    List<Digest> subjects = new ArrayList<>();
    subjects.add(top.digest());
    top.manifest().manifests().forEach(d -> subjects.add(d.digest()));
    List<Future<List<UpstreamManifest>>> each = new ArrayList<>();
    for (Digest subject : subjects) {
      each.add(fetches.run(() -> upstream.referrers(spec.upstream(), subject))
          .compose(refs -> {
            List<Future<List<UpstreamManifest>>> trees = new ArrayList<>();
            for (Descriptor d : refs.manifests()) {
              trees.add(missingTree(d.digest(), 1).recover(e -> {
                failures.add(new SyncFailure("referrer " + d.digest() + " of tag " + tag, reason(e)));
                return Future.succeededFuture(List.of());
              }));
            }
            return flatten(trees);
          })
          .recover(e -> {
            failures.add(new SyncFailure("referrers of " + subject + " (tag " + tag + ")", reason(e)));
            return Future.succeededFuture(List.of());
          }));
    }
    return flatten(each);
  }

  private Future<UpstreamManifest> fetch(Digest digest) {
    return fetched.computeIfAbsent(digest, d -> fetches.run(() -> upstream.manifest(spec.upstream(),
        Reference.of(d))));
  }

  // ------------------------------------------------------------------ blobs

  /** Every distinct blob the resolved manifests need: the present ones counted, the others copied. Never fails. */
  private Future<Void> copyBlobs(List<TagPlan> plans) {
    Map<Digest, Descriptor> needed = new LinkedHashMap<>();
    for (TagPlan p : plans) {
      if (p.failure() == null) {
        List<UpstreamManifest> all = new ArrayList<>(p.image());
        all.addAll(p.referrers());
        all.forEach(m -> m.manifest().storedBlobs().forEach(d -> needed.putIfAbsent(d.digest(), d)));
      }
    }
    progress.start(SyncProgress.MANIFESTS, "fetched " + fetchedCount(plans) + " manifests to store");
    progress.add(SyncProgress.BLOBS, needed.size(), 0);
    progress.start(SyncProgress.BLOBS, "looking for " + needed.size() + " blobs in " + local);
    List<Future<Descriptor>> missing = needed.values().stream()
        .map(d -> target.hasBlob(d.digest())
            .compose(has -> has ? Future.succeededFuture(true) : mountFrom(d.digest(), 0))
            .map(has -> {
              if (has) {
                blobsSkipped.incrementAndGet();
                progress.advance(SyncProgress.BLOBS, 1, 0);
                return null;
              }
              progress.add(SyncProgress.BLOBS, 0, d.size());
              return d;
            })
            .recover(e -> {
              blobFailures.put(d.digest(), "blob " + d.digest() + ": " + reason(e));
              progress.advance(SyncProgress.BLOBS, 1, 0);
              return Future.succeededFuture(null);
            }))
        .toList();
    return Future.all(missing).compose(v -> {
      List<Descriptor> copy = missing.stream().map(Future::result).filter(d -> d != null).toList();
      progress.start(SyncProgress.BLOBS, "copying " + copy.size() + " blobs, " + blobsSkipped.get() + " present");
      return Future.all(copy.stream().map(this::copy).toList()).mapEmpty();
    });
  }

  /**
   * Mounts a blob from the {@code i}-th repository of {@link SyncSpec#mountFrom} on that holds it;
   * false when none does (then it is downloaded). A failed mount counts as not held.
   */
  private Future<Boolean> mountFrom(Digest digest, int i) {
    List<String> from = spec.mountFrom();
    if (i >= from.size()) {
      return Future.succeededFuture(false);
    }
    if (from.get(i).equals(local)) {
      return mountFrom(digest, i + 1);
    }
    return fetches.run(() -> storage.mountBlob(ctx, local, digest.toString(), from.get(i)))
        .recover(e -> Future.succeededFuture(false))
        .compose(mounted -> mounted ? Future.succeededFuture(true) : mountFrom(digest, i + 1));
  }

  /** Streams one blob from upstream into the local repository, verified on both ends. Never fails. */
  private Future<Void> copy(Descriptor d) {
    AtomicLong streamed = new AtomicLong();
    return blobs.run(() -> progress.cancelled() ? Future.<BlobInfo>failedFuture(new SyncCancelledException())
            : upstream.blob(spec.upstream(), d.digest()).compose(blob -> transfer.monolithic(ctx,
                spec.local(), d.digest(), new CountingStream(blob, n -> {
                  streamed.addAndGet(n);
                  progress.advance(SyncProgress.BLOBS, 0, n);
                  if (progress.cancelled()) {
                    blob.cancel();
                  }
                }), d.size())
            .onFailure(e -> blob.cancel())))
        .<Void>map(info -> {
          blobsCopied.incrementAndGet();
          bytesCopied.addAndGet(d.size());
          progress.advance(SyncProgress.BLOBS, 1, 0);
          return null;
        })
        .recover(e -> {
          blobFailures.put(d.digest(), "blob " + d.digest() + ": " + reason(e));
          progress.advance(SyncProgress.BLOBS, 1, -streamed.get());
          return Future.succeededFuture();
        });
  }

  // ------------------------------------------------------------------ store

  private Future<Void> storeAll(List<TagPlan> plans) {
    progress.finish(SyncProgress.BLOBS, SyncState.COMPLETED, "copied " + blobsCopied.get() + " blobs ("
        + bytesCopied.get() + " bytes), " + blobsSkipped.get() + " present, " + blobFailures.size() + " failed");
    Set<Digest> toStore = new HashSet<>();
    for (TagPlan p : plans) {
      if (p.failure() == null && blobFailure(p.image()) == null) {
        p.image().forEach(m -> toStore.add(m.digest()));
        p.referrers().stream().filter(m -> blobFailure(List.of(m)) == null).forEach(m -> toStore.add(m.digest()));
      }
    }
    progress.add(SyncProgress.MANIFESTS, toStore.size(), 0);
    progress.start(SyncProgress.MANIFESTS, "storing " + toStore.size() + " manifests");
    List<Future<Void>> each = plans.stream().map(p -> fetches.run(() -> store(p))).toList();
    return Future.all(each).onComplete(ar -> progress.finish(SyncProgress.MANIFESTS, SyncState.COMPLETED,
        "stored " + counted.size() + " manifests")).mapEmpty();
  }

  /** Stores what one tag needs, or records why it cannot; never fails. */
  private Future<Void> store(TagPlan p) {
    if (progress.cancelled()) {
      return Future.succeededFuture();
    }
    String failure = p.failure() != null ? p.failure() : blobFailure(p.image());
    if (failure != null) {
      return tagFailed(p.tag(), failure);
    }
    Future<Void> image = Future.succeededFuture();
    for (UpstreamManifest child : p.children()) {
      image = image.compose(v -> storeByDigest(child));
    }
    if (!p.unchanged()) {
      image = image.compose(v -> storage.putManifest(ctx, new PutManifest(local, p.tag().value(),
          p.top().mediaType(), p.top().body())).map(put -> {
            stored(p.top().digest());
            return null;
          }));
    }
    return image.compose(v -> {
      tagResults.get(p.before() == null ? "added" : p.unchanged() ? "unchanged" : "updated").add(p.tag().value());
      progress.advance(SyncProgress.TAGS, 1, 0);
      Future<Void> refs = Future.succeededFuture();
      for (UpstreamManifest r : p.referrers()) {
        String blob = blobFailure(List.of(r));
        refs = refs.compose(x -> blob != null ? referrerFailed(p.tag(), r, blob)
            : storeByDigest(r).recover(e -> referrerFailed(p.tag(), r, reason(e))));
      }
      return refs;
    }, e -> tagFailed(p.tag(), reason(e)));
  }

  private Future<Void> storeByDigest(UpstreamManifest m) {
    return stored.computeIfAbsent(m.digest(), d -> storage.putManifest(ctx, new PutManifest(local, d.toString(),
        m.mediaType(), m.body())).map(put -> {
          stored(d);
          return null;
        }));
  }

  private void stored(Digest digest) {
    if (counted.add(digest)) {
      progress.advance(SyncProgress.MANIFESTS, 1, 0);
    }
  }

  private Future<Void> tagFailed(Tag tag, String reason) {
    failures.add(new SyncFailure("tag " + tag, reason));
    progress.advance(SyncProgress.TAGS, 1, 0);
    return Future.succeededFuture();
  }

  private Future<Void> referrerFailed(Tag tag, UpstreamManifest referrer, String reason) {
    failures.add(new SyncFailure("referrer " + referrer.digest() + " of tag " + tag, reason));
    return Future.succeededFuture();
  }

  /** The first blob failure among the manifests' blobs, or null. */
  private String blobFailure(List<UpstreamManifest> manifests) {
    for (UpstreamManifest m : manifests) {
      for (Descriptor d : m.manifest().storedBlobs()) {
        String f = blobFailures.get(d.digest());
        if (f != null) {
          return f;
        }
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ remove, list, report

  private Future<Void> remove(List<String> tags) {
    List<Future<Void>> each = tags.stream().map(t -> fetches.run(() -> storage.deleteManifest(ctx, local, t))
        .<Void>map(v -> {
          tagResults.get("removed").add(t);
          return null;
        })
        .recover(e -> {
          failures.add(new SyncFailure("remove tag " + t, reason(e)));
          return Future.succeededFuture();
        })
        .onComplete(ar -> progress.advance(SyncProgress.TAGS, 1, 0))).toList();
    return Future.all(each).mapEmpty();
  }

  private SyncOutcome outcome(Map<String, Digest> after) {
    List<SyncFailure> failed;
    synchronized (failures) {
      failed = List.copyOf(failures);
    }
    progress.finish(SyncProgress.TAGS, SyncState.COMPLETED, sorted("added").size() + " added, "
        + sorted("updated").size() + " updated, " + sorted("unchanged").size() + " unchanged, "
        + sorted("removed").size() + " removed, " + failed.size() + " failures");
    return new SyncOutcome(sorted("added"), sorted("updated"), sorted("removed"), sorted("unchanged"),
        counted.size(), blobsCopied.get(), blobsSkipped.get(), bytesCopied.get(), failed, after);
  }

  private List<String> sorted(String result) {
    List<String> tags = tagResults.get(result);
    synchronized (tags) {
      return tags.stream().sorted().toList();
    }
  }

  private static int fetchedCount(List<TagPlan> plans) {
    Set<Digest> all = new HashSet<>();
    plans.stream().filter(p -> p.failure() == null).forEach(p -> {
      p.image().forEach(m -> all.add(m.digest()));
      p.referrers().forEach(m -> all.add(m.digest()));
    });
    return all.size();
  }

  /** The lists of several futures, concatenated in order. */
  private static <T> Future<List<T>> flatten(List<Future<List<T>>> parts) {
    return Future.all(parts).map(v -> {
      List<T> out = new ArrayList<>();
      parts.forEach(f -> out.addAll(f.result()));
      return out;
    });
  }

  /** A failure as a sync reports it: the upstream client's kind and detail, or the OCI code and detail. */
  static String reason(Throwable e) {
    if (e instanceof UpstreamException u) {
      return u.getMessage();
    }
    if (e instanceof OciException o) {
      return o.error().name() + ": " + o.detail();
    }
    return e.toString();
  }
}
