package io.flotilla.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.vertx.core.Context;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The live {@link ClusterView} of this node, kept from Hazelcast's member list.
 *
 * <p><b>What it owns.</b> One Hazelcast membership listener and the latest image. Flotilla node
 * names travel as Hazelcast member attributes, set before the instance starts by
 * {@link #tagConfig}; the Vert.x node id is the {@code __vertx.nodeId} attribute that
 * {@code HazelcastClusterManager} sets (the Hazelcast member UUID when Hazelcast was not started by
 * Vert.x). Members without a Flotilla node name (another application's member, a misconfigured
 * node) are left out of the view. If two members carry the same node name, the one that has been in
 * the cluster longest wins: Hazelcast's member list is ordered by age and identical on every member,
 * so every node drops the same one; the other is logged and ignored until the first leaves.
 *
 * <p><b>How it updates.</b> A membership event is only a trigger: the new image is computed from
 * Hazelcast's current member list, under a lock, as a {@link MembershipDelta} against the previous
 * image ({@link #reconcile}). So late or reordered events cannot bring back a member that already
 * left, and an event lost between start-up and the first read cannot leave the image stale.
 *
 * <p><b>Threads.</b> Thread-safe. {@link #current} is a volatile read, callable from any thread,
 * event loops included. Recomputing runs on Hazelcast's event thread and takes microseconds;
 * subscribers are never called there: each subscriber is called on its own {@link Executor} (or
 * Vert.x {@link Context}), one call at a time, with strictly increasing epochs. A subscriber that
 * falls behind skips intermediate images and receives the latest (use {@link ClusterView#deltaFrom}
 * on the last image it saw to get the change). The executor must not run tasks inline on the
 * caller's thread if the subscriber can block.
 *
 * <p><b>Serving and draining.</b> Each member announces its state in a small Hazelcast map shared
 * by all members: {@link NodeState#SERVING} once its storage is deployed, {@link NodeState#DRAINING}
 * when it leaves gracefully. Members that are not serving stay in the view (a draining member still
 * serves reads and hands its data off) but {@link #placement} leaves them out, so nothing is placed
 * on a member before it can take it or after it started leaving. A change of states is published as
 * a new image (same members, next epoch). The entry of a member that left is removed.
 *
 * <p><b>States are re-asserted.</b> The map can lose or miss entries: after a split, each half
 * removes the other half's entries, and a merge brings entries back as "merged" (not "added")
 * events, or not at all; a partition can be lost. So this node's own state is put again when its
 * entry is removed or evicted while it runs (and has announced a state), when Hazelcast reports
 * that this member merged into another cluster, and by a re-check every {@link #RECHECK_MILLIS}
 * ms on a thread of its own, which also re-reads the other members' states from the map. Merged
 * entries count as updates, and a view that gains members re-reads the map at once.
 *
 * <p><b>Never fewer owners than there can be.</b> {@link #placement} uses the serving members, but
 * never fewer than {@code min(R, view size)} members: when fewer are serving, the members that
 * announced nothing (neither serving nor draining; their entry may be lost, or they are still
 * starting) count too. A write may then fail with 503 on an owner that cannot take it yet, rather
 * than being acknowledged with fewer copies than R by a node that wrongly believes it is alone.
 *
 * <p><b>Proven members only.</b> With cluster TLS on, a Hazelcast member counts (enters the view,
 * so placement, routing and catalog fan-out) only once its {@link Gate} admits it: see
 * {@link MemberProof}. {@link #recompute} re-reads the member list when the gate changes its mind.
 *
 * <p><b>Failure.</b> Once the local Hazelcast instance is shut down the image stays at its last
 * value and no further updates come. A subscriber that throws is logged and stays subscribed; an
 * executor that rejects a task loses that notification (the next change retries).
 */
public final class Membership implements AutoCloseable {
  /** Member attribute holding the Flotilla node name. */
  public static final String NODE_NAME_ATTRIBUTE = "flotilla.nodeName";
  /** Member attribute holding the node's HTTP address, for information. */
  public static final String HTTP_ADDRESS_ATTRIBUTE = "flotilla.httpAddress";
  /** Member attribute in which {@code HazelcastClusterManager} publishes the Vert.x node id. */
  static final String VERTX_NODE_ID_ATTRIBUTE = "__vertx.nodeId";

  /** Hazelcast map of node name -> {@link NodeState} name. */
  static final String STATES_MAP = "flotilla.node-states";
  /** How often this node re-reads the states map and re-puts its own state if it is missing. */
  static final long RECHECK_MILLIS = 5_000;

  /** What a member announces about itself. */
  public enum NodeState {
    /** Storage deployed: repositories may be placed here. */
    SERVING,
    /** Leaving gracefully: handing repositories off, nothing new is placed here. */
    DRAINING
  }

  private static final System.Logger LOG = System.getLogger(Membership.class.getName());

  /** Decides whether a named Hazelcast member counts; {@link #ALL} admits every one (TLS off). */
  @FunctionalInterface
  public interface Gate {
    /** Admits every member: the behaviour without cluster TLS. */
    Gate ALL = member -> true;

    /** True when {@code member} may enter the view. Called under Membership's lock: must not block. */
    boolean admits(com.hazelcast.cluster.Member member);
  }

  private final HazelcastInstance hazelcast;
  private final int replicationFactor;
  private final Gate gate;
  private final Object lock = new Object();
  private final ScheduledExecutorService recheck;
  private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private volatile ClusterView current = ClusterView.empty();
  private final Map<String, NodeState> states = new ConcurrentHashMap<>();
  private IMap<String, String> statesMap;
  private UUID statesListenerId;
  private UUID listenerId;
  private UUID lifecycleListenerId;
  private volatile boolean closed;
  /** This node's name, once {@link #loadStates} or {@link #announce} told it. */
  private volatile String localName;
  /** What this node announced last; null before its first announcement. */
  private volatile NodeState localState;

  private Membership(HazelcastInstance hazelcast, int replicationFactor, Gate gate) {
    this.hazelcast = hazelcast;
    this.replicationFactor = replicationFactor;
    this.gate = gate;
    ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "flotilla-membership-recheck");
      t.setDaemon(true);
      return t;
    });
    ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.recheck = ex;
  }

  /** A handle to stop receiving views; closing twice is harmless. */
  public interface Subscription extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Tags a Hazelcast config with this node's name and HTTP address, before the instance starts
   * (member attributes cannot change afterwards).
   *
   * @return {@code config}, for chaining
   * @throws IllegalArgumentException if the node name is blank
   */
  public static Config tagConfig(Config config, String nodeName, String httpAddress) {
    if (nodeName == null || nodeName.isBlank()) {
      throw new IllegalArgumentException("node name must not be blank");
    }
    config.getMemberAttributeConfig().setAttribute(NODE_NAME_ATTRIBUTE, nodeName);
    config.getMemberAttributeConfig().setAttribute(HTTP_ADDRESS_ATTRIBUTE, httpAddress == null ? "" : httpAddress);
    return config;
  }

  /**
   * Refuses to let this member go on when an older member of the cluster carries the same node name:
   * two nodes under one name would share its event-bus addresses and placement. A namesake that was
   * killed is dropped by Hazelcast within seconds, so it is waited for up to {@code waitMillis} (a
   * node restarted at once after a crash). One still there then is a second live node, unless the
   * {@code gate} does not admit it (a process without the cluster certificate, which must not be able
   * to keep the real node out). Blocks.
   *
   * @throws DuplicateNameException if an admitted namesake is still a member after {@code waitMillis}
   */
  public static void awaitUniqueName(HazelcastInstance hazelcast, String nodeName, long waitMillis, Gate gate)
      throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(waitMillis);
    while (true) {
      Optional<com.hazelcast.cluster.Member> older = olderNamesake(hazelcast, nodeName);
      if (older.isEmpty()) {
        return;
      }
      if (System.nanoTime() >= deadline) {
        if (gate.admits(older.get())) {
          throw new DuplicateNameException(nodeName, older.get().getAddress().toString());
        }
        LOG.log(System.Logger.Level.WARNING, "cluster member " + older.get().getAddress() + " uses this node's name "
            + nodeName + " but has not proved it holds the cluster certificate: ignored");
        return;
      }
      Thread.sleep(250);
    }
  }

  /** The oldest other member named {@code nodeName} that joined before this one, if any. */
  static Optional<com.hazelcast.cluster.Member> olderNamesake(HazelcastInstance hazelcast, String nodeName) {
    for (com.hazelcast.cluster.Member hz : hazelcast.getCluster().getMembers()) { // oldest first
      if (hz.localMember()) {
        return Optional.empty();
      }
      if (nodeName.equals(hz.getAttribute(NODE_NAME_ATTRIBUTE))) {
        return Optional.of(hz);
      }
    }
    return Optional.empty();
  }

  /** Another running member of the cluster already has this node's name. */
  public static final class DuplicateNameException extends RuntimeException {
    public DuplicateNameException(String nodeName, String address) {
      super("node name " + nodeName + " is already used by the running cluster member at " + address
          + ": give every node its own name (node.name, FLOTILLA_NODE_NAME)");
    }
  }

  /** {@link #start(HazelcastInstance, int)} with a replication factor of 1 (no floor under placement). */
  public static Membership start(HazelcastInstance hazelcast) {
    return start(hazelcast, 1);
  }

  /**
   * Starts following a running Hazelcast instance: registers the listener, then reads the member
   * list (in that order, so no change is missed). Call from any thread; it does not block on I/O.
   *
   * @param replicationFactor R: {@link #placement} never uses fewer than {@code min(R, members)} members
   * @throws HazelcastInstanceNotActiveException if the instance is not running
   */
  public static Membership start(HazelcastInstance hazelcast, int replicationFactor) {
    return start(hazelcast, replicationFactor, Gate.ALL);
  }

  /**
   * {@link #start(HazelcastInstance, int)} admitting only the members {@code gate} admits (this node
   * itself always counts).
   */
  public static Membership start(HazelcastInstance hazelcast, int replicationFactor, Gate gate) {
    Membership m = new Membership(hazelcast, Math.max(1, replicationFactor), gate);
    synchronized (m.lock) {
      m.listenerId = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
          m.refresh();
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          m.refresh();
        }
      });
      m.current = reconcile(ClusterView.empty(), m.liveMembers());
      m.statesMap = hazelcast.getMap(STATES_MAP);
      m.statesListenerId = m.statesMap.addEntryListener(new StatesListener(m), true);
      m.lifecycleListenerId = hazelcast.getLifecycleService().addLifecycleListener(event -> {
        if (event.getState() == LifecycleEvent.LifecycleState.MERGED) {
          LOG.log(System.Logger.Level.WARNING, "this member merged into another cluster: re-announcing its state");
          m.scheduleRecheck();
        }
      });
    }
    m.recheck.scheduleWithFixedDelay(m::recheck, RECHECK_MILLIS, RECHECK_MILLIS, TimeUnit.MILLISECONDS);
    return m;
  }

  /** Hazelcast entry events of the states map, turned into new images. */
  private record StatesListener(Membership m) implements EntryAddedListener<String, String>,
      EntryUpdatedListener<String, String>, EntryRemovedListener<String, String>,
      EntryEvictedListener<String, String>, EntryMergedListener<String, String> {
    @Override
    public void entryAdded(EntryEvent<String, String> event) {
      m.stateChanged(event.getKey(), parse(event.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, String> event) {
      m.stateChanged(event.getKey(), parse(event.getValue()));
    }

    @Override
    public void entryRemoved(EntryEvent<String, String> event) {
      m.entryLost(event.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, String> event) {
      m.entryLost(event.getKey());
    }

    @Override
    public void entryMerged(EntryEvent<String, String> event) {
      m.stateChanged(event.getKey(), parse(event.getValue()));
    }

    private static NodeState parse(String value) {
      try {
        return value == null ? null : NodeState.valueOf(value);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
  }

  /**
   * Takes {@code localNode}'s stale entry out (a node that starts is neither serving nor draining
   * yet) and reads the other members' states. Blocking (cluster round trips): call on a worker
   * thread, once at start-up, before {@link #announce}.
   */
  public void loadStates(String localNode) {
    localName = localNode;
    statesMap.remove(localNode);
    stateChanged(localNode, null);
    for (Map.Entry<String, String> e : statesMap.entrySet()) {
      stateChanged(e.getKey(), StatesListener.parse(e.getValue()));
    }
  }

  /** Announces this node's state to every member; returns once the map holds it. Blocking: call on a worker. */
  public void announce(String localNode, NodeState state) {
    localName = localNode;
    localState = state;
    statesMap.put(localNode, state.name());
    stateChanged(localNode, state);
  }

  /**
   * Announces this node's state without waiting for the cluster: this node acts on it at once (its
   * own placement and rebalancing see it), and the returned stage completes once the map holds it.
   * For a caller with a deadline: a put waits on the member that owns the entry's partition, and one
   * that stopped answering but is not suspected yet holds it for Hazelcast's call timeout or longer.
   * The put goes on in the background; the re-check puts the state back if it is lost.
   */
  public java.util.concurrent.CompletionStage<?> announceAsync(String localNode, NodeState state) {
    localName = localNode;
    localState = state;
    stateChanged(localNode, state);
    return statesMap.putAsync(localNode, state.name());
  }

  /** What a member announced, as this node knows it; empty when it announced nothing (yet). */
  public Optional<NodeState> state(String nodeName) {
    return Optional.ofNullable(states.get(nodeName));
  }

  /**
   * An entry was removed or evicted. This node's own entry, while it runs and has announced a
   * state, is put back at once (another member removed it believing this node left, or it was
   * lost); any other member's state is forgotten.
   */
  private void entryLost(String name) {
    NodeState mine = localState;
    if (name.equals(localName) && mine != null && !closed) {
      LOG.log(System.Logger.Level.WARNING, "this node's state entry was removed while it runs: announcing "
          + mine.name().toLowerCase(java.util.Locale.ROOT) + " again");
      statesMap.putAsync(name, mine.name());
      return;
    }
    stateChanged(name, null);
  }

  private void scheduleRecheck() {
    try {
      recheck.execute(this::recheck);
    } catch (RejectedExecutionException closing) {
      // closed meanwhile
    }
  }

  /**
   * Re-reads the states map (blocking, on the re-check thread): puts this node's state back if it
   * is missing or different, and takes the other members' states from the map.
   */
  private void recheck() {
    if (closed) {
      return;
    }
    try {
      Map<String, String> all = new java.util.HashMap<>();
      for (Map.Entry<String, String> e : statesMap.entrySet()) {
        all.put(e.getKey(), e.getValue());
      }
      String me = localName;
      NodeState mine = localState;
      if (me != null && mine != null && !mine.name().equals(all.get(me)) && !closed) {
        LOG.log(System.Logger.Level.WARNING, "this node's state entry was " + (all.containsKey(me) ? "stale" : "missing")
            + ": announcing " + mine.name().toLowerCase(java.util.Locale.ROOT) + " again");
        statesMap.put(me, mine.name());
      }
      for (String name : current.nodeNames()) {
        if (!name.equals(me)) {
          stateChanged(name, StatesListener.parse(all.get(name)));
        }
      }
    } catch (HazelcastInstanceNotActiveException e) {
      // shutting down
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "re-checking node states failed; next try in " + RECHECK_MILLIS + " ms", e);
    }
  }

  /**
   * Whether a member other than {@code localNode} announced that it serves: the only members a
   * hand-off can move repositories to. False when the others are all draining as well (a whole
   * cluster stopping at once), starting, or gone.
   */
  public boolean anotherServing(String localNode) {
    for (Member m : current.members()) {
      if (!m.nodeName().equals(localNode) && states.get(m.nodeName()) == NodeState.SERVING) {
        return true;
      }
    }
    return false;
  }

  /** Draining members that are still in the view. */
  public Set<String> draining() {
    Set<String> out = new java.util.TreeSet<>();
    for (Member m : current.members()) {
      if (states.get(m.nodeName()) == NodeState.DRAINING) {
        out.add(m.nodeName());
      }
    }
    return out;
  }

  private void stateChanged(String name, NodeState state) {
    ClusterView next;
    synchronized (lock) {
      NodeState before = state == null ? states.remove(name) : states.put(name, state);
      if (closed || before == state) {
        return;
      }
      next = new ClusterView(current.epoch() + 1, current.members());
      current = next;
    }
    LOG.log(System.Logger.Level.INFO, "cluster view " + next.epoch() + ": " + name + " is "
        + (state == null ? "not serving" : state.name().toLowerCase(java.util.Locale.ROOT)));
    for (Subscriber s : subscribers) {
      s.offer(next);
    }
  }

  /** The latest image; never null (empty before {@link #start} returns). */
  public ClusterView current() {
    return current;
  }

  /**
   * Placement over the serving members of the latest image (over all of them when none is serving
   * yet, as during a single node's start). Never over fewer than {@code min(R, view size)} members:
   * when fewer are serving, members that announced no state count too (see the class comment).
   */
  public Placement placement() {
    ClusterView view = current;
    return new Placement(placeable(view, states, replicationFactor));
  }

  /** The members placement uses, given the announced states and R. Pure. */
  static ClusterView placeable(ClusterView view, Map<String, NodeState> states, int replicationFactor) {
    List<Member> serving = view.members().stream()
        .filter(m -> states.get(m.nodeName()) == NodeState.SERVING).toList();
    if (serving.isEmpty() || serving.size() == view.size()) {
      return view;
    }
    if (serving.size() < Math.min(replicationFactor, view.size())) {
      List<Member> withUnknown = view.members().stream()
          .filter(m -> states.get(m.nodeName()) != NodeState.DRAINING).toList();
      return new ClusterView(view.epoch(), withUnknown);
    }
    return new ClusterView(view.epoch(), serving);
  }

  /** This node as a member, or empty if its config was not tagged with a node name. */
  public Optional<Member> local() {
    return toMember(hazelcast.getCluster().getLocalMember());
  }

  /**
   * Calls {@code listener} with the current image, then with every newer one, on {@code executor}.
   * See the class comment for ordering and skipping.
   */
  public Subscription subscribe(Executor executor, Consumer<ClusterView> listener) {
    Subscriber s = new Subscriber(executor, listener);
    subscribers.add(s);
    s.offer(current);
    return s;
  }

  /** {@link #subscribe(Executor, Consumer)} on a Vert.x context (its event loop or worker). */
  public Subscription subscribe(Context context, Consumer<ClusterView> listener) {
    return subscribe(task -> context.runOnContext(v -> task.run()), listener);
  }

  /** Stops following Hazelcast and drops all subscribers; the last image stays readable. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    subscribers.forEach(Subscriber::close);
    recheck.shutdownNow();
    try {
      hazelcast.getCluster().removeMembershipListener(listenerId);
      statesMap.removeEntryListener(statesListenerId);
      hazelcast.getLifecycleService().removeLifecycleListener(lifecycleListenerId);
    } catch (HazelcastInstanceNotActiveException e) {
      // the instance is gone, and its listeners with it
    }
  }

  /**
   * The image that follows {@code current} given the live members, oldest first: duplicates of a
   * node name or node id after the first are ignored, then the delta between {@code current} and the
   * live members is applied. Returns {@code current} itself when nothing changed. Pure.
   */
  public static ClusterView reconcile(ClusterView current, List<Member> liveOldestFirst) {
    Map<String, Member> byName = new LinkedHashMap<>();
    Set<String> ids = new HashSet<>();
    for (Member m : liveOldestFirst) {
      if (!byName.containsKey(m.nodeName()) && ids.add(m.vertxNodeId())) {
        byName.put(m.nodeName(), m);
      }
    }
    ClusterView live = new ClusterView(current.epoch(), new ArrayList<>(byName.values()));
    return current.apply(live.deltaFrom(current));
  }

  /** Re-reads the member list now: call when the {@link Gate} admits a member it did not before. */
  public void recompute() {
    refresh();
  }

  private void refresh() {
    ClusterView next;
    boolean joined;
    synchronized (lock) {
      if (closed) {
        return;
      }
      List<Member> live;
      try {
        live = liveMembers();
      } catch (HazelcastInstanceNotActiveException e) {
        return;
      }
      next = reconcile(current, live);
      if (next == current) {
        return;
      }
      for (String gone : current.nodeNames()) {
        if (!next.contains(gone) && states.remove(gone) != null) {
          statesMap.removeAsync(gone); // every member does it; removing twice is harmless
        }
      }
      joined = !next.deltaFrom(current).joined().isEmpty();
      current = next;
    }
    if (joined) {
      scheduleRecheck(); // members coming back from a split bring states that may come as no event at all
    }
    LOG.log(System.Logger.Level.INFO, "cluster view " + next.epoch() + ": " + next.nodeNames());
    for (Subscriber s : subscribers) {
      s.offer(next);
    }
  }

  /** Named members, oldest first, duplicates included (reconcile() drops them). */
  private List<Member> liveMembers() {
    Collection<com.hazelcast.cluster.Member> members = hazelcast.getCluster().getMembers();
    List<Member> out = new ArrayList<>(members.size());
    Set<String> names = new HashSet<>();
    for (com.hazelcast.cluster.Member hz : members) {
      Optional<Member> m = toMember(hz);
      if (m.isEmpty()) {
        warnOnce(hz.getUuid() + "-unnamed", "ignoring cluster member " + hz.getAddress() + ": it has no "
            + NODE_NAME_ATTRIBUTE + " attribute");
        continue;
      }
      if (!hz.localMember() && !gate.admits(hz)) {
        continue; // not proven (yet): MemberProof logs it
      }
      if (!names.add(m.get().nodeName())) {
        warnOnce(hz.getUuid() + "-duplicate", "ignoring cluster member " + hz.getAddress() + ": node name "
            + m.get().nodeName() + " is already used by an older member");
      }
      out.add(m.get());
    }
    return out;
  }

  static Optional<Member> toMember(com.hazelcast.cluster.Member hz) {
    String name = hz.getAttribute(NODE_NAME_ATTRIBUTE);
    if (name == null || name.isBlank()) {
      return Optional.empty();
    }
    String id = hz.getAttribute(VERTX_NODE_ID_ATTRIBUTE);
    String http = hz.getAttribute(HTTP_ADDRESS_ATTRIBUTE);
    return Optional.of(new Member(name, id == null || id.isBlank() ? hz.getUuid().toString() : id,
        http == null ? "" : http));
  }

  private void warnOnce(String key, String message) {
    if (warned.add(key)) {
      LOG.log(System.Logger.Level.WARNING, message);
    }
  }

  /** One subscriber: conflates images and delivers them in order on its executor. */
  private final class Subscriber implements Subscription {
    private final Executor executor;
    private final Consumer<ClusterView> listener;
    private final AtomicReference<ClusterView> pending = new AtomicReference<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile boolean cancelled;
    private long lastEpoch = -1; // touched only by drain(), which the `scheduled` flag serializes

    Subscriber(Executor executor, Consumer<ClusterView> listener) {
      this.executor = executor;
      this.listener = listener;
    }

    void offer(ClusterView view) {
      pending.accumulateAndGet(view, (old, nu) -> old == null || nu.epoch() > old.epoch() ? nu : old);
      schedule();
    }

    private void schedule() {
      if (!cancelled && pending.get() != null && scheduled.compareAndSet(false, true)) {
        try {
          executor.execute(this::drain);
        } catch (RejectedExecutionException e) {
          scheduled.set(false);
          LOG.log(System.Logger.Level.WARNING, "cluster view subscriber's executor rejected a notification", e);
        }
      }
    }

    private void drain() {
      try {
        ClusterView v;
        while (!cancelled && (v = pending.getAndSet(null)) != null) {
          if (v.epoch() > lastEpoch) {
            lastEpoch = v.epoch();
            try {
              listener.accept(v);
            } catch (RuntimeException e) {
              LOG.log(System.Logger.Level.WARNING, "cluster view subscriber failed on " + v, e);
            }
          }
        }
      } finally {
        scheduled.set(false);
      }
      schedule(); // an offer may have raced with the end of the loop
    }

    @Override
    public void close() {
      cancelled = true;
      subscribers.remove(this);
    }
  }
}
