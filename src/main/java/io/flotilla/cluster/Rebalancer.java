package io.flotilla.cluster;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.SyncRepository;
import io.flotilla.storage.ReplicaStore;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.SyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps every repository this node holds on its current owners ("heal by sync"): after each
 * membership change (and every {@code interval}, to retry what failed), for each repository held
 * here, every owner other than this node is asked to copy it from here ({@link Replicator} on the
 * owner pulls only what it lacks). When this node is no longer an owner and every owner confirmed a
 * complete copy, the repository is dropped here (copy, then remove). A node that is draining
 * (leaving gracefully) copies but keeps its data. A repository already confirmed on the same owners
 * with the same content is skipped, so a quiet cluster costs nothing.
 *
 * <p>One pass runs at a time; a change during a pass schedules another. At most
 * {@link #PARALLEL_REPOSITORIES} repositories move at once. Runs on the Vert.x context it was
 * started on.
 */
public final class Rebalancer {
  /** Repositories copied at once by one node. */
  public static final int PARALLEL_REPOSITORIES = 2;
  private static final System.Logger LOG = System.getLogger(Rebalancer.class.getName());

  private final Vertx vertx;
  private final Membership membership;
  private final String localNode;
  private final ReplicaStore store;
  private final int replicationFactor;
  /** Repository -> the (owners, content) it was last confirmed complete on. */
  private final Map<String, String> confirmed = new ConcurrentHashMap<>();

  private final AtomicLong passes = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger moved = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();
  private final AtomicLong bytesCopied = new AtomicLong();
  private final AtomicLong totalMoved = new AtomicLong();
  private final AtomicLong totalFailed = new AtomicLong();
  private volatile boolean running;
  private volatile long lastPassMillis;
  private boolean again;
  private Promise<Void> idle = Promise.promise();
  private long timer = -1;
  private Membership.Subscription subscription;
  private io.vertx.core.Context context;

  public Rebalancer(Vertx vertx, Membership membership, String localNode, ReplicaStore store, int replicationFactor) {
    this.vertx = vertx;
    this.membership = membership;
    this.localNode = localNode;
    this.store = store;
    this.replicationFactor = replicationFactor;
  }

  /** Progress of the current (or last) pass and totals since start. */
  public record Status(boolean running, long passes, int pending, int moved, int failed, int dropped,
      long bytesCopied, long totalMoved, long totalFailed, long lastPassMillis) {}

  public Status status() {
    return new Status(running, passes.get(), pending.get(), moved.get(), failed.get(), dropped.get(), bytesCopied.get(),
        totalMoved.get(), totalFailed.get(), lastPassMillis);
  }

  /** Follows membership changes and re-checks every {@code intervalMillis}; call on the context to run on. */
  public void start(long intervalMillis) {
    context = vertx.getOrCreateContext();
    subscription = membership.subscribe(context, view -> trigger());
    timer = vertx.setPeriodic(intervalMillis, t -> trigger());
  }

  public void stop() {
    if (subscription != null) {
      subscription.close();
    }
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Starts a pass now, or after the running one. */
  public void trigger() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    pass().onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        LOG.log(System.Logger.Level.WARNING, "rebalancing pass failed", ar.cause());
      }
      if (again) {
        trigger();
      } else {
        Promise<Void> done = idle;
        idle = Promise.promise();
        done.tryComplete();
      }
    });
  }

  /**
   * Runs passes until one ends with nothing left to move and nothing failed, or the time is up.
   * Completes with whether the node's repositories are all on their owners. Used by a graceful leave.
   * The deadline holds whatever a pass is doing: a pass stuck on a copy (a peer that died mid-copy
   * answers only at the 30 min bus timeout) does not hold the result back; it completes false at
   * the deadline, and the pass is left to finish or fail on its own.
   */
  public Future<Boolean> settle(long timeoutMillis) {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    if (context == null) {
      return Future.succeededFuture(false);
    }
    Promise<Boolean> result = Promise.promise();
    context.runOnContext(v -> {
      long timer = vertx.setTimer(Math.max(1, timeoutMillis), t -> {
        if (result.tryComplete(false)) {
          LOG.log(System.Logger.Level.WARNING, "hand-off deadline reached while a rebalancing pass still runs ("
              + pending.get() + " repositories pending)");
        }
      });
      settleUntil(deadline).onComplete(ar -> {
        vertx.cancelTimer(timer);
        if (ar.succeeded()) {
          result.tryComplete(ar.result());
        } else {
          result.tryFail(ar.cause());
        }
      });
    });
    return result.future();
  }

  private Future<Boolean> settleUntil(long deadline) {
    Promise<Void> waitFor = idle;
    trigger();
    return waitFor.future().compose(v -> {
      Status s = status();
      if (s.failed() == 0 && !running) {
        return Future.succeededFuture(true);
      }
      if (System.currentTimeMillis() >= deadline) {
        return Future.succeededFuture(false);
      }
      Promise<Void> pause = Promise.promise();
      vertx.setTimer(500, t -> pause.complete());
      return pause.future().compose(x -> settleUntil(deadline));
    });
  }

  private Future<Void> pass() {
    long started = System.currentTimeMillis();
    passes.incrementAndGet();
    Placement placement = membership.placement();
    boolean draining = membership.draining().contains(localNode);
    List<Future<?>> results = new ArrayList<>();
    AsyncLimiter limiter = new AsyncLimiter(PARALLEL_REPOSITORIES);
    pending.set(0);
    moved.set(0);
    failed.set(0);
    dropped.set(0);
    for (String repository : store.repositories()) {
      List<String> owners = new ArrayList<>();
      placement.owners(repository, replicationFactor).forEach(m -> owners.add(m.nodeName()));
      if (owners.isEmpty()) {
        continue;
      }
      String signature = owners + "#" + store.fingerprint(repository);
      if (signature.equals(confirmed.get(repository))) {
        continue;
      }
      pending.incrementAndGet();
      boolean keep = owners.contains(localNode) || draining;
      results.add(limiter.run(() -> move(repository, owners, keep, signature)));
    }
    return Future.join(results).otherwiseEmpty().<Void>mapEmpty().andThen(ar -> {
      lastPassMillis = System.currentTimeMillis() - started;
      if (moved.get() + failed.get() > 0) {
        LOG.log(System.Logger.Level.INFO, "rebalancing pass " + passes.get() + ": " + moved.get() + " repositories"
            + " checked on their owners, " + failed.get() + " failed, " + dropped.get() + " dropped here, "
            + lastPassMillis + " ms");
      }
    });
  }

  /** Has every other owner copy the repository from here; drops it here when this node is not an owner. */
  private Future<Void> move(String repository, List<String> owners, boolean keep, String signature) {
    RequestContext ctx = RequestContext.internal("rebalance");
    List<Future<SyncResult>> copies = new ArrayList<>();
    for (String owner : owners) {
      if (!owner.equals(localNode)) {
        copies.add(Bus.request(vertx, Addresses.REPLICA_SYNC, owner, false, new SyncRepository(ctx, repository, localNode)));
      }
    }
    return Future.all(copies)
        .compose(all -> {
          for (Future<SyncResult> f : copies) {
            bytesCopied.addAndGet(f.result().bytes());
          }
          if (keep) {
            return Future.<Void>succeededFuture();
          }
          // a write may have landed here after the copy started: only drop what the owners confirmed
          if (!signature.endsWith("#" + store.fingerprint(repository))) {
            return Future.failedFuture(new IllegalStateException(repository + " changed while it was copied"));
          }
          // the owners may have changed meanwhile (this node may own it again): the next pass decides
          List<String> now = new ArrayList<>();
          membership.placement().owners(repository, replicationFactor).forEach(m -> now.add(m.nodeName()));
          if (!now.equals(owners)) {
            return Future.failedFuture(new IllegalStateException(repository + " changed owners while it was copied"));
          }
          return store.drop(repository).onSuccess(v -> dropped.incrementAndGet());
        })
        .andThen(ar -> {
          pending.decrementAndGet();
          if (ar.succeeded()) {
            if (keep) {
              confirmed.put(repository, signature);
            } else {
              confirmed.remove(repository);
            }
            moved.incrementAndGet();
            totalMoved.incrementAndGet();
          } else {
            failed.incrementAndGet();
            totalFailed.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "could not copy " + repository + " to " + owners + ": "
                + ar.cause().getMessage());
          }
        })
        .otherwiseEmpty();
  }
}
