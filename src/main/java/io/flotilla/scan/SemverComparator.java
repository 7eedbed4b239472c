package io.flotilla.scan;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Semantic Versioning 2.0.0 precedence (semver.org §11), for npm, Go modules and OSV {@code SEMVER}
 * ranges.
 *
 * <p>{@code MAJOR.MINOR.PATCH[-prerelease][+build]} with an optional leading {@code v} (Go module
 * versions carry it, OSV values do not). Numbers compare numerically; a version with a pre-release
 * is lower than the same version without; pre-release identifiers compare one by one, numeric ones
 * numerically and below alphanumeric ones, which compare in ASCII order, and more identifiers win
 * when all before are equal. Build metadata is ignored ({@code 1.0.0+a == 1.0.0+b}), which also
 * covers Go's {@code +incompatible}. Go pseudo-versions ({@code v0.0.0-20191109021931-daa7c04131f5},
 * {@code v1.2.4-0.20191109021931-daa7c04131f5}) are pre-releases and compare as such.
 *
 * <p>Valid means the semver.org grammar exactly: no leading zeros in numbers, non-empty identifiers
 * of {@code [0-9A-Za-z-]}.
 */
public final class SemverComparator extends ParsingComparator<SemverComparator.Key> {

  // Possessive quantifiers, alphanumeric identifiers tried first: linear on long pseudo-version ids.
  private static final String NUM = "0|[1-9][0-9]*+";
  private static final String PRE_ID = "(?:[0-9]*+[A-Za-z-][0-9A-Za-z-]*+|" + NUM + ")";
  private static final Pattern SEMVER = Pattern.compile(
      "v?(" + NUM + ")\\.(" + NUM + ")\\.(" + NUM + ")"
          + "(?:-(" + PRE_ID + "(?:\\." + PRE_ID + ")*))?"
          + "(?:\\+[0-9A-Za-z-]++(?:\\.[0-9A-Za-z-]++)*+)?");

  /** Major, minor, patch as digit strings; pre-release identifiers (empty for a release). */
  record Key(String major, String minor, String patch, String[] pre) {}

  @Override
  Key parse(String v) {
    if (v.length() > 256) {
      return null;
    }
    Matcher m = SEMVER.matcher(v);
    if (!m.matches()) {
      return null;
    }
    String[] pre = m.group(4) == null ? new String[0] : m.group(4).split("\\.");
    return new Key(m.group(1), m.group(2), m.group(3), pre);
  }

  @Override
  int compareKeys(Key a, Key b) {
    int c = compareDigitRuns(a.major(), b.major());
    if (c == 0) {
      c = compareDigitRuns(a.minor(), b.minor());
    }
    if (c == 0) {
      c = compareDigitRuns(a.patch(), b.patch());
    }
    if (c != 0) {
      return c;
    }
    String[] x = a.pre();
    String[] y = b.pre();
    if (x.length == 0 || y.length == 0) {
      return x.length == y.length ? 0 : x.length == 0 ? 1 : -1; // a release is above its pre-releases
    }
    for (int i = 0; i < Math.min(x.length, y.length); i++) {
      c = compareIdentifier(x[i], y[i]);
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.length, y.length);
  }

  private static int compareIdentifier(String a, String b) {
    boolean an = a.chars().allMatch(ch -> isDigit((char) ch));
    boolean bn = b.chars().allMatch(ch -> isDigit((char) ch));
    if (an && bn) {
      return compareDigitRuns(a, b);
    }
    if (an != bn) {
      return an ? -1 : 1;
    }
    return a.compareTo(b);
  }
}
