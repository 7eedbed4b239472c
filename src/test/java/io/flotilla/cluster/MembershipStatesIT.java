package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.flotilla.cluster.Membership.NodeState;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Node states are re-asserted: a running node's entry that another member removes (as each half of
 * a split does to the other half's entries) or that is evicted comes back, and every member sees
 * the node serving again.
 */
class MembershipStatesIT {
  private final LocalHazelcast hazelcast = new LocalHazelcast(2);
  private Membership m1;
  private Membership m2;

  @BeforeAll
  static void quietHazelcast() {
    Logger.getLogger("com.hazelcast").setLevel(Level.WARNING);
  }

  @AfterEach
  void tearDown() {
    if (m1 != null) {
      m1.close();
    }
    if (m2 != null) {
      m2.close();
    }
    hazelcast.close();
  }

  @Test
  void aRunningNodesLostEntryIsPutBack() throws Exception {
    m1 = Membership.start(hazelcast.start(1), 2);
    HazelcastInstance hz2 = hazelcast.start(2);
    m2 = Membership.start(hz2, 2);
    assertTrue(LocalHazelcast.await(20_000, () -> m1.current().size() == 2 && m2.current().size() == 2));
    m1.loadStates("node-1");
    m2.loadStates("node-2");
    m1.announce("node-1", NodeState.SERVING);
    m2.announce("node-2", NodeState.SERVING);
    assertTrue(LocalHazelcast.await(10_000, () -> m2.state("node-1").equals(Optional.of(NodeState.SERVING))));

    IMap<String, String> states = hz2.getMap(Membership.STATES_MAP);
    states.remove("node-1"); // as the other half of a split does
    assertTrue(LocalHazelcast.await(20_000, () -> "SERVING".equals(states.get("node-1"))),
        "node-1 put its removed entry back");
    assertTrue(LocalHazelcast.await(10_000, () -> m2.state("node-1").equals(Optional.of(NodeState.SERVING))),
        "node-2 sees node-1 serving again");

    states.evict("node-1"); // as a lost or evicted entry
    assertTrue(LocalHazelcast.await(20_000, () -> "SERVING".equals(states.get("node-1"))),
        "node-1 put its evicted entry back");

    m1.announce("node-1", NodeState.DRAINING);
    states.remove("node-1");
    assertTrue(LocalHazelcast.await(20_000, () -> "DRAINING".equals(states.get("node-1"))),
        "what is put back is the last state announced");
  }

  @Test
  void aClosedNodeDoesNotPutItsEntryBack() throws Exception {
    m1 = Membership.start(hazelcast.start(1), 2);
    HazelcastInstance hz2 = hazelcast.start(2);
    m2 = Membership.start(hz2, 2);
    assertTrue(LocalHazelcast.await(20_000, () -> m1.current().size() == 2 && m2.current().size() == 2));
    m1.announce("node-1", NodeState.SERVING);
    IMap<String, String> states = hz2.getMap(Membership.STATES_MAP);
    assertTrue(LocalHazelcast.await(10_000, () -> states.containsKey("node-1")));
    m1.close();
    states.remove("node-1");
    Thread.sleep(Membership.RECHECK_MILLIS + 1_000);
    assertTrue(!states.containsKey("node-1"), "a closed membership leaves the map alone");
  }
}
