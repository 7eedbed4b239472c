package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SemverComparatorTest {
  private final SemverComparator cmp = new SemverComparator();

  @Test
  void semverOrgPrecedenceExamples() {
    // semver.org §11
    Vectors.assertAscending(cmp, List.of("1.0.0", "2.0.0", "2.1.0", "2.1.1"));
    Vectors.assertAscending(cmp, List.of("1.0.0-alpha", "1.0.0"));
    Vectors.assertAscending(cmp, List.of("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"));
  }

  @Test
  void buildMetadataIgnoredAndNumbersUnbounded() {
    Vectors.assertPairs(cmp,
        "1.0.0+20130313144700 = 1.0.0",
        "1.0.0-beta+exp.sha.5114f85 = 1.0.0-beta",
        "1.0.0+a = 1.0.0+b",
        "v1.2.3 = 1.2.3",
        "v2.0.0+incompatible > v1.9.9",
        "1.0.0-1 < 1.0.0-a",
        "1.0.0-2 < 1.0.0-10",
        "1.0.0-a10 < 1.0.0-a9",
        "1.0.0-A < 1.0.0-a",
        "1.0.0-alpha-1 > 1.0.0-alpha",
        "1.10.0 > 1.9.0",
        "99999999999999999999.0.0 < 100000000000000000000.0.0");
  }

  @Test
  void goPseudoVersions() {
    Vectors.assertAscending(cmp, List.of(
        "v0.0.0-20191109021931-daa7c04131f5",
        "v0.0.0-20200101000000-000000000000",
        "v0.0.1",
        "v1.2.3",
        "v1.2.4-0.20191109021931-daa7c04131f5",
        "v1.2.4-pre",
        "v1.2.4-pre.0.20191109021931-daa7c04131f5",
        "v1.2.4"));
  }

  @Test
  void validity() {
    for (String bad : List.of("", "1", "1.0", "01.0.0", "1.01.0", "1.0.0-01", "1.0.0-", "1.0.0+", "1.0.0-a..b",
        "V1.0.0", "1.0.0.0", " 1.0.0", "1.0.0-ä")) {
      assertFalse(cmp.valid(bad), bad);
    }
    assertTrue(cmp.valid("1.0.0-0A.is.legal"));
    assertTrue(cmp.valid("v0.0.0-20191109021931-daa7c04131f5"));
    assertFalse(cmp.valid(null));
    Vectors.assertAscending(cmp, List.of("1.0.0", "1.0", "1.0.0.0"));
  }
}
