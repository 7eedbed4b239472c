package io.flotilla.search;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.Messages.GetPrefs;
import io.flotilla.bus.Messages.PrefEntry;
import io.flotilla.bus.Messages.PrefSet;
import io.flotilla.cluster.ClusterView;
import io.flotilla.cluster.Membership;
import io.flotilla.search.PrefsStore.Pref;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps every node's {@link PrefsStore} equal over the event bus, as {@code auth.ApiKeyReplication}
 * does for API keys: every node holds every user's stars and bookmarks (they are small), so a
 * search on any node, and any node that joins or comes back, answers the same. A toggle is applied
 * and saved here, then pushed to every other member on {@link Addresses#PREFS_PUSH}; its future
 * completes once each member answered or failed (5 s at most), so a query on another reachable node
 * right after the toggle sees it. A member that missed a push (down, or the push failed) catches up
 * by anti-entropy: at start (before this node serves HTTP), when a member joins, and every
 * {@code roundMillis}, each node asks the others for their sets on {@link Addresses#PREFS_GET} and
 * merges them; records are versioned, so the order of pushes and rounds does not matter
 * ({@link PrefsStore#merge}). Thin: the rules are in {@link PrefsStore}; the disk work runs on
 * workers, the rest on this verticle's event loop.
 */
public final class PrefsReplication extends VerticleBase implements PrefToggles {
  /** Default time between two anti-entropy rounds. */
  public static final long ROUND_MILLIS = 30_000;
  private static final System.Logger LOG = System.getLogger(PrefsReplication.class.getName());

  private final PrefsStore store;
  private final Membership membership;
  private final String nodeId;
  private final long roundMillis;
  private long timer = -1;
  private Membership.Subscription subscription;
  private Set<String> seen = Set.of();
  private boolean running;
  private boolean again;

  /** Replicates {@code store} among {@code membership}'s members, with a round every {@link #ROUND_MILLIS}. */
  public PrefsReplication(PrefsStore store, Membership membership, String nodeId) {
    this(store, membership, nodeId, ROUND_MILLIS);
  }

  /** As above, with a round every {@code roundMillis} (tests use shorter ones). */
  public PrefsReplication(PrefsStore store, Membership membership, String nodeId, long roundMillis) {
    this.store = store;
    this.membership = membership;
    this.nodeId = nodeId;
    this.roundMillis = roundMillis;
  }

  /** Serves both addresses, then runs a first round (so a node that was away catches up before it serves). */
  @Override
  public Future<?> start() {
    return Future.all(
        Bus.serve(vertx, Addresses.PREFS_GET, nodeId, q -> Future.succeededFuture(new PrefSet(toEntries(store.snapshot())))),
        Bus.serve(vertx, Addresses.PREFS_PUSH, nodeId, set -> vertx.executeBlocking(() -> {
          store.merge(fromEntries(set.prefs()));
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

  /**
   * Toggles here (saved before anything else), then pushes the new record to every other member.
   * Fails with {@link IllegalArgumentException} for a bad user or name, or the save's failure.
   */
  @Override
  public Future<Boolean> toggle(String user, String repository, Kind kind) {
    return vertx.executeBlocking(() -> store.toggle(user, repository, kind), false)
        .compose(pref -> push(List.of(pref)).map(pref.on()));
  }

  private Future<Void> push(List<Pref> changed) {
    PrefSet set = new PrefSet(toEntries(changed));
    List<Future<Done>> calls = new ArrayList<>();
    for (String node : others()) {
      calls.add(Bus.request(vertx, Addresses.PREFS_PUSH, node, false, set)
          .onFailure(e -> LOG.log(System.Logger.Level.WARNING, "star/bookmark not pushed to " + node
              + " (anti-entropy will bring it): " + e.getMessage())));
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
    List<Future<PrefSet>> calls = new ArrayList<>();
    GetPrefs ask = new GetPrefs(nodeId);
    for (String node : others()) {
      calls.add(Bus.request(vertx, Addresses.PREFS_GET, node, false, ask)
          .onFailure(e -> LOG.log(System.Logger.Level.DEBUG, "no stars/bookmarks from " + node + ": " + e.getMessage())));
    }
    return Future.join(calls).otherwiseEmpty().compose(v -> vertx.executeBlocking(() -> {
      for (Future<PrefSet> answer : calls) {
        if (answer.succeeded()) {
          store.merge(fromEntries(answer.result().prefs()));
        }
      }
      return null;
    }, false)).<Void>mapEmpty().onFailure(e -> LOG.log(System.Logger.Level.WARNING, "star/bookmark round failed", e))
        .otherwiseEmpty().andThen(ar -> {
          running = false;
          if (again) {
            again = false;
            round();
          }
        });
  }

  private List<String> others() {
    return membership.current().nodeNames().stream().filter(n -> !n.equals(nodeId)).toList();
  }

  static List<PrefEntry> toEntries(List<Pref> list) {
    return list.stream().map(p -> new PrefEntry(p.user(), p.repository(), p.kind().name(), p.on(), p.millis(),
        p.node())).toList();
  }

  /** The records of a peer's entries; entries of a kind this node does not know are left out. */
  static List<Pref> fromEntries(List<PrefEntry> list) {
    List<Pref> out = new ArrayList<>(list.size());
    for (PrefEntry e : list) {
      Kind kind = "STAR".equals(e.kind()) ? Kind.STAR : "BOOKMARK".equals(e.kind()) ? Kind.BOOKMARK : null;
      if (kind != null) {
        out.add(new Pref(e.user(), e.repository(), kind, e.on(), e.millis(), e.node()));
      }
    }
    return out;
  }
}
