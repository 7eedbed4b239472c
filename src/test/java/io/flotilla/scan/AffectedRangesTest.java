package io.flotilla.scan;

import static io.flotilla.scan.OsvRange.fixed;
import static io.flotilla.scan.OsvRange.introduced;
import static io.flotilla.scan.OsvRange.lastAffected;
import static io.flotilla.scan.OsvRange.limit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.scan.AffectedRanges.Verdict;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AffectedRangesTest {

  private static OsvAffected ranges(OsvRange... ranges) {
    return new OsvAffected(List.of(ranges), List.of());
  }

  private static void assertAffected(Ecosystem eco, OsvAffected a, String... versions) {
    for (String v : versions) {
      assertTrue(AffectedRanges.isAffected(eco, a, v), v + " should be affected");
      assertTrue(AffectedRanges.evaluate(eco, a, v).affected(), v);
    }
  }

  private static void assertUnaffected(Ecosystem eco, OsvAffected a, String... versions) {
    for (String v : versions) {
      assertFalse(AffectedRanges.isAffected(eco, a, v), v + " should not be affected");
      assertEquals(new Verdict(false, Optional.empty(), 0), AffectedRanges.evaluate(eco, a, v), v);
    }
  }

  @Test
  void introducedZeroAndFixed() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("0"), fixed("2.36.1-8+deb11u2")));
    assertAffected(Ecosystem.DEBIAN, a, "0", "1.0", "2.36.1-8+deb11u1", "2.36.1-8", "2.36.1-8+deb11u2~1");
    assertUnaffected(Ecosystem.DEBIAN, a, "2.36.1-8+deb11u2", "2.36.1-9", "1:0.1");
    assertEquals(Optional.of("2.36.1-8+deb11u2"), AffectedRanges.evaluate(Ecosystem.DEBIAN, a, "2.36.1-8").fixed());
    // "0" is before everything even where the ecosystem sorts something lower than the string "0"
    assertAffected(Ecosystem.DEBIAN, a, "0~rc1");
    OsvAffected semver = ranges(OsvRange.of(OsvRange.Type.SEMVER, introduced("0"), fixed("1.0.2")));
    assertAffected(Ecosystem.NPM, semver, "0.0.0", "0.0.1-alpha", "1.0.2-rc.1", "1.0.1");
    assertUnaffected(Ecosystem.NPM, semver, "1.0.2", "1.0.2+build", "2.0.0");
  }

  @Test
  void onlyIntroducedMeansEveryLaterVersion() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1.2")));
    assertUnaffected(Ecosystem.PYPI, a, "1.1", "1.2rc1", "1.2.dev0");
    assertAffected(Ecosystem.PYPI, a, "1.2", "1.2.0", "1.2.post1", "99");
    assertEquals(Optional.empty(), AffectedRanges.evaluate(Ecosystem.PYPI, a, "1.3").fixed());
  }

  @Test
  void multipleIntroducedFixedPairsInOneRange() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.SEMVER,
        introduced("1.0.0"), fixed("1.0.2"), introduced("3.0.0"), fixed("3.2.5")));
    assertUnaffected(Ecosystem.NPM, a, "0.9.9", "1.0.0-rc.1", "1.0.2", "2.9.9", "3.2.5", "4.0.0");
    assertAffected(Ecosystem.NPM, a, "1.0.0", "1.0.1", "3.0.0", "3.2.4", "3.2.5-rc.1");
    assertEquals(Optional.of("1.0.2"), AffectedRanges.evaluate(Ecosystem.NPM, a, "1.0.1").fixed());
    assertEquals(Optional.of("3.2.5"), AffectedRanges.evaluate(Ecosystem.NPM, a, "3.1.0").fixed());
  }

  @Test
  void unsortedEventsAreSortedFirst() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.ECOSYSTEM,
        fixed("3.2.5"), introduced("3.0.0"), fixed("1.0.2"), introduced("1.0.0")));
    assertUnaffected(Ecosystem.MAVEN, a, "0.9", "1.0.2", "2.0", "3.2.5", "4");
    assertAffected(Ecosystem.MAVEN, a, "1.0.0", "1.0.1", "3.0", "3.2.4", "3.2.5-SNAPSHOT");
  }

  @Test
  void multipleRanges() {
    OsvAffected a = ranges(
        OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("0"), fixed("3.17.1-r1")),
        OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("3.18.0"), fixed("3.18.2-r0")));
    // in apk a version without -rN sorts before its -r0
    assertAffected(Ecosystem.ALPINE, a, "3.17.1", "3.17.1-r0", "3.18.0", "3.18.2_rc1", "3.18.2");
    assertUnaffected(Ecosystem.ALPINE, a, "3.17.1-r1", "3.17.2", "3.18.2-r0", "3.18.2-r1", "3.19.0");
    assertEquals(Optional.of("3.18.2-r0"), AffectedRanges.evaluate(Ecosystem.ALPINE, a, "3.18.1").fixed());
  }

  @Test
  void lastAffectedIsInclusive() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1.0"), lastAffected("1.4.2")));
    // a local version sorts above its public version, so it is past last_affected
    assertUnaffected(Ecosystem.PYPI, a, "0.9", "1.0rc1", "1.4.2.post1", "1.4.2+local", "1.4.3", "2");
    assertAffected(Ecosystem.PYPI, a, "1.0", "1.4", "1.4.2", "1.4.2.0");
    assertEquals(Optional.empty(), AffectedRanges.evaluate(Ecosystem.PYPI, a, "1.2").fixed(),
        "last_affected names no fix");
    OsvAffected single = ranges(OsvRange.of(OsvRange.Type.SEMVER, introduced("2.0.0"), lastAffected("2.0.0")));
    assertAffected(Ecosystem.GO, single, "2.0.0", "v2.0.0");
    assertUnaffected(Ecosystem.GO, single, "1.9.9", "2.0.1", "v2.0.0-rc.1");
  }

  @Test
  void introducedAndFixedAtTheSameVersionAffectNothing() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.SEMVER, fixed("1.0.0"), introduced("1.0.0")));
    assertUnaffected(Ecosystem.NPM, a, "0.9.0", "1.0.0", "1.0.1");
  }

  @Test
  void explicitVersionsListMatchesExactStrings() {
    OsvAffected a = new OsvAffected(List.of(), List.of("1.0.1", "1.0.3"));
    assertAffected(Ecosystem.NPM, a, "1.0.1", "1.0.3");
    assertUnaffected(Ecosystem.NPM, a, "1.0.2", "1.0.1+build", "v1.0.1");
    OsvAffected both = new OsvAffected(
        List.of(OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("2.0"), fixed("2.1"))), List.of("1.5"));
    assertAffected(Ecosystem.PYPI, both, "1.5", "2.0.3");
    assertUnaffected(Ecosystem.PYPI, both, "1.4", "1.6", "2.1");
    assertEquals(new Verdict(true, Optional.of("2.1"), 0), AffectedRanges.evaluate(Ecosystem.PYPI, both, "1.5"));
  }

  @Test
  void versionBeforeAnyIntroduced() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1:2.0"), fixed("1:2.5")));
    assertUnaffected(Ecosystem.UBUNTU, a, "9.9", "1:1.9", "1:2.0~rc1");
    assertAffected(Ecosystem.UBUNTU, a, "1:2.0", "1:2.4-3ubuntu1");
  }

  @Test
  void limitsBoundTheRange() {
    OsvAffected a = ranges(OsvRange.of(OsvRange.Type.SEMVER, introduced("1.0.0"), limit("2.0.0")));
    assertAffected(Ecosystem.NPM, a, "1.0.0", "1.9.9");
    assertUnaffected(Ecosystem.NPM, a, "0.1.0", "2.0.0", "3.0.0");
    OsvAffected star = ranges(OsvRange.of(OsvRange.Type.SEMVER, introduced("1.0.0"), limit("*")));
    assertAffected(Ecosystem.NPM, star, "1.0.0", "99.0.0");
  }

  @Test
  void fixedVersionSkipsAFixThatIsStillAffectedByAnotherRange() {
    OsvAffected a = ranges(
        OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1.0"), fixed("1.5")),
        OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1.4"), fixed("2.0")));
    // 1.5 fixes the first range but is inside the second one: the first version out of both is 2.0
    assertEquals(new Verdict(true, Optional.of("2.0"), 0), AffectedRanges.evaluate(Ecosystem.PYPI, a, "1.2"));
    assertEquals(new Verdict(true, Optional.of("2.0"), 0), AffectedRanges.evaluate(Ecosystem.PYPI, a, "1.4.1"));
    OsvAffected apart = ranges(
        OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1.0"), fixed("1.5")),
        OsvRange.of(OsvRange.Type.ECOSYSTEM, introduced("1.6"), fixed("2.0")));
    assertEquals(new Verdict(true, Optional.of("1.5"), 0), AffectedRanges.evaluate(Ecosystem.PYPI, apart, "1.2"));
  }

  @Test
  void gitAndMalformedRangesAreSkippedNotGuessed() {
    OsvAffected a = new OsvAffected(List.of(
        OsvRange.of(OsvRange.Type.GIT, introduced("0"), fixed("daa7c04131f5")),
        OsvRange.of(OsvRange.Type.SEMVER, introduced("0"), fixed("not-a-version")),
        OsvRange.of(OsvRange.Type.SEMVER, introduced("1.0.0"), fixed("1.1.0"))), List.of());
    assertEquals(new Verdict(false, Optional.empty(), 2), AffectedRanges.evaluate(Ecosystem.NPM, a, "0.5.0"));
    assertEquals(new Verdict(true, Optional.of("1.1.0"), 2), AffectedRanges.evaluate(Ecosystem.NPM, a, "1.0.5"));
    // an installed version the comparator rejects matches no range, only the exact versions list
    assertEquals(new Verdict(false, Optional.empty(), 3), AffectedRanges.evaluate(Ecosystem.NPM, a, "1.0"));
    assertFalse(AffectedRanges.isAffected(Ecosystem.NPM, a, null));
  }
}
