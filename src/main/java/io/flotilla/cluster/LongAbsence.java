package io.flotilla.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.flotilla.storage.MetadataStore;
import java.time.Duration;

/**
 * What a node does with its data when it comes back after an absence longer than tombstones are
 * kept ({@code storage.tombstoneRetention}): the members that stayed have forgotten the deletes made
 * meanwhile, so its copies could bring deleted content back. When a member that did not return that
 * way serves, the node discards its metadata (blob files stay, and are linked again by the copies),
 * reports what it discarded, and is refilled from the current owners like a new node. When no such
 * member serves (the whole cluster was stopped that long, or this node starts first), nothing is
 * discarded: it may hold the only copies; it is marked as returned-stale in a small shared map, so
 * the nodes that start after it keep theirs as well. The node's last sign of life is recorded in its
 * metadata database every {@link #heartbeat} while it runs.
 */
public final class LongAbsence {
  private static final System.Logger LOG = System.getLogger(LongAbsence.class.getName());
  /** Node name -> when it came back after too long an absence and kept its data. */
  static final String STALE_MAP = "flotilla.node-returned-stale";

  private LongAbsence() {}

  /** What the start-up check decided. */
  public enum Outcome { NOT_AWAY_LONG, DISCARDED, KEPT }

  /** How often a running node records that it runs: a quarter of the retention, between 1 s and 10 min. */
  public static Duration heartbeat(Duration retention) {
    long quarter = retention.toMillis() / 4;
    return Duration.ofMillis(Math.max(1000, Math.min(Duration.ofMinutes(10).toMillis(), quarter)));
  }

  /**
   * The start-up check, after the node joined the cluster and read the members' states, before it
   * serves. Blocks (database writes).
   */
  public static Outcome onStart(HazelcastInstance hazelcast, Membership membership, MetadataStore metadata,
      String localNode, Duration retention, long nowMillis) {
    long lastAlive = metadata.lastAlive();
    long away = nowMillis - lastAlive;
    if (retention.isZero() || lastAlive == 0 || away <= retention.toMillis() || !metadata.holdsContent()) {
      metadata.markAlive(nowMillis);
      return Outcome.NOT_AWAY_LONG;
    }
    IMap<String, Long> stale = hazelcast.getMap(STALE_MAP);
    String fresh = null;
    for (Member m : membership.current().members()) {
      if (!m.nodeName().equals(localNode) && membership.state(m.nodeName()).orElse(null) == Membership.NodeState.SERVING
          && !stale.containsKey(m.nodeName())) {
        fresh = m.nodeName();
        break;
      }
    }
    String gone = Duration.ofMillis(away).toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    if (fresh == null) {
      stale.put(localNode, nowMillis);
      metadata.markAlive(nowMillis);
      LOG.log(System.Logger.Level.WARNING, "this node was away for " + gone + ", longer than storage.tombstoneRetention ("
          + retention + "), but no member that stayed serves: keeping its data as it is (deletes made meanwhile "
          + "may come back)");
      return Outcome.KEPT;
    }
    MetadataStore.Discarded d = metadata.discardAll();
    metadata.markAlive(nowMillis);
    LOG.log(System.Logger.Level.WARNING, "this node was away for " + gone + ", longer than storage.tombstoneRetention ("
        + retention + "): the members that stayed (" + fresh + " among them) may have forgotten deletes made meanwhile, "
        + "so its copies are discarded and it is refilled from the current owners: discarded " + d.repositories()
        + " repositories (" + d.manifests() + " manifests, " + d.tags() + " tags); blob files stay and are linked again "
        + "as they are copied");
    return Outcome.DISCARDED;
  }

  /** Takes this node out of the returned-stale map when it leaves. */
  public static void forget(HazelcastInstance hazelcast, String localNode) {
    try {
      hazelcast.<String, Long>getMap(STALE_MAP).removeAsync(localNode);
    } catch (RuntimeException leaving) {
      // the instance is going away anyway
    }
  }
}
