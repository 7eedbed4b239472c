package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.AsyncLimiter;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs fetched from upstream on a first pull, one upstream GET per (repository, digest) at a time
 * ({@link SingleFlight}). A flight opens the upstream GET, then streams the verified bytes into
 * {@link BlobTransfer#monolithic} of the repository (storage checks digest and length again before it
 * commits, so a stream cut short stores nothing), teeing them to the response of the request that
 * started it ({@link BlobTee}). Requests that come while a flight runs wait for it and are then served
 * from the stored blob; when it failed they fail too, and the next request starts a new flight.
 *
 * <p>The stat and the send of one GET are two calls ({@code statBlob}, then {@code send}): the stat
 * that starts a flight answers a {@link BlobInfo} whose {@code node} is {@link #UPSTREAM} and keeps the
 * opened upstream stream paused for that request's send to claim. If no send claims it within
 * {@code claimMillis} (a HEAD, a 416, a client gone), the flight stores without a client. Runs on
 * event loops; thread-safe.
 */
final class PullThroughBlobs {
  /** {@link BlobInfo#node()} of a blob being fetched from upstream for the request that asked. */
  static final String UPSTREAM = "pull-through:upstream";
  private static final Logger LOG = LoggerFactory.getLogger(PullThroughBlobs.class);
  private static final AtomicLong IDS = new AtomicLong();

  private final Vertx vertx;
  private final RegistryStorage storage;
  private final BlobTransfer bytes;
  private final EventSink events;
  private final long claimMillis;
  private final AsyncLimiter background;
  private final SingleFlight<String, BlobInfo> flights = new SingleFlight<>();
  /** Flights opened for a request's send to claim, by key. */
  private final Map<String, Opened> unclaimed = new ConcurrentHashMap<>();

  /** An opened upstream stream waiting for its requester's send (or for the claim timer). */
  private record Opened(String requestId, UpstreamBlob blob, Context context, RequestContext writes,
      RepositoryName repository, Promise<BlobInfo> stored, AtomicBoolean taken) {
    boolean take() {
      return taken.compareAndSet(false, true);
    }
  }

  /**
   * @param storage the storage API without pull-through (stats, as internal requests)
   * @param bytes the blob byte path without pull-through (stores; sends of stored blobs)
   * @param events where pulls served from upstream are reported
   * @param backgroundCopies blob copies a manifest store runs at once on this node
   */
  PullThroughBlobs(Vertx vertx, RegistryStorage storage, BlobTransfer bytes, EventSink events, long claimMillis,
      int backgroundCopies) {
    this.vertx = vertx;
    this.storage = storage;
    this.bytes = bytes;
    this.events = events;
    this.claimMillis = claimMillis;
    this.background = new AsyncLimiter(backgroundCopies);
  }

  /**
   * A blob the repository lacks locally: waits for a flight that runs (then the local stat), or
   * starts one and answers the upstream's size, marked {@link #UPSTREAM} for this request's send.
   * HEAD requests answer at once too, and the flight stores without a client.
   */
  Future<BlobInfo> stat(RequestContext ctx, PullThroughSource src, RepositoryName repo, Digest digest) {
    String key = key(repo, digest);
    Promise<BlobInfo> answer = Promise.promise();
    AtomicBoolean started = new AtomicBoolean();
    Future<BlobInfo> flight = flights.join(key, () -> {
      started.set(true);
      return open(src, repo, digest, ctx, answer);
    });
    if (!started.get()) {
      return onCaller(flight).compose(v -> storage.statBlob(ctx, repo.value(), digest.toString()));
    }
    return answer.future();
  }

  /** Sends a blob that {@link #stat} marked {@link #UPSTREAM}: tees the flight when this request may claim it. */
  Future<Void> send(RequestContext ctx, RepositoryName repo, BlobInfo info, long offset, long length,
      HttpServerResponse response) {
    Digest digest = Digest.parse(info.digest());
    String key = key(repo, digest);
    Opened o = unclaimed.get(key);
    if (o != null && o.requestId().equals(ctx.requestId()) && o.take()) {
      unclaimed.remove(key, o);
      Promise<Void> served = Promise.promise();
      o.context().runOnContext(v -> {
        BlobTee tee = new BlobTee(o.blob(), o.blob()::cancel, o.context(), response, offset, offset + length);
        store(o, digest, tee);
        tee.served().onComplete(served);
      });
      return served.future().onSuccess(v -> events.record(ctx, new Operation("pull", repo.value(), digest.toString(),
          "application/octet-stream", length, null, null, List.of())));
    }
    // claimed by the store alone already (or another request): served from storage once it is there
    Future<BlobInfo> running = flights.running(key);
    return onCaller(running == null ? Future.succeededFuture() : running)
        .compose(v -> storage.statBlob(ctx, repo.value(), digest.toString()))
        .compose(local -> bytes.send(ctx, repo, local, offset, length, response));
  }

  /**
   * Makes sure the repository holds the blob (joining a flight that runs, or starting one without a
   * client, a few at a time per node): what a manifest needs before it can be stored.
   */
  Future<Void> ensure(PullThroughSource src, RepositoryName repo, Digest digest) {
    return present(repo, digest).compose(has -> has ? Future.succeededFuture()
        : flights.join(key(repo, digest), () -> background.run(() -> open(src, repo, digest, null, null))).mapEmpty());
  }

  /** How many flights run now (for tests and diagnostics). */
  int inFlight() {
    return flights.size();
  }

  // ------------------------------------------------------------------ a flight

  /**
   * Opens a flight; completes when the blob is stored (or the flight failed). {@code answer} (null
   * for a store without a requester) gets the stat answer of the request that started it.
   */
  private Future<BlobInfo> open(PullThroughSource src, RepositoryName repo, Digest digest, RequestContext ctx,
      Promise<BlobInfo> answer) {
    Promise<BlobInfo> stored = Promise.promise();
    // stored by a flight that ended between the caller's miss and now: nothing to fetch
    storage.statBlob(RequestContext.internal("pull-through"), repo.value(), digest.toString())
        .map(info -> {
          stored.tryComplete(info);
          if (answer != null) {
            answer.tryComplete(info);
          }
          return true;
        })
        .recover(e -> absent(e) ? Future.succeededFuture(false) : Future.failedFuture(e))
        .compose(has -> has ? Future.succeededFuture() : src.upstream().blob(src.upstreamName(), digest).map(blob -> {
          started(src, repo, digest, ctx, answer, blob, stored);
          return null;
        }))
        .onFailure(e -> {
          stored.tryFail(e);
          if (answer != null) {
            answer.tryFail(e);
          }
        });
    return stored.future();
  }

  private void started(PullThroughSource src, RepositoryName repo, Digest digest, RequestContext ctx,
      Promise<BlobInfo> answer, UpstreamBlob blob, Promise<BlobInfo> stored) {
    blob.pause();
    Context context = vertx.getOrCreateContext();
    RequestContext writes = RequestContext.sync("pull-through-" + IDS.incrementAndGet(),
        src.upstream().config().url().toString());
    Opened o = new Opened(ctx == null ? "" : ctx.requestId(), blob, context, writes, repo, stored, new AtomicBoolean());
    if (answer == null || blob.size() < 0) {
      // a copy for a manifest, or a size the client cannot be told before the bytes: store, then serve locally
      o.take();
      store(o, digest, new BlobTee(blob, blob::cancel, context, null, 0, 0));
      if (answer != null) {
        onCaller(stored.future()).compose(v -> storage.statBlob(ctx, repo.value(), digest.toString())).onComplete(answer);
      }
      return;
    }
    if ("HEAD".equals(ctx.method())) {
      // no bytes to serve: answer with the upstream's size and store in the background
      o.take();
      store(o, digest, new BlobTee(blob, blob::cancel, context, null, 0, 0));
      answer.complete(new BlobInfo(digest.toString(), blob.size(), UPSTREAM));
      return;
    }
    String key = key(repo, digest);
    unclaimed.put(key, o);
    vertx.setTimer(claimMillis, t -> {
      if (o.take()) {
        unclaimed.remove(key, o);
        context.runOnContext(v -> store(o, digest, new BlobTee(blob, blob::cancel, context, null, 0, 0)));
      }
    });
    answer.complete(new BlobInfo(digest.toString(), blob.size(), UPSTREAM));
  }

  /** Streams the tee into the repository; completes the flight with the stored blob, or fails it. */
  private void store(Opened o, Digest digest, BlobTee tee) {
    bytes.monolithic(o.writes(), o.repository(), digest, tee, o.blob().size()).onComplete(ar -> {
      if (ar.succeeded()) {
        o.stored().tryComplete(ar.result());
      } else {
        LOG.info("pull-through of {} into {} not stored: {}", digest, o.repository(), SyncRun.reason(ar.cause()));
        tee.storeGone();
        o.stored().tryFail(ar.cause());
      }
    });
  }

  private Future<Boolean> present(RepositoryName repo, Digest digest) {
    return storage.statBlob(RequestContext.internal("pull-through"), repo.value(), digest.toString())
        .map(info -> true)
        .recover(e -> absent(e) ? Future.succeededFuture(false) : Future.failedFuture(e));
  }

  private static String key(RepositoryName repo, Digest digest) {
    return repo.value() + "@" + digest;
  }

  /** Whether a storage failure says the repository, manifest or blob does not exist. */
  static boolean absent(Throwable e) {
    return e instanceof OciException o && (o.error() == OciError.NAME_UNKNOWN || o.error() == OciError.MANIFEST_UNKNOWN
        || o.error() == OciError.BLOB_UNKNOWN);
  }

  /** {@code f}'s outcome on the caller's context (flights complete on the context of whoever started them). */
  static <T> Future<T> onCaller(Future<T> f) {
    Context caller = Vertx.currentContext();
    if (caller == null) {
      return f;
    }
    Promise<T> p = Promise.promise();
    f.onComplete(ar -> {
      if (Vertx.currentContext() == caller) {
        p.handle(ar);
      } else {
        caller.runOnContext(v -> p.handle(ar));
      }
    });
    return p.future();
  }
}
