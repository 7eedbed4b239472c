package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/** Helpers for table tests: "a OP b" lines and strictly ascending chains. */
final class Vectors {
  private Vectors() {}

  /** Checks each "a OP b" line (OP one of {@code < = >}) in both directions. */
  static void assertPairs(VersionComparator cmp, String... lines) {
    for (String line : lines) {
      String[] p = line.trim().split("\\s+");
      int expected = switch (p[1]) {
        case "<" -> -1;
        case "=" -> 0;
        case ">" -> 1;
        default -> throw new IllegalArgumentException(line);
      };
      assertEquals(expected, Integer.signum(cmp.compare(p[0], p[2])), line);
      assertEquals(-expected, Integer.signum(cmp.compare(p[2], p[0])), "reversed: " + line);
    }
  }

  /** Checks that every element of {@code ascending} is below every later one. */
  static void assertAscending(VersionComparator cmp, List<String> ascending) {
    for (int i = 0; i < ascending.size(); i++) {
      for (int j = i + 1; j < ascending.size(); j++) {
        String a = ascending.get(i);
        String b = ascending.get(j);
        assertTrue(cmp.compare(a, b) < 0, a + " < " + b);
        assertTrue(cmp.compare(b, a) > 0, b + " > " + a);
      }
    }
  }

  static void assertAllValid(VersionComparator cmp, List<String> versions) {
    for (String v : versions) {
      assertTrue(cmp.valid(v), "valid: " + v);
    }
  }
}
