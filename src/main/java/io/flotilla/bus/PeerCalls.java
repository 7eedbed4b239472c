package io.flotilla.bus;

import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The bus calls and streams of one Vert.x instance that are in flight to other nodes, by target
 * node name, so they end when their node leaves the cluster instead of waiting out their timeouts
 * (60 s for a write, 30 min for a repository sync, 30 s of stream silence).
 *
 * <p>The bus does not know membership: the cluster layer reports each new view with
 * {@link #view}; every call and stream to a node that is not in it fails at once with
 * {@link OciError#UNAVAILABLE} (which readers treat as "try the next node"), and a new call to such
 * a node fails before it is sent. Until a view is reported (a node that is not clustered, a test)
 * nothing is refused. Calls to this node itself ({@code local}) are not tracked.
 *
 * <p>One instance per Vert.x ({@link #of}). Thread-safe: views come from the membership thread,
 * calls from any context; a failure is delivered on the context that made the call or opened the
 * stream. A node that left and comes back is accepted again from the view that lists it.
 */
public final class PeerCalls implements Shareable {
  private static final String MAP = "flotilla.bus.peer-calls";

  private final ConcurrentHashMap<String, Set<Consumer<OciException>>> inFlight = new ConcurrentHashMap<>();
  private volatile Set<String> members;

  PeerCalls() {}

  /** The tracker of {@code vertx}'s calls; created on first use. */
  public static PeerCalls of(Vertx vertx) {
    return vertx.sharedData().<String, PeerCalls>getLocalMap(MAP).computeIfAbsent("calls", k -> new PeerCalls());
  }

  /**
   * The node names of the current cluster view: calls and streams to any other node fail now, and
   * new ones are refused until a view lists their node again.
   */
  public void view(Collection<String> nodeNames) {
    members = Set.copyOf(nodeNames);
    for (String node : inFlight.keySet()) {
      if (!members.contains(node)) {
        failAll(node);
      }
    }
  }

  /** Fails every call and stream in flight to {@code node} now (whatever the view says). */
  public void failAll(String node) {
    Set<Consumer<OciException>> calls = inFlight.get(node);
    if (calls == null) {
      return;
    }
    OciException gone = gone(node);
    for (Consumer<OciException> c : calls) {
      if (calls.remove(c)) {
        c.accept(gone);
      }
    }
  }

  /** Calls and streams in flight to {@code node}. */
  public int inFlight(String node) {
    Set<Consumer<OciException>> calls = inFlight.get(node);
    return calls == null ? 0 : calls.size();
  }

  /** False when a view was reported and {@code node} is not in it. */
  public boolean isMember(String node) {
    Set<String> m = members;
    return m == null || m.contains(node);
  }

  /**
   * Runs {@code send} (a request to {@code node}) and returns its outcome, unless the node leaves
   * first: then the result fails with UNAVAILABLE at once. Refused without sending when the node is
   * not a member.
   */
  <T> Future<T> call(String node, Supplier<Future<T>> send) {
    Context context = Vertx.currentContext();
    Promise<T> result = Promise.promise();
    Consumer<OciException> onGone = err -> onContext(context, () -> result.tryFail(err));
    if (!track(node, onGone)) {
      return Future.failedFuture(gone(node));
    }
    send.get().onComplete(ar -> {
      untrack(node, onGone);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  /**
   * Calls {@code onGone} on {@code context} if {@code node} leaves before {@code until} completes
   * (at once if it is not a member now). For open streams.
   */
  void watch(String node, Context context, Future<?> until, Consumer<OciException> onGone) {
    Consumer<OciException> tracked = err -> onContext(context, () -> onGone.accept(err));
    if (!track(node, tracked)) {
      tracked.accept(gone(node));
      return;
    }
    until.onComplete(ar -> untrack(node, tracked));
  }

  /** Adds a call; false (and not added) when the node is not a member. */
  private boolean track(String node, Consumer<OciException> onGone) {
    inFlight.computeIfAbsent(node, n -> ConcurrentHashMap.newKeySet()).add(onGone);
    // a view that dropped the node after the add fails the call; one before it is seen here
    if (!isMember(node)) {
      untrack(node, onGone);
      return false;
    }
    return true;
  }

  private void untrack(String node, Consumer<OciException> onGone) {
    Set<Consumer<OciException>> calls = inFlight.get(node);
    if (calls != null) {
      calls.remove(onGone);
    }
  }

  private static void onContext(Context context, Runnable action) {
    if (context == null) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private static OciException gone(String node) {
    return OciError.UNAVAILABLE.with("node " + node + " left the cluster");
  }
}
