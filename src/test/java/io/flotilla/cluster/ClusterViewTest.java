package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterViewTest {
  static final Member A = new Member("a", "id-a", "127.0.0.1:5000");
  static final Member B = new Member("b", "id-b", "127.0.0.1:5001");
  static final Member C = new Member("c", "id-c", "");

  @Test
  void membersAreSortedByNameWhateverTheOrderGiven() {
    ClusterView v1 = ClusterView.of(3, C, A, B);
    ClusterView v2 = new ClusterView(3, List.of(B, C, A));
    assertEquals(List.of(A, B, C), v1.members());
    assertEquals(List.of("a", "b", "c"), v1.nodeNames());
    assertEquals(v1, v2);
    assertTrue(v1.sameMembers(ClusterView.of(9, A, B, C)));
  }

  @Test
  void lookups() {
    ClusterView v = ClusterView.of(1, A, B);
    assertEquals(Optional.of(B), v.member("b"));
    assertEquals(Optional.empty(), v.member("c"));
    assertEquals(Optional.of(A), v.memberByVertxNodeId("id-a"));
    assertEquals(Optional.empty(), v.memberByVertxNodeId("a"));
    assertTrue(v.contains("a"));
    assertFalse(v.contains("id-a"));
    assertEquals(2, v.size());
    assertTrue(ClusterView.empty().isEmpty());
    assertEquals(0, ClusterView.empty().epoch());
  }

  @Test
  void rejectsDuplicateNamesOrIdsAndNegativeEpochs() {
    assertThrows(IllegalArgumentException.class, () -> ClusterView.of(1, A, new Member("a", "other", "")));
    assertThrows(IllegalArgumentException.class, () -> ClusterView.of(1, A, new Member("z", "id-a", "")));
    assertThrows(IllegalArgumentException.class, () -> ClusterView.of(-1, A));
    assertThrows(IllegalArgumentException.class, () -> new Member(" ", "id", ""));
    assertThrows(IllegalArgumentException.class, () -> new Member("a", "", ""));
    assertThrows(IllegalArgumentException.class, () -> new Member("a", "id", null));
  }

  @Test
  void aDeltaYieldsTheNextImageWithTheNextEpoch() {
    ClusterView v0 = ClusterView.empty();
    ClusterView v1 = v0.apply(MembershipDelta.joined(B, A));
    assertEquals(1, v1.epoch());
    assertEquals(List.of(A, B), v1.members());
    ClusterView v2 = v1.apply(new MembershipDelta(List.of(C), List.of(A)));
    assertEquals(2, v2.epoch());
    assertEquals(List.of(B, C), v2.members());
    assertEquals(List.of(A, B), v1.members(), "images are immutable");
  }

  @Test
  void aDeltaThatChangesNothingKeepsTheImage() {
    ClusterView v = ClusterView.of(4, A, B);
    assertSame(v, v.apply(MembershipDelta.NONE));
    assertSame(v, v.apply(MembershipDelta.joined(A)), "joining twice is no change");
    assertSame(v, v.apply(MembershipDelta.left(C)), "leaving twice is no change");
    Member oldA = new Member("a", "old-incarnation", "");
    assertSame(v, v.apply(MembershipDelta.left(oldA)), "a late 'left' of an old incarnation removes nothing");
  }

  @Test
  void aRestartUnderTheSameNameReplacesTheMember() {
    ClusterView v = ClusterView.of(4, A, B);
    Member a2 = new Member("a", "id-a-2", "127.0.0.1:5000");
    assertThrows(IllegalArgumentException.class, () -> v.apply(MembershipDelta.joined(a2)),
        "the old incarnation must leave first");
    ClusterView next = v.apply(new MembershipDelta(List.of(a2), List.of(A)));
    assertEquals(5, next.epoch());
    assertEquals(List.of(a2, B), next.members());
    assertEquals(new MembershipDelta(List.of(a2), List.of(A)), next.deltaFrom(v));
  }

  @Test
  void deltaFromTurnsTheOlderImageIntoTheNewer() {
    ClusterView older = ClusterView.of(7, A, B);
    ClusterView newer = ClusterView.of(2, B, C);
    MembershipDelta d = newer.deltaFrom(older);
    assertEquals(List.of(C), d.joined());
    assertEquals(List.of(A), d.left());
    ClusterView applied = older.apply(d);
    assertTrue(applied.sameMembers(newer));
    assertEquals(8, applied.epoch());
    assertTrue(newer.deltaFrom(newer).isEmpty());
  }
}
