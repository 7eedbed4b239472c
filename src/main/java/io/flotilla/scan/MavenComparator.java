package io.flotilla.scan;

import org.apache.maven.artifact.versioning.ComparableVersion;

/**
 * Maven artifact version ordering, delegated to Maven's own {@link ComparableVersion}
 * (maven-artifact 3.9.x), so it matches what Maven resolves: {@code 1-alpha < 1-beta < 1-milestone <
 * 1-rc = 1-cr < 1-snapshot < 1 = 1.0 = 1-ga = 1-final < 1-sp < 1.1}, unknown qualifiers after the
 * known ones in string order, trailing zeros and separators normalized.
 *
 * <p>{@code ComparableVersion} accepts any string, but it is not transitive on odd ones (for example
 * {@code 0.0}, {@code +y+}, {@code 0RC2}); valid here means at most 256 characters, starting with a
 * digit, of ASCII letters, digits and {@code . - _ +} only, where the property tests find it a total
 * order.
 */
public final class MavenComparator extends ParsingComparator<ComparableVersion> {

  @Override
  ComparableVersion parse(String v) {
    if (v.isEmpty() || v.length() > 256) {
      return null;
    }
    if (!isDigit(v.charAt(0))) {
      return null;
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (!isDigit(c) && !isAsciiLetter(c) && ".-_+".indexOf(c) < 0) {
        return null;
      }
    }
    try {
      return new ComparableVersion(v);
    } catch (RuntimeException e) {
      return null; // ComparableVersion does not throw on strings; kept so a future release cannot crash a scan
    }
  }

  @Override
  int compareKeys(ComparableVersion a, ComparableVersion b) {
    return a.compareTo(b);
  }
}
