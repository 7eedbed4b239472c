package io.flotilla.scan;

/**
 * The shared shape of the comparators: parse each side into a key ({@code null} when invalid), order
 * valid keys by the ecosystem's rules and everything else by the documented fallback of
 * {@link VersionComparator}.
 */
abstract class ParsingComparator<K> implements VersionComparator {

  /** The parsed key of {@code version}, or {@code null} if it is not a valid version. Never throws. */
  abstract K parse(String version);

  /** The ecosystem's ordering of two valid keys. */
  abstract int compareKeys(K a, K b);

  @Override
  public final boolean valid(String version) {
    return version != null && parse(version) != null;
  }

  @Override
  public final int compare(String a, String b) {
    K ka = a == null ? null : parse(a);
    K kb = b == null ? null : parse(b);
    if (ka != null && kb != null) {
      return Integer.signum(compareKeys(ka, kb));
    }
    return fallback(a, ka != null, b, kb != null);
  }

  /** Valid before invalid, invalid by {@link String#compareTo}, {@code null} last. */
  static int fallback(String a, boolean aValid, String b, boolean bValid) {
    if (aValid != bValid) {
      return aValid ? -1 : 1;
    }
    if (a == null || b == null) {
      return a == b ? 0 : a == null ? 1 : -1;
    }
    return Integer.signum(a.compareTo(b));
  }

  static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  /**
   * Compares two runs of ASCII digits as unbounded non-negative integers: leading zeros are ignored
   * and an empty run counts as zero.
   */
  static int compareDigitRuns(String a, String b) {
    String x = stripZeros(a);
    String y = stripZeros(b);
    if (x.length() != y.length()) {
      return x.length() < y.length() ? -1 : 1;
    }
    return Integer.signum(x.compareTo(y));
  }

  private static String stripZeros(String s) {
    int i = 0;
    while (i < s.length() && s.charAt(i) == '0') {
      i++;
    }
    return s.substring(i);
  }
}
