package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MavenComparatorTest {
  private final MavenComparator cmp = new MavenComparator();

  @Test
  void qualifierOrder() {
    Vectors.assertAscending(cmp, List.of(
        "1-alpha", "1-beta", "1-milestone", "1-rc", "1-snapshot", "1", "1-sp", "1.1"));
    Vectors.assertPairs(cmp,
        "1-rc = 1-cr",
        "1 = 1.0",
        "1 = 1-ga",
        "1 = 1-final",
        "1 = 1-release",
        "1.0.0 = 1",
        "1-a1 = 1-alpha-1",
        "1-b2 = 1-beta-2",
        "1-m3 = 1-milestone-3",
        "1-alpha2 < 1-alpha10",
        "1.0-SNAPSHOT < 1.0",
        "1.0-SNAPSHOT > 1.0-rc1",
        "1-sp < 1-abc",
        "1-abc < 1-abd",
        "1-abc < 1.1",
        "2.12.7.1 > 2.12.7",
        "2.13.4.2 < 2.14.0-rc1",
        "5.3.39 < 6.0.0-M1",
        "6.0.0-M1 < 6.0.0-RC1",
        "6.0.0-RC1 < 6.0.0",
        "1.2.3.Final = 1.2.3",
        "31.1-jre > 31.0.1-jre",
        "1.10 > 1.9",
        "1.0.0.RELEASE = 1.0.0");
  }

  @Test
  void validity() {
    Vectors.assertAllValid(cmp, List.of("1", "1.0-SNAPSHOT", "2.15.0-rc1", "31.1-jre", "1.2.3.Final"));
    for (String bad : List.of("", " ", "1.0 ", "1.\n0")) {
      assertFalse(cmp.valid(bad), bad);
    }
    assertFalse(cmp.valid(null));
    assertTrue(cmp.compare("1.0 beta", "99") > 0);
  }
}
