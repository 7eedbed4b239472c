package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.storage.StorageTypes.RefStates;
import io.flotilla.storage.StorageTypes.TagEntry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Reads that merge several nodes' copies answer what the last write or delete says. */
class RefMergeTest {
  private static final String A = "sha256:" + "a".repeat(64);
  private static final String B = "sha256:" + "b".repeat(64);

  private static RefStates tags(Map<String, TagEntry> tags, Map<String, Long> deletedTags, long cleared) {
    return new RefStates(true, tags, Map.of(), deletedTags, Map.of(), cleared);
  }

  @Test
  void theNewestSetOfATagWinsWhicheverCopyHoldsIt() {
    RefStates behind = tags(Map.of("v1", new TagEntry(A, 100, 0)), Map.of(), 0);
    RefStates current = tags(Map.of("v1", new TagEntry(B, 200, 0)), Map.of(), 0);
    assertEquals(Optional.of(B), RefMerge.tag("v1", List.of(behind, current)));
    assertEquals(Optional.of(B), RefMerge.tag("v1", List.of(current, behind)));
  }

  @Test
  void aDeleteNewerThanEverySetHidesTheTagAndWinsATie() {
    RefStates stale = tags(Map.of("v1", new TagEntry(A, 100, 0)), Map.of(), 0);
    RefStates deleted = tags(Map.of(), Map.of("v1", 150L), 0);
    assertEquals(Optional.empty(), RefMerge.tag("v1", List.of(stale, deleted)));
    RefStates tie = tags(Map.of(), Map.of("v1", 100L), 0);
    assertEquals(Optional.empty(), RefMerge.tag("v1", List.of(stale, tie)));
    RefStates pushedAgain = tags(Map.of("v1", new TagEntry(B, 160, 0)), Map.of(), 0);
    assertEquals(Optional.of(B), RefMerge.tag("v1", List.of(stale, deleted, pushedAgain)));
  }

  @Test
  void aRepositoryDeleteHidesOlderTagsAndManifests() {
    RefStates stale = new RefStates(true, Map.of("v1", new TagEntry(A, 100, 0)), Map.of(A, 90L), Map.of(), Map.of(), 0);
    RefStates cleared = new RefStates(false, Map.of(), Map.of(), Map.of(), Map.of(), 120);
    assertEquals(Optional.empty(), RefMerge.tag("v1", List.of(stale, cleared)));
    assertFalse(RefMerge.manifest(A, List.of(stale, cleared)));
    assertTrue(RefMerge.manifest(A, List.of(stale)));
  }

  @Test
  void aManifestIsPresentWhenSomeCopyCreatedItAfterEveryDelete() {
    RefStates deleted = new RefStates(true, Map.of(), Map.of(), Map.of(), Map.of(A, 200L), 0);
    RefStates old = new RefStates(true, Map.of(), Map.of(A, 100L), Map.of(), Map.of(), 0);
    RefStates repushed = new RefStates(true, Map.of(), Map.of(A, 201L), Map.of(), Map.of(), 0);
    assertFalse(RefMerge.manifest(A, List.of(old, deleted)));
    assertTrue(RefMerge.manifest(A, List.of(old, deleted, repushed)));
    assertFalse(RefMerge.manifest(B, List.of(old, deleted, repushed)));
  }

  @Test
  void tagListingsMergeAndPageInNameOrder() {
    RefStates one = tags(Map.of("a", new TagEntry(A, 10, 0), "c", new TagEntry(A, 10, 0), "gone", new TagEntry(A, 10, 0)),
        Map.of(), 0);
    RefStates two = tags(Map.of("b", new TagEntry(B, 20, 0), "d", new TagEntry(B, 20, 0)), Map.of("gone", 30L), 0);
    var all = RefMerge.tags(List.of(one, two));
    assertEquals(List.of("a", "b", "c", "d"), List.copyOf(all.keySet()));
    assertEquals(new RefMerge.Page(List.of("a", "b"), true), RefMerge.page(all, 2, null));
    assertEquals(new RefMerge.Page(List.of("c", "d"), false), RefMerge.page(all, 2, "b"));
    assertEquals(new RefMerge.Page(List.of(), false), RefMerge.page(all, 5, "d"));
    assertEquals(new RefMerge.Page(List.of(), false), RefMerge.page(all, 0, null), "n=0: an empty last page");
  }

  @Test
  void holdersAreTheCopiesWithTheManifestInTheOrderGiven() {
    Map<String, RefStates> byNode = new LinkedHashMap<>();
    byNode.put("n2", tags(Map.of("v1", new TagEntry(B, 5, 0)), Map.of(), 0));
    byNode.put("n1", new RefStates(true, Map.of(), Map.of(B, 4L), Map.of(), Map.of(), 0));
    byNode.put("n3", tags(Map.of("v1", new TagEntry(A, 3, 0)), Map.of(), 0));
    assertEquals(List.of("n2", "n1"), RefMerge.holders(B, byNode));
  }

  @Test
  void nobodyHoldingTheRepositoryIsNotExisting() {
    assertFalse(RefMerge.exists(List.of(new RefStates(false, Map.of(), Map.of(), Map.of(), Map.of(), 5))));
    assertTrue(RefMerge.exists(List.of(new RefStates(false, null, null, null, null, 0),
        new RefStates(true, null, null, null, null, 0))));
  }
}
