package io.flotilla.cluster;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which nodes may hold copies that are behind the cluster, so that reads are not served from them.
 *
 * <p>A node that starts with data on its disk may have missed writes and deletes while it was away.
 * It is <b>catching up</b> from start-up until every other serving member has finished a rebalancing
 * pass that included it as a serving member and copied it, without failure, every repository it owns
 * that the member holds (the member then sends {@code CaughtUp}, see {@link Rebalancer}). Meanwhile it
 * takes writes and deletes like any owner (last writer wins keeps them), but routing reads ask the
 * owners that are not catching up first ({@link RoutingStorage}). A node that joins a running
 * cluster is catching up too, even with an empty disk: until it has received what it now owns, its
 * "not found" is no answer. Only a node that starts alone with an empty disk is not.
 *
 * <p>With cluster TLS on, members that have not proved they hold the cluster certificate yet
 * ({@link MemberProof}) are not in the view; a node counts them as "other members" all the same
 * (they may be legitimate members whose proof is still under way), so it neither starts out caught up
 * nor ends catching up while any is there.
 *
 * <p>The set of catching-up nodes lives in a small Hazelcast map, so every node routes around them;
 * this node's own state is also kept locally. Thread-safe.
 */
public final class CatchUp implements AutoCloseable {
  /** Hazelcast map of catching-up node name -> when it started catching up. */
  static final String MAP = "flotilla.node-catching-up";
  private static final System.Logger LOG = System.getLogger(CatchUp.class.getName());

  private final String localNode;
  private final Membership membership;
  private final IMap<String, Long> map;
  private final java.util.function.BooleanSupplier unprovenMembers;
  private final Set<String> behind = ConcurrentHashMap.newKeySet();
  private final Set<String> heard = ConcurrentHashMap.newKeySet();
  private volatile boolean catchingUp;
  private UUID listenerId;
  private Membership.Subscription subscription;

  private CatchUp(HazelcastInstance hazelcast, Membership membership, String localNode,
      java.util.function.BooleanSupplier unprovenMembers) {
    this.localNode = localNode;
    this.unprovenMembers = unprovenMembers;
    this.membership = membership;
    this.map = hazelcast.getMap(MAP);
  }

  /**
   * Follows the shared map and decides whether this node starts out catching up: when it holds data
   * ({@code holdsData}) or other members are there. Blocking (cluster round trips): call on a worker
   * at start-up, before the node announces serving.
   */
  public static CatchUp start(HazelcastInstance hazelcast, Membership membership, String localNode, boolean holdsData) {
    return start(hazelcast, membership, localNode, holdsData, () -> false);
  }

  /**
   * {@link #start(HazelcastInstance, Membership, String, boolean)} where {@code unprovenMembers}
   * tells whether Hazelcast members wait to prove they hold the cluster certificate (they count as
   * other members here; see the class comment). It must not block.
   */
  public static CatchUp start(HazelcastInstance hazelcast, Membership membership, String localNode, boolean holdsData,
      java.util.function.BooleanSupplier unprovenMembers) {
    CatchUp c = new CatchUp(hazelcast, membership, localNode, unprovenMembers);
    c.listenerId = c.map.addEntryListener(new Listener(c), false);
    c.behind.addAll(c.map.keySet());
    if (holdsData || membership.current().size() > 1 || unprovenMembers.getAsBoolean()) {
      c.catchingUp = true;
      c.map.put(localNode, System.currentTimeMillis());
      c.behind.add(localNode);
      LOG.log(System.Logger.Level.INFO, "catching up: reads prefer other owners until every member has synced this node");
    } else {
      c.map.remove(localNode);
      c.behind.remove(localNode);
    }
    c.subscription = membership.subscribe(Runnable::run, view -> c.check());
    return c;
  }

  /** Map events turned into the local set. */
  private record Listener(CatchUp c) implements EntryAddedListener<String, Long>, EntryUpdatedListener<String, Long>,
      EntryRemovedListener<String, Long>, EntryEvictedListener<String, Long> {
    @Override
    public void entryAdded(EntryEvent<String, Long> event) {
      c.behind.add(event.getKey());
    }

    @Override
    public void entryUpdated(EntryEvent<String, Long> event) {
      c.behind.add(event.getKey());
    }

    @Override
    public void entryRemoved(EntryEvent<String, Long> event) {
      c.forget(event.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, Long> event) {
      c.forget(event.getKey());
    }
  }

  private void forget(String node) {
    if (!node.equals(localNode) || !catchingUp) {
      behind.remove(node);
    }
  }

  /** Whether {@code node}'s copies may be behind (this node: whether it is still catching up). */
  public boolean isCatchingUp(String node) {
    return node.equals(localNode) ? catchingUp : behind.contains(node);
  }

  /** Whether any member's copies may be behind (this node's included). */
  public boolean anyCatchingUp() {
    return catchingUp || !behind.isEmpty();
  }

  /** {@code from} finished a pass that copied this node everything it owns from there. */
  public void heardFrom(String from) {
    if (catchingUp && heard.add(from)) {
      check();
    }
  }

  /** Ends catching up once every other serving member has been heard from. */
  private void check() {
    if (!catchingUp) {
      return;
    }
    Set<String> waiting = new TreeSet<>();
    for (Member m : membership.placement().view().members()) {
      if (!m.nodeName().equals(localNode) && !heard.contains(m.nodeName())) {
        waiting.add(m.nodeName());
      }
    }
    if (!waiting.isEmpty() || unprovenMembers.getAsBoolean()) {
      return;
    }
    catchingUp = false;
    behind.remove(localNode);
    LOG.log(System.Logger.Level.INFO, "caught up: every member has synced this node");
    try {
      map.removeAsync(localNode);
    } catch (HazelcastInstanceNotActiveException e) {
      // leaving anyway
    }
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
    try {
      map.removeEntryListener(listenerId);
    } catch (HazelcastInstanceNotActiveException e) {
      // the instance is gone, and its listeners with it
    }
  }
}
