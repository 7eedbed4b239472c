package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class Pep440ComparatorTest {
  private final Pep440Comparator cmp = new Pep440Comparator();

  /** The ordering example of PEP 440 ("Summary of permitted suffixes and relative ordering"). */
  static final List<String> SPEC_ORDER = List.of(
      "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
      "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7",
      "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1");

  @Test
  void specOrderingExample() {
    Vectors.assertAllValid(cmp, SPEC_ORDER);
    Vectors.assertAscending(cmp, SPEC_ORDER);
  }

  @Test
  void epochsReleasesAndLocalVersions() {
    Vectors.assertAscending(cmp, List.of(
        "0.9", "1.0.dev0", "1.0a1", "1.0", "1.0+local", "1.0+local.1", "1.0+1", "1.0+2.abc", "1.0.post1.dev1",
        "1.0.post1", "1.0.1", "1.1", "1.10", "2013.10", "2014.04", "1!0.1", "1!1.0", "2!0"));
    Vectors.assertPairs(cmp,
        "1.0 = 1.0.0",
        "1.0.0.0 = 1",
        "1.0.dev1 < 1.0a1.dev1",
        "1.0.dev1 < 1.0.post1.dev1",
        "1.0rc1 < 1.0",
        "1.0.post0 > 1.0",
        "1.0+abc < 1.0+abd",
        "1.0+abc.1 > 1.0+abc",
        "1.0+1 > 1.0+abc",
        "1.0+10 > 1.0+9",
        "1.0+ubuntu-1 = 1.0+ubuntu.1",
        "99999999999999999999999 < 100000000000000000000000",
        "2.0.0 > 1.99999.99999");
  }

  @Test
  void normalizationEquivalences() {
    Vectors.assertPairs(cmp,
        "1.0a1 = 1.0-a1",
        "1.0a1 = 1.0.a.1",
        "1.0a1 = 1.0alpha1",
        "1.0a1 = 1.0ALPHA1",
        "1.0b1 = 1.0beta1",
        "1.0rc1 = 1.0c1",
        "1.0rc1 = 1.0pre1",
        "1.0rc1 = 1.0preview1",
        "1.0rc0 = 1.0rc",
        "1.0.post1 = 1.0-1",
        "1.0.post1 = 1.0post1",
        "1.0.post1 = 1.0.rev1",
        "1.0.post1 = 1.0-r1",
        "1.0.post0 = 1.0.post",
        "1.0.dev0 = 1.0-dev",
        "1.0.dev1 = 1.0DEV1",
        "1.0 = v1.0",
        "1.0 = V1.0",
        "1.0 = \t1.0 ",
        "01.02 = 1.2",
        "1.0+abc.1 = 1.0+ABC_1");
  }

  @Test
  void validity() {
    for (String bad : List.of("", "abc", "1.0.", ".1", "1.0+", "1.0+a..b", "1.0-", "1..0", "1.0ab1", "1.0-post1-",
        "1!", "!1", "1.0+ä", "1.0 1")) {
      assertFalse(cmp.valid(bad), bad);
    }
    assertTrue(cmp.valid("1!2.3.4a5.post6.dev7+local.8"));
    assertFalse(cmp.valid(null));
  }

  @Test
  void invalidVersionsSortAfterValidOnes() {
    Vectors.assertAscending(cmp, List.of("1.0", "9!9", "", "abc", "abd"));
    assertEquals(1, cmp.compare("not a version", "1.0"));
  }
}
