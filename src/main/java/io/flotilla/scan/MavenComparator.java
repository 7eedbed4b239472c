package io.flotilla.scan;

import org.apache.maven.artifact.versioning.ComparableVersion;

/**
 * Maven artifact version ordering, delegated to Maven's own {@link ComparableVersion}
 * (maven-artifact 3.9.x), so it matches what Maven resolves: {@code 1-alpha < 1-beta < 1-milestone <
 * 1-rc = 1-cr < 1-snapshot < 1 = 1.0 = 1-ga = 1-final < 1-sp < 1.1}, unknown qualifiers after the
 * known ones in string order, trailing zeros and separators normalized.
 *
 * <p>{@code ComparableVersion} accepts any string; valid here means non-empty, at most 256
 * characters, with no whitespace or control characters.
 */
public final class MavenComparator extends ParsingComparator<ComparableVersion> {

  @Override
  ComparableVersion parse(String v) {
    if (v.isEmpty() || v.length() > 256) {
      return null;
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c)) {
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
