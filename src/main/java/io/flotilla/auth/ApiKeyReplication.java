package io.flotilla.auth;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.ApiKeyEntry;
import io.flotilla.bus.Messages.ApiKeySet;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.Messages.GetApiKeys;
import io.flotilla.cluster.ClusterView;
import io.flotilla.cluster.Membership;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps every node's {@link ApiKeys} equal over the event bus (never through Hazelcast maps: the
 * bus between nodes is the authenticated channel). A create or revoke is applied and saved here,
 * then pushed to every other member on {@link Addresses#APIKEYS_PUSH}; its future completes once
 * each member answered or failed (5 s at most), so a client that got its key can use it on any
 * reachable node. A member that missed a push (it was down, or the push failed) catches up by
 * anti-entropy: at start, when a member joins, and every {@code roundMillis}, each node asks the
 * others for their sets on {@link Addresses#APIKEYS_GET} and merges them. The rounds also forget
 * old revoked and expired keys and end the doubt of a node that was away too long
 * ({@link ApiKeys#confirm}). Thin: the rules are in {@link ApiKeys}; the disk work runs on workers.
 */
public final class ApiKeyReplication extends VerticleBase {
  /** Default time between two anti-entropy rounds. */
  public static final long ROUND_MILLIS = 30_000;
  private static final System.Logger LOG = System.getLogger(ApiKeyReplication.class.getName());

  private final ApiKeys keys;
  private final Membership membership;
  private final String nodeId;
  private final long roundMillis;
  private long timer = -1;
  private Membership.Subscription subscription;
  private Set<String> seen = Set.of();
  private boolean running;
  private boolean again;

  /** Replicates {@code keys} among {@code membership}'s members, with a round every {@link #ROUND_MILLIS}. */
  public ApiKeyReplication(ApiKeys keys, Membership membership, String nodeId) {
    this(keys, membership, nodeId, ROUND_MILLIS);
  }

  /** As above, with a round every {@code roundMillis} (tests use shorter ones). */
  public ApiKeyReplication(ApiKeys keys, Membership membership, String nodeId, long roundMillis) {
    this.keys = keys;
    this.membership = membership;
    this.nodeId = nodeId;
    this.roundMillis = roundMillis;
  }

  /** The keys this verticle replicates. */
  public ApiKeys keys() {
    return keys;
  }

  /** Serves both addresses, then runs a first round (so a node that was down catches up before it serves). */
  @Override
  public Future<?> start() {
    return Future.all(
        Bus.serve(vertx, Addresses.APIKEYS_GET, nodeId, q -> Future.succeededFuture(
            new ApiKeySet(toEntries(keys.snapshot()), keys.unconfirmed()))),
        Bus.serve(vertx, Addresses.APIKEYS_PUSH, nodeId, set -> vertx.executeBlocking(() -> {
          keys.merge(fromEntries(set.keys()));
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
   * Creates a key here, then pushes it to every other member.
   *
   * @return the new key with its text (shown once); fails with {@link IllegalArgumentException} or
   *     {@link ApiKeys.LimitException} as {@link ApiKeys#create} does
   */
  public Future<ApiKeys.Created> create(String user, String name, long expiresMillis) {
    return vertx.executeBlocking(() -> keys.create(user, name, expiresMillis), false)
        .compose(created -> push(List.of(created.apiKey())).map(created));
  }

  /** Revokes a key here, then pushes the revocation to every other member; empty if the id is unknown here. */
  public Future<Optional<ApiKey>> revoke(String id, long millis) {
    return vertx.executeBlocking(() -> keys.revoke(id, millis), false)
        .compose(revoked -> revoked.isEmpty() ? Future.succeededFuture(revoked)
            : push(List.of(revoked.get())).map(revoked));
  }

  private Future<Void> push(List<ApiKey> changed) {
    ApiKeySet set = new ApiKeySet(toEntries(changed), false);
    List<Future<Done>> calls = new ArrayList<>();
    for (String node : others()) {
      calls.add(Bus.request(vertx, Addresses.APIKEYS_PUSH, node, false, set)
          .onFailure(e -> LOG.log(System.Logger.Level.WARNING, "API key change not pushed to " + node
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
    List<String> peers = others();
    List<Future<ApiKeySet>> calls = new ArrayList<>();
    GetApiKeys ask = new GetApiKeys(nodeId);
    for (String node : peers) {
      calls.add(Bus.request(vertx, Addresses.APIKEYS_GET, node, false, ask)
          .onFailure(e -> LOG.log(System.Logger.Level.DEBUG, "no API keys from " + node + ": " + e.getMessage())));
    }
    return Future.join(calls).otherwiseEmpty().compose(v -> vertx.executeBlocking(() -> {
      List<ApiKeySet> answers = calls.stream().filter(Future::succeeded).map(Future::result).toList();
      for (ApiKeySet a : answers) {
        keys.merge(fromEntries(a.keys()));
      }
      if (keys.unconfirmed() && (peers.isEmpty() || !answers.isEmpty())) {
        boolean authoritative = answers.stream().anyMatch(a -> !a.unconfirmed());
        LOG.log(System.Logger.Level.INFO, "API keys saved before this node's long absence: "
            + (authoritative ? "keeping those the other nodes know" : "keeping all (no other node knows better)"));
        keys.confirm(authoritative);
      }
      keys.prune();
      return null;
    }, false)).<Void>mapEmpty().onFailure(e -> LOG.log(System.Logger.Level.WARNING, "API key round failed", e))
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

  static List<ApiKeyEntry> toEntries(List<ApiKey> list) {
    return list.stream().map(k -> new ApiKeyEntry(k.id(), k.user(), k.name(), k.createdMillis(), k.expiresMillis(),
        k.revokedMillis(), k.secretSha256())).toList();
  }

  static List<ApiKey> fromEntries(List<ApiKeyEntry> list) {
    return list.stream().map(e -> new ApiKey(e.id(), e.user(), e.name(), e.createdMillis(), e.expiresMillis(),
        e.revokedMillis(), e.secretSha256())).toList();
  }
}
