package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RepoRankTest {
  @Test
  void ranksAsZotDoes() {
    assertEquals(0, RepoRank.rank("foo/bar", "foo/bar"), "exact");
    assertEquals(1, RepoRank.rank("bar", "foo/bar"), "start of the last segment");
    assertEquals(2, RepoRank.rank("ar", "foo/bar"), "inside the last segment");
    assertEquals(10, RepoRank.rank("foo", "foo/bar"), "start of the first segment");
    assertEquals(20, RepoRank.rank("oo", "foo/bar"), "inside the first segment");
    assertEquals(2, RepoRank.rank("foo/bar/epo", "foo/bar/baz/repo"), "leading segments equal, last inside the last");
    assertEquals(10, RepoRank.rank("foo/bar/b", "foo/bar/baz/repo"), "a prefix of the name");
    assertEquals(500, RepoRank.rank("bar/ba", "foo/bar/baz/repo"), "anywhere");
    assertEquals(-1, RepoRank.rank("a/b/c", "a/b"), "more segments than the name");
    assertEquals(-1, RepoRank.rank("zzz", "foo/bar"), "no match");
    assertEquals(1, RepoRank.rank("", "anything/at/all"), "the empty text matches everything");
    assertEquals(300, RepoRank.rank("o/b", "foo/bar"), "a multi-segment text found in the middle");
  }
}
