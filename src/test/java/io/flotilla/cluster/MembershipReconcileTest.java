package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.hazelcast.config.Config;
import io.flotilla.cluster.Membership.NodeState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure parts of {@link Membership}: reconciling with a member list, and tagging a config. */
class MembershipReconcileTest {
  static final Member A = new Member("a", "id-a", "");
  static final Member B = new Member("b", "id-b", "");
  static final Member C = new Member("c", "id-c", "");

  @Test
  void firstReconcileBuildsEpochOne() {
    ClusterView v = Membership.reconcile(ClusterView.empty(), List.of(C, A, B));
    assertEquals(1, v.epoch());
    assertEquals(List.of(A, B, C), v.members());
  }

  @Test
  void anUnchangedMemberListKeepsTheImage() {
    ClusterView v = ClusterView.of(3, A, B);
    assertSame(v, Membership.reconcile(v, List.of(B, A)));
  }

  @Test
  void joinsAndLeavesAdvanceTheEpochOnce() {
    ClusterView v = ClusterView.of(3, A, B);
    ClusterView next = Membership.reconcile(v, List.of(B, C));
    assertEquals(4, next.epoch());
    assertEquals(List.of(B, C), next.members());
  }

  @Test
  void theOldestMemberKeepsADuplicatedName() {
    Member impostor = new Member("a", "id-a-new", "");
    ClusterView v = Membership.reconcile(ClusterView.empty(), List.of(A, B, impostor));
    assertEquals(List.of(A, B), v.members());
    ClusterView afterOldLeaves = Membership.reconcile(v, List.of(B, impostor));
    assertEquals(List.of(impostor, B), afterOldLeaves.members());
    assertEquals(2, afterOldLeaves.epoch());
  }

  @Test
  void tagConfigSetsMemberAttributes() {
    Config c = Membership.tagConfig(new Config(), "node-1", "127.0.0.1:5000");
    assertEquals("node-1", c.getMemberAttributeConfig().getAttribute(Membership.NODE_NAME_ATTRIBUTE));
    assertEquals("127.0.0.1:5000", c.getMemberAttributeConfig().getAttribute(Membership.HTTP_ADDRESS_ATTRIBUTE));
    assertThrows(IllegalArgumentException.class, () -> Membership.tagConfig(new Config(), "", "x"));
  }

  @Test
  void placementUsesTheServingMembers() {
    ClusterView v = ClusterView.of(5, A, B, C);
    assertEquals(List.of(A, B), Membership.placeable(v, Map.of("a", NodeState.SERVING, "b", NodeState.SERVING), 2).members());
    assertEquals(List.of(A, B, C), Membership.placeable(v, Map.of(), 2).members(), "none serving yet: the whole view");
    assertEquals(List.of(A), Membership.placeable(v, Map.of("a", NodeState.SERVING), 1).members(), "R=1 needs one");
  }

  @Test
  void aNodeDoesNotPlaceAloneWhileOtherMembersAnnouncedNothing() {
    ClusterView v = ClusterView.of(5, A, B, C);
    // a lost or never-seen state must not shrink the owners below min(R, members)
    assertEquals(List.of(A, B, C), Membership.placeable(v, Map.of("a", NodeState.SERVING), 2).members());
    // a draining member is left out all the same
    assertEquals(List.of(A, C), Membership.placeable(v, Map.of("a", NodeState.SERVING, "b", NodeState.DRAINING), 2)
        .members());
    assertEquals(List.of(A), Membership.placeable(ClusterView.of(2, A, B),
        Map.of("a", NodeState.SERVING, "b", NodeState.DRAINING), 2).members(), "the last one left holds everything");
  }
}
