package io.flotilla.cluster;

import io.flotilla.bus.PeerCalls;
import io.vertx.core.Vertx;

/**
 * Connects membership to the bus: every new {@link ClusterView} goes to {@link PeerCalls}, so bus
 * calls and streams in flight to a member that left fail at once with UNAVAILABLE (reads then try
 * the next node, writes answer 503) instead of waiting out their timeouts, and new calls to a node
 * that is not a member fail before they are sent.
 */
public final class PeerWatch {
  private PeerWatch() {}

  /**
   * Follows {@code membership} until it is closed (or the returned subscription is). The view is
   * handed over on Membership's thread: {@link PeerCalls#view} does not block.
   */
  public static Membership.Subscription follow(Vertx vertx, Membership membership) {
    PeerCalls calls = PeerCalls.of(vertx);
    return membership.subscribe(Runnable::run, view -> calls.view(view.nodeNames()));
  }
}
