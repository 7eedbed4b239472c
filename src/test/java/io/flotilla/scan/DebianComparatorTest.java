package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DebianComparatorTest {
  private final DebianComparator cmp = new DebianComparator();

  @Test
  void tildeSortsBeforeEverythingIncludingTheEnd() {
    // deb-version(7): "~~, ~~a, ~, the empty part, a"
    assertEquals(-1, DebianComparator.comparePart("~~", "~~a"));
    assertEquals(-1, DebianComparator.comparePart("~~a", "~"));
    assertEquals(-1, DebianComparator.comparePart("~", ""));
    assertEquals(-1, DebianComparator.comparePart("", "a"));
    Vectors.assertAscending(cmp, List.of("1~~", "1~~a", "1~", "1", "1a"));
    Vectors.assertAscending(cmp, List.of("1.0~beta1~svn1245", "1.0~beta1", "1.0"));
  }

  @Test
  void policyOrdering() {
    Vectors.assertAscending(cmp, List.of(
        "0.9", "1.0~alpha", "1.0~rc1", "1.0", "1.0-0.1", "1.0-1", "1.0-1+b1", "1.0-1.1", "1.0-2~bpo1",
        "1.0-2", "1.0-10", "1.0a", "1.0a1", "1.0+dfsg", "1.0+dfsg1", "1.0.1", "1.1", "1.10", "2.0",
        "10", "1:0.1", "1:0.1-1", "2:0"));
  }

  @Test
  void pairs() {
    Vectors.assertPairs(cmp,
        "1:0.1 > 9.9",
        "1:1.0 > 1.0",
        "0:1.0 = 1.0",
        "00:1.0 = 1.0",
        "1.0 = 1.0-0",
        "1.0-0 = 1.0-00",
        "1.01 = 1.1",
        "1.001 = 1.1",
        "1.0 < 1.0.0",
        "1.2.3 < 1.2.3a",
        "1.2.3a < 1.2.3+",
        "1.2.3+ < 1.2.3.",
        "1.2.3. < 1.2.3.4",
        "1a < 1b",
        "1.0-a < 1.0-b",
        "1.0~ < 1.0",
        "2.30-13 > 2.30-1",
        "2.30-1+deb12u1 > 2.30-1",
        "2.30-1+deb12u1 < 2.30-2",
        "2.36.1-8+deb11u1 < 2.36.1-8+deb11u2",
        "1.1.1n-0+deb11u5 > 1.1.1n-0+deb11u4",
        "3.0.11-1~deb12u2 < 3.0.11-1",
        "7.88.1-10+deb12u5 > 7.88.1-10+deb12u4",
        "1:2.39.2-1.1 > 2.40",
        "2:8.2.3995-1ubuntu2.15 > 2:8.2.3995-1ubuntu2.9",
        "1.2-3-4 > 1.2-3",
        "1.2-3-4 < 1.2-3-5",
        "99999999999999999999 < 100000000000000000000",
        "1.0+git20230101 < 1.0+git20230102",
        "1.0+really0.9 > 1.0+r");
  }

  @Test
  void revisionSplitsAtTheLastHyphen() {
    // upstream "1.2-3", revision "4" vs upstream "1.2", revision "3-4" is not possible: the last hyphen wins
    assertTrue(cmp.compare("1.2-3-4", "1.2-3-3") > 0);
    assertTrue(cmp.valid("1:1.2-3-4"));
  }

  @Test
  void validity() {
    Vectors.assertAllValid(cmp, List.of("1", "1.0", "1:1.0-1", "1.0~rc1-1+b2", "2.36.1-8+deb11u1", "1:2:3-4"));
    for (String bad : List.of("", "a1.0", "1.0-", ":1.0", "a:1.0", "1:", "1.0 ", " 1.0", "1.0-1_2", "1.0@",
        "-1", "99999999999:1", "1.0-1:2")) {
      assertFalse(cmp.valid(bad), bad);
    }
    assertFalse(cmp.valid(null));
  }

  @Test
  void invalidVersionsSortAfterValidOnesWithoutThrowing() {
    Vectors.assertAscending(cmp, List.of("1.0", "99:9", "", "a1.0", "b"));
    assertEquals(0, cmp.compare("x y", "x y"));
    assertTrue(cmp.compare(null, "zzz") > 0);
    assertTrue(cmp.compare("1.0", null) < 0);
    assertEquals(0, cmp.compare(null, null));
  }
}
