package io.flotilla.scan;

/**
 * dpkg's version ordering, for Debian and Ubuntu packages (Debian Policy §5.6.12, deb-version(7)).
 *
 * <p>A version is {@code [epoch:]upstream[-revision]}: split at the first {@code :} and the last
 * {@code -}. The epoch compares as a number (absent = 0), then the upstream part, then the revision
 * (absent = empty, which equals {@code 0}). Each part compares left to right in alternating runs: a
 * run of non-digits character by character, where {@code ~} sorts before everything including the end
 * of the part, the end before letters, letters (ASCII order) before all other characters; then a
 * run of digits as a number. So {@code 1.0~rc1 < 1.0 < 1.0a < 1.0+b1 < 1.0.1}.
 *
 * <p>Valid means what dpkg accepts without a warning: a numeric epoch within {@code int}, an upstream
 * part that starts with a digit and holds only letters, digits and {@code . + ~ - :}, a non-empty
 * revision of letters, digits and {@code . + ~}; no spaces.
 */
public final class DebianComparator extends ParsingComparator<DebianComparator.Key> {

  record Key(long epoch, String upstream, String revision) {}

  @Override
  Key parse(String v) {
    int colon = v.indexOf(':');
    long epoch = 0;
    if (colon >= 0) {
      String e = v.substring(0, colon);
      if (e.isEmpty() || e.length() > 10 || !e.chars().allMatch(c -> isDigit((char) c))) {
        return null;
      }
      epoch = Long.parseLong(e);
      if (epoch > Integer.MAX_VALUE) {
        return null;
      }
    }
    String rest = v.substring(colon + 1);
    int dash = rest.lastIndexOf('-');
    String upstream = dash >= 0 ? rest.substring(0, dash) : rest;
    String revision = dash >= 0 ? rest.substring(dash + 1) : "";
    if (upstream.isEmpty() || !isDigit(upstream.charAt(0)) || (dash >= 0 && revision.isEmpty())) {
      return null;
    }
    if (!allowed(upstream, ".+~-:") || !allowed(revision, ".+~")) {
      return null;
    }
    return new Key(epoch, upstream, revision);
  }

  private static boolean allowed(String s, String punctuation) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!isDigit(c) && !isAsciiLetter(c) && punctuation.indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  int compareKeys(Key a, Key b) {
    int c = Long.compare(a.epoch(), b.epoch());
    if (c == 0) {
      c = comparePart(a.upstream(), b.upstream());
    }
    if (c == 0) {
      c = comparePart(a.revision(), b.revision());
    }
    return c;
  }

  /** dpkg's comparison of one part (upstream or revision); works on any characters. */
  static int comparePart(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() || j < b.length()) {
      // Non-digit run: position by position until both sides reach a digit (or their end).
      while ((i < a.length() && !isDigit(a.charAt(i))) || (j < b.length() && !isDigit(b.charAt(j)))) {
        int wa = weight(a, i);
        int wb = weight(b, j);
        if (wa != wb) {
          return wa < wb ? -1 : 1;
        }
        i++;
        j++;
      }
      int ei = i;
      while (ei < a.length() && isDigit(a.charAt(ei))) {
        ei++;
      }
      int ej = j;
      while (ej < b.length() && isDigit(b.charAt(ej))) {
        ej++;
      }
      int c = compareDigitRuns(a.substring(i, ei), b.substring(j, ej));
      if (c != 0) {
        return c;
      }
      i = ei;
      j = ej;
    }
    return 0;
  }

  /**
   * The sort weight of the character at {@code i}: {@code ~} lowest, then the end of the string or a
   * digit (0), then letters, then everything else.
   */
  private static int weight(String s, int i) {
    if (i >= s.length()) {
      return 0;
    }
    char c = s.charAt(i);
    if (isDigit(c)) {
      return 0;
    }
    if (c == '~') {
      return -1;
    }
    return isAsciiLetter(c) ? c : c + 256;
  }
}
