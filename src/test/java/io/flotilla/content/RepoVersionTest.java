package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A version's number, base and summary against its base. */
class RepoVersionTest {
  @Test
  void theFirstVersionCountsEveryTagAsAdded() {
    RepoVersion v = RepoVersion.next("r", null, Map.of("a", "sha256:1", "b", "sha256:2"), 5, "sync", "t");
    assertEquals(1, v.number());
    assertEquals(0, v.base());
    assertEquals(2, v.added());
    assertEquals(0, v.removed());
    assertEquals(2, v.present());
  }

  @Test
  void aMovedTagIsBothAddedAndRemovedAndAGoneTagRemoved() {
    RepoVersion one = RepoVersion.next("r", null, Map.of("a", "sha256:1", "b", "sha256:2", "c", "sha256:3"), 5,
        "sync", "t");
    RepoVersion two = RepoVersion.next("r", one, Map.of("a", "sha256:1", "b", "sha256:9", "d", "sha256:4"), 6,
        "push", "u");
    assertEquals(2, two.number());
    assertEquals(1, two.base());
    assertEquals(2, two.added(), "b moved, d new");
    assertEquals(2, two.removed(), "b moved, c gone");
    assertEquals(3, two.present());
    assertEquals("r@2", RepoVersion.key("r", 2));
  }

  @Test
  void publicationIdsFollowFromRepositoryAndVersion() {
    assertEquals(Publication.idOf("a/b", 3), Publication.idOf("a/b", 3));
    assertEquals(false, Publication.idOf("a/b", 3).equals(Publication.idOf("a/b", 4)));
    assertEquals(false, Publication.idOf("a/b", 13).equals(Publication.idOf("a/b1", 3)));
  }
}
