package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlacementTest {
  static final int REPOS = 10_000;

  static Member node(int i) {
    return new Member("node-" + i, "vertx-" + i, "127.0.0.1:" + (5000 + i));
  }

  static ClusterView nodes(int count) {
    List<Member> members = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      members.add(node(i));
    }
    return new ClusterView(1, members);
  }

  static List<String> repositories(int count, long seed) {
    Random random = new Random(seed);
    Set<String> names = new HashSet<>();
    while (names.size() < count) {
      names.add("team-" + random.nextInt(200) + "/app-" + Integer.toString(random.nextInt(1 << 20), 36));
    }
    List<String> out = new ArrayList<>(names);
    Collections.sort(out);
    return out;
  }

  static List<String> names(List<Member> members) {
    return members.stream().map(Member::nodeName).toList();
  }

  @Test
  void scoreIsXxh64() {
    // reference vectors of the xxHash project (XXH64, seed 0)
    assertEquals(0xEF46DB3751D8E999L, Placement.xxh64(new byte[0], 0));
    assertEquals(0x44BC2CF5AD770999L, Placement.xxh64("abc".getBytes(StandardCharsets.UTF_8), 0));
    assertEquals(0x0B242D361FDA71BCL,
        Placement.xxh64("The quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.UTF_8), 0));
    assertEquals(Placement.xxh64("node-1\0library/alpine".getBytes(StandardCharsets.UTF_8), 0),
        Placement.score("node-1", "library/alpine"));
    assertEquals(0x0BC31195085776F9L, Placement.score("node-1", "library/alpine"));
  }

  @Test
  void placementIsPinned() {
    // Expected values computed independently (a separate XXH64 implementation). Changing them moves
    // data between the nodes of a running cluster: do it only together with a migration.
    Placement p = new Placement(nodes(3));
    assertEquals(List.of("node-3", "node-2", "node-1"), names(p.owners("library/alpine", 3)));
    assertEquals(List.of("node-1", "node-2", "node-3"), names(p.owners("team-a/service", 3)));
    assertEquals(List.of("node-3", "node-2"), names(p.owners("x", 2)));
  }

  @Test
  void ownersAreTheSameOnEveryNodeWhateverTheOrderOfMembers() {
    List<Member> members = new ArrayList<>(nodes(5).members());
    Collections.shuffle(members, new Random(1));
    Placement p1 = new Placement(new ClusterView(3, members));
    Collections.shuffle(members, new Random(2));
    Placement p2 = new Placement(new ClusterView(17, members));
    for (String repo : repositories(2_000, 3)) {
      for (int r = 1; r <= 5; r++) {
        assertEquals(p1.owners(repo, r), p2.owners(repo, r), repo);
      }
    }
  }

  @Test
  void ownersAreDistinctCappedAndNested() {
    Placement p = new Placement(nodes(3));
    for (String repo : repositories(500, 4)) {
      List<Member> all = p.owners(repo, 7);
      assertEquals(3, all.size());
      assertEquals(3, new HashSet<>(all).size());
      assertEquals(all.subList(0, 1), p.owners(repo, 1), "r=1 is the primary of r=3");
      assertEquals(all.subList(0, 2), p.owners(repo, 2), "r=2 is a prefix of r=3");
      assertEquals(all.get(0), p.primary(repo).orElseThrow());
      assertTrue(p.isOwner(all.get(1).nodeName(), repo, 2));
      assertTrue(!p.isOwner(all.get(2).nodeName(), repo, 2));
    }
    assertEquals(3, p.effectiveReplicas(5));
    assertEquals(2, p.effectiveReplicas(2));
    assertEquals(List.of(), new Placement(ClusterView.empty()).owners("x", 2));
    assertTrue(new Placement(ClusterView.empty()).primary("x").isEmpty());
    assertThrows(IllegalArgumentException.class, () -> p.owners("x", 0));
  }

  @Test
  void primariesAreBalanced() {
    List<String> repos = repositories(REPOS, 5);
    for (int n = 3; n <= 5; n++) {
      Placement p = new Placement(nodes(n));
      Map<String, Integer> primaries = new HashMap<>();
      Map<String, Integer> replicas = new HashMap<>();
      for (String repo : repos) {
        List<Member> owners = p.owners(repo, 2);
        primaries.merge(owners.get(0).nodeName(), 1, Integer::sum);
        owners.forEach(o -> replicas.merge(o.nodeName(), 1, Integer::sum));
      }
      assertEquals(n, primaries.size());
      // one standard deviation of a share is under 0.005 here; 0.03 is six of them
      for (var e : primaries.entrySet()) {
        double share = e.getValue() / (double) REPOS;
        assertEquals(1.0 / n, share, 0.03, n + " nodes, primaries of " + e.getKey());
      }
      for (var e : replicas.entrySet()) {
        double share = e.getValue() / (double) REPOS;
        assertEquals(2.0 / n, share, 0.03, n + " nodes, r=2 copies on " + e.getKey());
      }
    }
  }

  @Test
  void addingANodeMovesAQuarterOfPrimariesAndOnlyToTheNewNode() {
    List<String> repos = repositories(REPOS, 6);
    Placement before = new Placement(nodes(3));
    Placement after = new Placement(nodes(3).apply(MembershipDelta.joined(node(4))));
    int moved = 0;
    for (String repo : repos) {
      Member old = before.owners(repo, 1).get(0);
      Member now = after.owners(repo, 1).get(0);
      if (!old.equals(now)) {
        moved++;
        assertEquals("node-4", now.nodeName(), repo + " moved between two old nodes");
      }
    }
    assertEquals(0.25, moved / (double) REPOS, 0.03);
  }

  @Test
  void addingANodeWithTwoReplicasOnlyMovesCopiesToTheNewNode() {
    List<String> repos = repositories(REPOS, 7);
    Placement before = new Placement(nodes(3));
    Placement after = new Placement(nodes(4));
    int gained = 0;
    for (String repo : repos) {
      List<String> old = names(before.owners(repo, 2));
      List<String> now = names(after.owners(repo, 2));
      List<String> oldOnesStaying = now.stream().filter(n -> !n.equals("node-4")).toList();
      if (now.contains("node-4")) {
        gained++;
        // one old owner made room; the other kept its copy (and its rank among old owners)
        assertEquals(1, oldOnesStaying.size(), repo);
        assertTrue(old.contains(oldOnesStaying.get(0)), repo + ": ownership moved between old nodes");
      } else {
        assertEquals(old, now, repo + ": changed owners without gaining the new node");
      }
    }
    // node-4 ranks in the top 2 of 4 for half of the repositories
    assertEquals(0.5, gained / (double) REPOS, 0.03);
  }

  @Test
  void removingANodeMovesOnlyWhatItOwned() {
    List<String> repos = repositories(REPOS, 8);
    ClusterView four = nodes(4);
    ClusterView three = four.apply(MembershipDelta.left(node(2)));
    Placement before = new Placement(four);
    Placement after = new Placement(three);
    for (int r = 1; r <= 3; r++) {
      int moved = 0;
      for (String repo : repos) {
        List<String> old = names(before.owners(repo, r));
        List<String> now = names(after.owners(repo, r));
        if (old.contains("node-2")) {
          moved++;
          List<String> survivors = old.stream().filter(n -> !n.equals("node-2")).toList();
          assertEquals(survivors, now.subList(0, survivors.size()), repo + ": surviving owners keep their rank");
        } else {
          assertEquals(old, now, repo + " moved although node-2 did not own it");
        }
      }
      assertEquals(r / 4.0, moved / (double) REPOS, 0.03, "r=" + r);
    }
  }
}
