package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApkComparatorTest {
  private final ApkComparator cmp = new ApkComparator();

  /** Pairs from apk-tools' test/version.data (v2.14), which apk itself passes. */
  @Test
  void apkToolsVersionData() {
    Vectors.assertPairs(cmp,
        "2.34 > 0.1.0_alpha",
        "23_foo > 4_beta",
        "1.0 < 1.0bc",
        "0.1.0_alpha = 0.1.0_alpha",
        "0.1.0_alpha < 0.1.3_alpha",
        "0.1.0_alpha2 > 0.1.0_alpha",
        "0.1.0_alpha < 2.2.39-r1",
        "1.0.4-r3 < 1.0.4-r4",
        "1.0.4-r4 < 1.6",
        "1.6 > 1.0.2",
        "1.0.2 > 0.7-r1",
        "0.7-r1 < 1.0.0",
        "1.1 > 1.1_alpha1",
        "1.1_alpha1 < 1.2.1",
        "1.2.1 > 1.2",
        "1.2 < 1.3_alpha",
        "1.3_alpha < 1.3_alpha2",
        "0.7.0 < 0.8_beta1",
        "0.8_beta1 < 0.8_beta2",
        "3.10.18-r1 > 2.3.0b-r1",
        "2.3.0b-r1 < 2.3.0b-r2",
        "2.3.0b-r4 > 0.12.1",
        "0.2.0-r1 < 3.1_p16",
        "3.1_p16 < 3.1_p17",
        "3.1_p17 > 1.06-r6",
        "1.06-r6 < 006",
        "3.9.8-r5 > 2.01.01_alpha10",
        "2.01.01_alpha10 > 0.94",
        "1.39 > 1.00_beta2",
        "1.00_beta2 > 0.9.2",
        "7.15.1-r1 > 1.02",
        "1.02 < 1.03-r1",
        "4.2.52_p4-r2 > 1.02.07",
        "1.02.07 < 1.02.10-r1",
        "2.18.3-r10 > 1.05-r18",
        "1.05-r18 < 1.05-r19",
        "0.5.2.7 < 4.2.52_p2-r1",
        "4.2.52_p2-r1 < 4.2.52_p4-r2",
        "2.5.1-r8 < 2.5.1a-r1",
        "2.5.1a-r1 > 1.19.2-r1",
        "1.1.7 < 6b-r7",
        "6b-r7 > 1.12-r7",
        "2.0.2 > 1.1a",
        "1.1a < 1.3a",
        "20040401 > 2.0.0_rc3-r1",
        "2.0.0_rc3-r1 > 1.5",
        "0.9.16-r1 < 3.9_pre20060124",
        "3.9_pre20060124 > 0.01",
        "0.01 < 0.06",
        "0.10.0 < 0.10.1_rc1",
        "0.10.1_rc1 > 0.9.11",
        "22.7 > 2.1_pre20",
        "2.1_pre20 < 2.1_pre26",
        "20061003 > 0.1_pre20060810",
        "2.3.30-r2 < 3.7_p1",
        "4.3_p2-r1 < 4.3_p2-r5",
        "4.3_p2-r5 < 4.4_p1-r6",
        "1.0.1 < 1.06-r1",
        "1.06-r1 < 1.06-r2",
        "2.16.1-r3 = 2.16.1-r3");
  }

  @Test
  void suffixOrder() {
    Vectors.assertAscending(cmp, List.of(
        "1.0_alpha", "1.0_alpha1", "1.0_alpha2", "1.0_beta", "1.0_beta1", "1.0_pre1", "1.0_rc1", "1.0_rc2",
        "1.0", "1.0-r1", "1.0-r2", "1.0-r10", "1.0_cvs", "1.0_svn", "1.0_git20230101", "1.0_hg", "1.0_p1",
        "1.0_p2", "1.0a", "1.0b", "1.0.1_rc1", "1.0.1"));
  }

  @Test
  void leadingZerosAndComponentCounts() {
    Vectors.assertPairs(cmp,
        "1.005 < 1.05",
        "1.05 < 1.5",
        "1.00 < 1.0",
        "1.0 > 1.00",
        "1 < 1.0",
        "1.0 < 1.0.0",
        "1.0-r1 < 1.0.0",
        "1.0_p1 < 1.0.0",
        "1.0_rc1 < 1.0.0",
        "1.01 < 1.1",
        "1.10 > 1.9",
        "1.0_alpha_beta < 1.0_alpha", // a further pre-release suffix lowers it
        "1.0_rc1_p2 > 1.0_rc1",
        "1.0_rc1_p2 < 1.0",
        "3.0.13-r0 < 3.0.13-r1",
        "3.1.4-r5 > 3.1.4-r0",
        "1.36.1-r15 < 1.36.1-r29");
  }

  @Test
  void validity() {
    Vectors.assertAllValid(cmp, List.of("1", "1.0", "1.0a", "1.0_rc1", "1.0_alpha_beta2", "1.0-r0", "1.2.3_p4-r5",
        "2.01.01_alpha10", "20240101"));
    for (String bad : List.of("", "1.0bc", "23_foo", "1.0-1", "1.0-s1", "1.0_rc1.2", "1.0-r1.1", "1.a.2", "1.0 ",
        "1.0A", "1234567890123456789")) {
      assertFalse(cmp.valid(bad), bad);
    }
    assertFalse(cmp.valid(null));
  }

  @Test
  void invalidVersionsSortAfterValidOnes() {
    Vectors.assertAscending(cmp, List.of("0.1", "99999", "", "1.0-1", "1.0bc"));
    assertTrue(cmp.compare(null, "1.0bc") > 0);
  }
}
