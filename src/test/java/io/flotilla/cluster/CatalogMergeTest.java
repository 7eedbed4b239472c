package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.CatalogMerge.Result;
import io.flotilla.storage.StorageTypes.CatalogPage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class CatalogMergeTest {
  /** A node's answer, with the semantics of {@code MetadataStore.catalog(n, last)}. */
  static CatalogPage nodePage(TreeSet<String> stored, int n, String last) {
    if (n == 0) {
      return new CatalogPage(List.of(), false, List.of());
    }
    List<String> out = new ArrayList<>();
    for (String name : last == null ? stored : stored.tailSet(last, false)) {
      if (out.size() == n) {
        return new CatalogPage(out, true, List.of());
      }
      out.add(name);
    }
    return new CatalogPage(out, false, List.of());
  }

  /** Pages through the merged catalog of the answering nodes, as a client following Link would. */
  static List<String> listAll(Map<String, TreeSet<String>> nodes, Set<String> missing, int n) {
    List<String> all = new ArrayList<>();
    String last = null;
    for (int guard = 0; guard < 100_000; guard++) {
      Map<String, CatalogPage> pages = new LinkedHashMap<>();
      for (var e : nodes.entrySet()) {
        if (!missing.contains(e.getKey())) {
          pages.put(e.getKey(), nodePage(e.getValue(), n, last));
        }
      }
      Result r = CatalogMerge.merge(n, last, pages, missing);
      assertTrue(r.repositories().size() <= n);
      if (r.more()) {
        assertEquals(n, r.repositories().size(), "only the last page may be short");
      }
      all.addAll(r.repositories());
      Optional<String> next = r.nextLast();
      if (next.isEmpty()) {
        assertFalse(r.more());
        return all;
      }
      last = next.get();
    }
    throw new AssertionError("paging did not end");
  }

  static Map<String, TreeSet<String>> distribute(List<String> repos, ClusterView view, int r) {
    Placement placement = new Placement(view);
    Map<String, TreeSet<String>> nodes = new TreeMap<>();
    view.nodeNames().forEach(name -> nodes.put(name, new TreeSet<>()));
    for (String repo : repos) {
      placement.owners(repo, r).forEach(o -> nodes.get(o.nodeName()).add(repo));
    }
    return nodes;
  }

  static List<String> randomNames(Random random, int count) {
    Set<String> names = new HashSet<>();
    while (names.size() < count) {
      // short names from a small alphabet, so that prefixes and near-neighbours are common
      int len = 1 + random.nextInt(6);
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < len; i++) {
        b.append(random.nextInt(8) == 0 ? '/' : (char) ('a' + random.nextInt(4)));
      }
      names.add(b.toString());
    }
    return new ArrayList<>(names);
  }

  static ClusterView view(int nodes) {
    return PlacementTest.nodes(nodes);
  }

  @Test
  void mergesSortsAndDeduplicates() {
    Map<String, CatalogPage> pages = new LinkedHashMap<>();
    pages.put("node-1", new CatalogPage(List.of("a", "c", "e"), false, List.of()));
    pages.put("node-2", new CatalogPage(List.of("b", "c", "d"), false, List.of()));
    pages.put("node-3", new CatalogPage(List.of(), false, List.of()));
    Result r = CatalogMerge.merge(10, null, pages, List.of());
    assertEquals(List.of("a", "b", "c", "d", "e"), r.repositories());
    assertFalse(r.more());
    assertEquals(Optional.empty(), r.nextLast());
    assertEquals(List.of(), r.missingNodes());
  }

  @Test
  void namesLeftOverAfterNMakeMore() {
    Map<String, CatalogPage> pages = Map.of(
        "node-1", new CatalogPage(List.of("a", "c"), false, List.of()),
        "node-2", new CatalogPage(List.of("b", "d"), false, List.of()));
    Result r = CatalogMerge.merge(2, null, pages, List.of());
    assertEquals(List.of("a", "b"), r.repositories());
    assertTrue(r.more());
    assertEquals(Optional.of("b"), r.nextLast());
  }

  @Test
  void aNodeWithMoreMakesMoreEvenWhenTheMergedPageFits() {
    // node-1 holds b, c and more; node-2 holds b, c too: two distinct names, n=2, still more to come
    Map<String, CatalogPage> pages = Map.of(
        "node-1", new CatalogPage(List.of("b", "c"), true, List.of()),
        "node-2", new CatalogPage(List.of("b", "c"), false, List.of()));
    Result r = CatalogMerge.merge(2, "a", pages, List.of());
    assertEquals(List.of("b", "c"), r.repositories());
    assertTrue(r.more());
  }

  @Test
  void nZeroIsAnEmptyPageWithoutMore() {
    Map<String, CatalogPage> pages = Map.of("node-1", new CatalogPage(List.of(), false, List.of()));
    Result r = CatalogMerge.merge(0, null, pages, List.of("node-2"));
    assertEquals(List.of(), r.repositories());
    assertFalse(r.more());
    assertEquals(List.of("node-2"), r.missingNodes());
  }

  @Test
  void aPagesOwnUnavailableNodesAreMissingUnlessTheyAnswered() {
    Map<String, CatalogPage> pages = Map.of(
        "node-1", new CatalogPage(List.of("a"), false, List.of("node-2", "node-3")),
        "node-2", new CatalogPage(List.of("b"), false, List.of()));
    Result r = CatalogMerge.merge(5, null, pages, List.of("node-4"));
    assertEquals(List.of("node-3", "node-4"), r.missingNodes());
  }

  static Map<String, CatalogPage> one(String... names) {
    return Map.of("n", new CatalogPage(List.of(names), false, List.of()));
  }

  @Test
  void rejectsPagesThatBreakTheContract() {
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.merge(5, null, one("b", "a"), List.of()));
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.merge(5, null, one("a", "a"), List.of()));
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.merge(5, "b", one("b", "c"), List.of()));
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.merge(1, null, one("a", "b"), List.of()));
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.merge(1, null, one(), List.of("n")));
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.merge(-1, null, Map.of(), List.of()));
  }

  @Test
  void pagingOverReplicatedNodesListsEveryNameOnceInOrder() {
    for (long seed = 0; seed < 40; seed++) {
      Random random = new Random(seed);
      List<String> repos = randomNames(random, random.nextInt(300));
      TreeSet<String> expected = new TreeSet<>(repos);
      Map<String, TreeSet<String>> nodes = distribute(repos, view(3), 2);
      for (int n : new int[] {1, 7, 100}) {
        assertEquals(new ArrayList<>(expected), listAll(nodes, Set.of(), n), "seed " + seed + ", n=" + n);
      }
    }
  }

  @Test
  void pagingOverArbitraryOverlapsListsEveryNameOnceInOrder() {
    // not only placement's layout: any overlap, including a node holding everything or nothing
    for (long seed = 0; seed < 40; seed++) {
      Random random = new Random(1000 + seed);
      List<String> repos = randomNames(random, random.nextInt(200));
      Map<String, TreeSet<String>> nodes = new TreeMap<>();
      int nodeCount = 1 + random.nextInt(5);
      for (int i = 0; i < nodeCount; i++) {
        nodes.put("node-" + i, new TreeSet<>());
      }
      TreeSet<String> expected = new TreeSet<>();
      for (String repo : repos) {
        for (var stored : nodes.values()) {
          if (random.nextInt(3) == 0) {
            stored.add(repo);
            expected.add(repo);
          }
        }
      }
      for (int n : new int[] {1, 2, 7, 100}) {
        assertEquals(new ArrayList<>(expected), listAll(nodes, Set.of(), n), "seed " + seed + ", n=" + n);
      }
    }
  }

  @Test
  void completenessRule() {
    ClusterView three = view(3);
    assertTrue(CatalogMerge.complete(three, 1, List.of()));
    assertFalse(CatalogMerge.complete(three, 1, List.of("node-1")));
    assertTrue(CatalogMerge.complete(three, 2, List.of("node-1")));
    assertFalse(CatalogMerge.complete(three, 2, List.of("node-1", "node-2")));
    assertTrue(CatalogMerge.complete(three, 3, List.of("node-1", "node-2")));
    assertTrue(CatalogMerge.complete(view(2), 3, List.of("node-1")), "r capped at 2: every repo is on both");
    assertFalse(CatalogMerge.complete(view(2), 3, List.of("node-1", "node-2")));
    assertFalse(CatalogMerge.complete(three, 2, List.of("node-9", "node-8")), "unknown nodes count as missing");
    assertThrows(IllegalArgumentException.class, () -> CatalogMerge.complete(three, 0, List.of()));
    Result r = CatalogMerge.merge(5, null, Map.of("node-2", new CatalogPage(List.of("a"), false, List.of()),
        "node-3", new CatalogPage(List.of("b"), false, List.of())), List.of("node-1"));
    assertEquals(List.of("node-1"), r.missingNodes());
    assertTrue(r.complete(three, 2));
    assertFalse(r.complete(three, 1));
    assertEquals(new CatalogPage(List.of("a", "b"), false, List.of()), r.toCatalogPage(three, 2));
    assertEquals(new CatalogPage(List.of("a", "b"), false, List.of("node-1")), r.toCatalogPage(three, 1));
  }

  /**
   * The rule is sound (when it says complete, nothing is lost) and not vacuous (when it says
   * incomplete, something really is lost): checked for every subset of missing nodes.
   */
  @Test
  void completenessRuleMatchesWhatIsActuallyLost() {
    List<String> repos = PlacementTest.repositories(2_000, 11);
    List<String> expected = new ArrayList<>(new TreeSet<>(repos));
    for (int size = 2; size <= 4; size++) {
      ClusterView view = view(size);
      for (int r = 1; r <= 3; r++) {
        Map<String, TreeSet<String>> nodes = distribute(repos, view, r);
        for (int mask = 0; mask < (1 << size); mask++) {
          Set<String> missing = new HashSet<>();
          for (int i = 0; i < size; i++) {
            if ((mask & (1 << i)) != 0) {
              missing.add(view.nodeNames().get(i));
            }
          }
          boolean ruleSaysComplete = CatalogMerge.complete(view, r, missing);
          boolean actuallyComplete = listAll(nodes, missing, 100).equals(expected);
          assertEquals(actuallyComplete, ruleSaysComplete, size + " nodes, r=" + r + ", missing " + missing);
        }
      }
    }
  }
}
