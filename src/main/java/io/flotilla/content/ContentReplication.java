package io.flotilla.content;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.ContentEntry;
import io.flotilla.bus.Messages.ContentSet;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.Messages.GetContent;
import io.flotilla.cluster.ClusterView;
import io.flotilla.cluster.Membership;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps every node's {@link ContentStore} equal over the event bus, as {@code auth.ApiKeyReplication}
 * does for API keys: content objects are small, so every node holds all of them and answers the
 * content API, distribution pulls and pull-through lookups from its own memory. A write is saved
 * here, then pushed to every other member on {@link Addresses#CONTENT_PUSH}; its future completes
 * once each member answered or failed (5 s at most), so what a client was told is visible on every
 * reachable node, and a task that releases its repository lock has published its version first. A
 * member that missed a push catches up by anti-entropy: at start (before this node serves HTTP), when
 * a member joins, and every {@code roundMillis}, it asks the others for their sets
 * ({@link Addresses#CONTENT_GET}) and merges them; records are ordered
 * ({@link ContentRecord#laterThan}), so the order of pushes and rounds does not matter. Rounds also
 * forget tombstones older than a week. Disk work runs on workers.
 */
public final class ContentReplication extends VerticleBase {
  /** Default time between two anti-entropy rounds. */
  public static final long ROUND_MILLIS = 30_000;
  /** How long deletes are remembered. */
  static final long TOMBSTONE_MILLIS = 7L * 24 * 3600 * 1000;
  private static final System.Logger LOG = System.getLogger(ContentReplication.class.getName());

  private final ContentStore store;
  private final Membership membership;
  private final String nodeId;
  private final long roundMillis;
  private long timer = -1;
  private Membership.Subscription subscription;
  private Set<String> seen = Set.of();
  private boolean running;
  private boolean again;

  public ContentReplication(ContentStore store, Membership membership, String nodeId, long roundMillis) {
    this.store = store;
    this.membership = membership;
    this.nodeId = nodeId;
    this.roundMillis = roundMillis;
  }

  /** The store this verticle replicates. */
  public ContentStore store() {
    return store;
  }

  @Override
  public Future<?> start() {
    return Future.all(
        Bus.serve(vertx, Addresses.CONTENT_GET, nodeId, q -> Future.succeededFuture(toSet(store.snapshot()))),
        Bus.serve(vertx, Addresses.CONTENT_PUSH, nodeId, set -> vertx.executeBlocking(() -> {
          store.merge(fromSet(set));
          return new Done();
        }, false)))
        .compose(v -> round())
        .onSuccess(v -> {
          timer = vertx.setPeriodic(roundMillis, t -> round());
          subscription = membership.subscribe(context, this::viewChanged);
        });
  }

  @Override
  public Future<?> stop() {
    if (subscription != null) {
      subscription.close();
    }
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** Writes a record here (saved first) and pushes it to every other member. */
  public static Future<ContentRecord> put(Vertx vertx, ContentStore store, Membership membership, String kind,
      String key, String body) {
    return vertx.executeBlocking(() -> store.put(kind, key, body), false)
        .compose(r -> push(vertx, membership, store.nodeId(), List.of(r)).map(r));
  }

  /** Deletes a record here (a tombstone) and pushes the tombstone; empty when nothing was live. */
  public static Future<Optional<ContentRecord>> delete(Vertx vertx, ContentStore store, Membership membership,
      String kind, String key) {
    return vertx.executeBlocking(() -> store.delete(kind, key), false)
        .compose(r -> r.isEmpty() ? Future.succeededFuture(r)
            : push(vertx, membership, store.nodeId(), List.of(r.get())).map(r));
  }

  static Future<Void> push(Vertx vertx, Membership membership, String nodeId, List<ContentRecord> changed) {
    ContentSet set = toSet(changed);
    List<Future<Done>> calls = new ArrayList<>();
    for (String node : membership.current().nodeNames()) {
      if (!node.equals(nodeId)) {
        calls.add(Bus.request(vertx, Addresses.CONTENT_PUSH, node, false, set)
            .onFailure(e -> LOG.log(System.Logger.Level.WARNING, "content change not pushed to " + node
                + " (anti-entropy will bring it): " + e.getMessage())));
      }
    }
    return Future.join(calls).<Void>mapEmpty().otherwiseEmpty();
  }

  private void viewChanged(ClusterView view) {
    Set<String> now = new HashSet<>(view.nodeNames());
    boolean joined = !seen.containsAll(now);
    seen = now;
    if (joined) {
      round();
    }
  }

  /** One anti-entropy round; a round asked for while one runs follows it. Runs on this verticle's context. */
  Future<Void> round() {
    if (running) {
      again = true;
      return Future.succeededFuture();
    }
    running = true;
    List<Future<ContentSet>> calls = new ArrayList<>();
    GetContent ask = new GetContent(nodeId);
    for (String node : membership.current().nodeNames()) {
      if (!node.equals(nodeId)) {
        calls.add(Bus.request(vertx, Addresses.CONTENT_GET, node, false, ask)
            .onFailure(e -> LOG.log(System.Logger.Level.DEBUG, "no content records from " + node + ": " + e.getMessage())));
      }
    }
    return Future.join(calls).otherwiseEmpty().compose(v -> vertx.executeBlocking(() -> {
      for (Future<ContentSet> answer : calls) {
        if (answer.succeeded()) {
          store.merge(fromSet(answer.result()));
        }
      }
      store.forget(System.currentTimeMillis() - TOMBSTONE_MILLIS);
      return null;
    }, false)).<Void>mapEmpty().onFailure(e -> LOG.log(System.Logger.Level.WARNING, "content round failed", e))
        .otherwiseEmpty().andThen(ar -> {
          running = false;
          if (again) {
            again = false;
            round();
          }
        });
  }

  static ContentSet toSet(List<ContentRecord> records) {
    return new ContentSet(records.stream()
        .map(r -> new ContentEntry(r.kind(), r.key(), r.rev(), r.node(), r.deleted(), r.body())).toList());
  }

  static List<ContentRecord> fromSet(ContentSet set) {
    List<ContentRecord> out = new ArrayList<>(set.records().size());
    for (ContentEntry e : set.records()) {
      if (e.kind() != null && e.key() != null && e.node() != null) {
        out.add(new ContentRecord(e.kind(), e.key(), e.rev(), e.node(), e.deleted(), e.body()));
      }
    }
    return out;
  }
}
