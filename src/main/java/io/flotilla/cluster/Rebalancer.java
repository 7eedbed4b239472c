package io.flotilla.cluster;

import io.flotilla.storage.AsyncLimiter;
import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.CaughtUp;
import io.flotilla.bus.Messages.GetFingerprints;
import io.flotilla.bus.Messages.PullBlob;
import io.flotilla.bus.Messages.SyncRepository;
import io.flotilla.storage.ReplicaStore;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.Fingerprint;
import io.flotilla.storage.StorageTypes.SyncResult;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps every repository this node holds on its current owners ("heal by sync"): after each
 * membership change (and every {@code interval}, to retry what failed), for each repository held
 * here, every owner other than this node is asked to copy it from here ({@link Replicator} on the
 * owner pulls only what it lacks). When this node is no longer an owner and every owner confirmed a
 * complete copy, the repository is dropped here (copy, then remove). A node that is draining
 * (leaving gracefully) copies but keeps its data. Each pass asks every owner, in one message per
 * owner, for its fingerprints of the repositories it owns that this node holds, and copies only to
 * owners whose copy differs: a quiet cluster costs one small message per member and pass, and an
 * owner that lost its copy (replaced, or crashed after an old owner dropped) is found on the next
 * pass. At the end of a pass, every catching-up member that got everything it owns from here is told
 * so ({@link CatchUp}).
 *
 * <p>One pass runs at a time; a change during a pass schedules another. At most
 * {@link #PARALLEL_REPOSITORIES} repositories move at once. Runs on the Vert.x context it was
 * started on.
 */
public final class Rebalancer {
  /** Repositories copied at once by one node. */
  public static final int PARALLEL_REPOSITORIES = 2;
  private static final System.Logger LOG = System.getLogger(Rebalancer.class.getName());
  /** How often a hand-off looks whether any other member still serves. */
  private static final long NOBODY_CHECK_MILLIS = 500;

  private final Vertx vertx;
  private final Membership membership;
  private final String localNode;
  private final ReplicaStore store;
  private final int replicationFactor;
  private final CatchUp catchUp;

  private final AtomicLong passes = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger moved = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger dropped = new AtomicInteger();
  private final AtomicLong bytesCopied = new AtomicLong();
  private final AtomicLong totalMoved = new AtomicLong();
  private final AtomicLong totalFailed = new AtomicLong();
  private final AtomicLong totalDropped = new AtomicLong();
  private volatile boolean running;
  private volatile long lastPassMillis;
  private boolean again;
  private Promise<Void> idle = Promise.promise();
  private long timer = -1;
  private Membership.Subscription subscription;
  private io.vertx.core.Context context;

  public Rebalancer(Vertx vertx, Membership membership, String localNode, ReplicaStore store, int replicationFactor,
      CatchUp catchUp) {
    this.vertx = vertx;
    this.catchUp = catchUp;
    this.membership = membership;
    this.localNode = localNode;
    this.store = store;
    this.replicationFactor = replicationFactor;
  }

  /** Progress of the current (or last) pass and totals since start. */
  public record Status(boolean running, long passes, int pending, int moved, int failed, int dropped,
      long bytesCopied, long totalMoved, long totalFailed, long totalDropped, long lastPassMillis) {}

  public Status status() {
    return new Status(running, passes.get(), pending.get(), moved.get(), failed.get(), dropped.get(), bytesCopied.get(),
        totalMoved.get(), totalFailed.get(), totalDropped.get(), lastPassMillis);
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
      // each logs before it completes the result, so that its line comes before the caller's verdict
      long timer = vertx.setTimer(Math.max(1, timeoutMillis), t -> {
        if (!result.future().isComplete()) {
          LOG.log(System.Logger.Level.WARNING, "hand-off deadline reached while a rebalancing pass still runs ("
              + pending.get() + " repositories pending)");
          result.tryComplete(false);
        }
      });
      // a hand-off only goes to members that serve: with none left (the whole cluster stopping at
      // once, or this node the last one), waiting for the deadline would only delay the exit
      long watch = vertx.setPeriodic(1, NOBODY_CHECK_MILLIS, t -> {
        if (!membership.anotherServing(localNode) && !result.future().isComplete()) {
          LOG.log(System.Logger.Level.WARNING, "hand-off abandoned: no other member serves ("
              + membership.draining().size() + " draining), so nobody can take this node's repositories");
          result.tryComplete(false);
        }
      });
      result.future().onComplete(done -> {
        vertx.cancelTimer(timer);
        vertx.cancelTimer(watch);
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

  /**
   * Copies the uploads settling in {@code repository} here (blobs no manifest references yet, linked
   * within the grace period: a push in flight) to every owner, so that the repository can be dropped
   * here without failing that push; completes with their digests. A copy that fails fails the whole.
   */
  private Future<Set<String>> handOverUploads(String repository, List<String> owners) {
    return store.settlingUploads(repository).compose(uploads -> {
      if (uploads.isEmpty()) {
        return Future.succeededFuture(Set.<String>of());
      }
      List<Future<?>> copies = new ArrayList<>();
      RequestContext ctx = RequestContext.internal("handover-" + repository);
      for (String owner : owners) {
        uploads.forEach((digest, size) -> copies.add(Bus.request(vertx, Addresses.REPLICA_BLOB, owner,
            owner.equals(localNode), new PullBlob(ctx, repository, localNode, digest, size))));
      }
      return Future.all(copies).map(v -> Set.copyOf(uploads.keySet()));
    });
  }

  private Future<Void> pass() {
    long started = System.currentTimeMillis();
    passes.incrementAndGet();
    Placement placement = membership.placement();
    boolean draining = membership.draining().contains(localNode);
    pending.set(0);
    moved.set(0);
    failed.set(0);
    dropped.set(0);
    Set<String> unreachable = ConcurrentHashMap.newKeySet();
    // a scan of every repository held here: on a worker, so a node with 100,000 repositories does
    // not hold an event loop for the length of it
    return vertx.executeBlocking(() -> Held.of(store, placement, replicationFactor, localNode), false).compose(h -> {
      Map<String, Fingerprint> held = h.held();
      Map<String, List<String>> ownersOf = h.ownersOf();
      return fingerprintsOf(h.askEach(), unreachable).compose(theirs -> {
        List<Future<?>> results = new ArrayList<>();
        AsyncLimiter limiter = new AsyncLimiter(PARALLEL_REPOSITORIES);
        for (Map.Entry<String, Fingerprint> e : held.entrySet()) {
          String repository = e.getKey();
          List<String> owners = ownersOf.get(repository);
          List<String> behind = new ArrayList<>();
          for (String owner : owners) {
            if (!owner.equals(localNode)
                && !Long.valueOf(e.getValue().value()).equals(theirs.getOrDefault(owner, Map.of()).get(repository))) {
              behind.add(owner);
            }
          }
          boolean keep = owners.contains(localNode) || draining;
          if (behind.isEmpty() && keep) {
            continue; // every owner's copy agrees with this one
          }
          pending.incrementAndGet();
          results.add(limiter.run(() -> move(repository, owners, behind, keep, e.getValue(), unreachable)));
        }
        return Future.join(results).otherwiseEmpty();
      });
    }).<Void>mapEmpty().andThen(ar -> {
      lastPassMillis = System.currentTimeMillis() - started;
      tellCaughtUp(placement, unreachable);
      if (moved.get() + failed.get() > 0) {
        LOG.log(System.Logger.Level.INFO, "rebalancing pass " + passes.get() + ": " + moved.get() + " repositories"
            + " checked on their owners, " + failed.get() + " failed, " + dropped.get() + " dropped here, "
            + lastPassMillis + " ms");
      }
    });
  }

  /**
   * Each repository held here as of now, with its fingerprint (owners are compared with it, and a
   * drop is refused if it changes), its owners, and which repositories to ask each other owner about.
   */
  private record Held(Map<String, Fingerprint> held, Map<String, List<String>> ownersOf,
      Map<String, List<String>> askEach) {

    /** Scans the store; blocking. */
    static Held of(ReplicaStore store, Placement placement, int replicationFactor, String localNode) {
      Map<String, Fingerprint> held = new LinkedHashMap<>();
      Map<String, List<String>> ownersOf = new HashMap<>();
      Map<String, List<String>> askEach = new TreeMap<>();
      for (Map.Entry<String, Fingerprint> e : store.heldFingerprints().entrySet()) {
        String repository = e.getKey();
        List<String> owners = new ArrayList<>();
        placement.owners(repository, replicationFactor).forEach(m -> owners.add(m.nodeName()));
        if (owners.isEmpty()) {
          continue;
        }
        held.put(repository, e.getValue());
        ownersOf.put(repository, owners);
        for (String owner : owners) {
          if (!owner.equals(localNode)) {
            askEach.computeIfAbsent(owner, k -> new ArrayList<>()).add(repository);
          }
        }
      }
      return new Held(held, ownersOf, askEach);
    }
  }

  /**
   * Asks each owner, in one message, for its fingerprints of the repositories it owns that this node
   * holds. An owner that does not answer is taken as holding none of them (and marked unreachable).
   */
  private Future<Map<String, Map<String, Long>>> fingerprintsOf(Map<String, List<String>> askEach,
      Set<String> unreachable) {
    Map<String, Map<String, Long>> out = new ConcurrentHashMap<>();
    List<Future<?>> asks = new ArrayList<>();
    RequestContext ctx = RequestContext.internal("rebalance");
    for (Map.Entry<String, List<String>> e : askEach.entrySet()) {
      asks.add(Bus.request(vertx, Addresses.REPLICA_FINGERPRINTS, e.getKey(), false, new GetFingerprints(ctx, e.getValue()))
          .onSuccess(f -> out.put(e.getKey(), f.fingerprints()))
          .onFailure(err -> unreachable.add(e.getKey())));
    }
    return Future.join(asks).otherwiseEmpty().map(v -> out);
  }

  /**
   * Tells each catching-up serving member of this pass's placement that was reached without failure
   * that it now has everything it owns from here (see {@link CatchUp}).
   */
  private void tellCaughtUp(Placement placement, Set<String> failedFor) {
    for (Member m : placement.view().members()) {
      String node = m.nodeName();
      if (!node.equals(localNode) && !failedFor.contains(node) && catchUp.isCatchingUp(node)) {
        Bus.request(vertx, Addresses.REPLICA_CAUGHT_UP, node, false, new CaughtUp(localNode))
            .onFailure(err -> LOG.log(System.Logger.Level.DEBUG, "could not tell " + node + " it caught up: " + err));
      }
    }
  }

  /**
   * Has every owner whose copy differs ({@code behind}) copy the repository from here; then, when this
   * node is not an owner, drops it here if every owner confirmed a complete copy and nothing changed
   * here since {@code state} (re-checked under the repository's lock, see ReplicaStore#dropIfUnchanged).
   */
  private Future<Void> move(String repository, List<String> owners, List<String> behind, boolean keep,
      Fingerprint state, Set<String> failedFor) {
    RequestContext ctx = RequestContext.internal("rebalance");
    List<Future<SyncResult>> copies = new ArrayList<>();
    for (String owner : behind) {
      copies.add(Bus.request(vertx, Addresses.REPLICA_SYNC, owner, false, new SyncRepository(ctx, repository, localNode))
          .onComplete(ar -> {
            if (ar.failed() || !ar.result().complete()) {
              failedFor.add(owner);
            }
          }));
    }
    return Future.all(copies)
        .compose(all -> {
          List<String> problems = new ArrayList<>();
          for (int i = 0; i < copies.size(); i++) {
            SyncResult r = copies.get(i).result();
            bytesCopied.addAndGet(r.bytes());
            if (!r.complete()) {
              problems.add(behind.get(i) + " could not copy " + r.failed() + " objects: " + r.problems());
            }
          }
          if (!problems.isEmpty()) {
            return Future.failedFuture(new IllegalStateException(String.join("; ", problems)));
          }
          if (keep) {
            return Future.<Void>succeededFuture();
          }
          // the owners may have changed meanwhile (this node may own it again): the next pass decides
          List<String> now = new ArrayList<>();
          membership.placement().owners(repository, replicationFactor).forEach(m -> now.add(m.nodeName()));
          if (!now.equals(owners)) {
            return Future.failedFuture(new IllegalStateException(repository + " changed owners while it was copied"));
          }
          // uploads of a push in flight go to the new owners first: its manifest PUT lands there
          return handOverUploads(repository, owners)
              .compose(handedOver -> store.dropIfUnchanged(repository, state.version(), handedOver)).compose(gone -> gone
              ? Future.<Void>succeededFuture().onSuccess(v -> {
                dropped.incrementAndGet();
                totalDropped.incrementAndGet();
              })
              : Future.failedFuture(new IllegalStateException(repository + " changed while it was copied")));
        })
        .andThen(ar -> {
          pending.decrementAndGet();
          if (ar.succeeded()) {
            moved.incrementAndGet();
            totalMoved.incrementAndGet();
          } else {
            failed.incrementAndGet();
            totalFailed.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "could not copy " + repository + " to " + owners + ": "
                + ar.cause().getMessage());
          }
        })
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }
}
