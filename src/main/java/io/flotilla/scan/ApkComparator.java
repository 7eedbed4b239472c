package io.flotilla.scan;

/**
 * Alpine's apk version ordering, with the semantics of apk-tools 2.x {@code src/version.c} (the
 * Gentoo-style scheme {@code digit{.digit}...[letter]{_suffix[number]}...[-rN]}).
 *
 * <p>A version is read as a stream of tokens, each with a kind and an integer value: digit runs
 * (their number), one lower-case letter after the digits (its character code), suffixes
 * ({@code _alpha=-4 < _beta < _pre < _rc=-1} before the bare version, {@code _cvs=0 < _svn < _git <
 * _hg < _p=4} after it), a suffix's number, and the {@code -rN} revision. A digit run after a dot
 * that starts with {@code 0} is read as two tokens, minus the count of its extra leading zeros and
 * then the rest, so {@code 1.005 < 1.05 < 1.5} and {@code 1.00 < 1.0}. Two versions compare token by
 * token; where one ends or changes kind first, the shorter one is greater only if the other goes on
 * with a pre-release suffix, and otherwise the kind order decides (digit, letter, suffix, suffix
 * number, revision, end) with the later kind being the smaller version: {@code 1 < 1.0},
 * {@code 1.0 < 1.0-r1}, {@code 1.0_rc1 < 1.0 < 1.0_p1}.
 *
 * <p>Valid means what apk accepts ({@code apk version --check}): the token stream reaches its end
 * with every transition allowed; in addition the empty string is invalid here. A digit run of 18 or
 * more digits is invalid, as in apk-tools.
 */
public final class ApkComparator extends ParsingComparator<String> {

  // Token kinds, in apk's order: a later kind at the same position makes the version smaller.
  private static final int INVALID = -1;
  private static final int DIGIT_OR_ZERO = 0;
  private static final int DIGIT = 1;
  private static final int LETTER = 2;
  private static final int SUFFIX = 3;
  private static final int SUFFIX_NO = 4;
  private static final int REVISION_NO = 5;
  private static final int END = 6;

  private static final String[] PRE = {"alpha", "beta", "pre", "rc"};
  private static final String[] POST = {"cvs", "svn", "git", "hg", "p"};

  @Override
  String parse(String v) {
    if (v.isEmpty()) {
      return null;
    }
    Tokens t = new Tokens(v);
    while (t.kind != END && t.kind != INVALID) {
      t.read();
    }
    return t.kind == END ? v : null;
  }

  @Override
  int compareKeys(String a, String b) {
    Tokens x = new Tokens(a);
    Tokens y = new Tokens(b);
    long xv = 0;
    long yv = 0;
    while (x.kind == y.kind && x.kind != END && x.kind != INVALID && xv == yv) {
      xv = x.read();
      yv = y.read();
    }
    if (xv != yv) {
      return xv < yv ? -1 : 1;
    }
    if (x.kind == y.kind) {
      return 0;
    }
    // Same tokens so far; one side goes on (or ends) differently.
    int xk = x.kind;
    int yk = y.kind;
    if (xk == SUFFIX && x.read() < 0) {
      return -1; // x continues with a pre-release suffix
    }
    if (yk == SUFFIX && y.read() < 0) {
      return 1;
    }
    return Integer.compare(yk, xk);
  }

  /** A cursor over one version: {@code kind} is the kind of the token that {@link #read} returns next. */
  private static final class Tokens {
    private final String s;
    private int pos;
    private int kind = DIGIT;

    Tokens(String s) {
      this.s = s;
    }

    private int remaining() {
      return s.length() - pos;
    }

    /** The value of the current token; moves to the next and sets its kind. */
    long read() {
      if (remaining() <= 0) {
        kind = END;
        return 0;
      }
      int len = 0;
      long value = 0;
      int forced = INVALID;
      switch (kind) {
        case DIGIT_OR_ZERO:
          if (s.charAt(pos) == '0') {
            // Leading zeros: one token worth minus the number of extra zeros, then the rest as digits.
            while (len + 1 < remaining() && s.charAt(pos + len + 1) == '0') {
              len++;
            }
            value = -len;
            forced = DIGIT;
            break;
          }
          // otherwise a plain digit run
        case DIGIT:
        case SUFFIX_NO:
        case REVISION_NO:
          while (len < remaining() && isDigit(s.charAt(pos + len))) {
            value = value * 10 + (s.charAt(pos + len) - '0');
            len++;
          }
          if (len >= 18) {
            kind = INVALID;
            return -1;
          }
          break;
        case LETTER:
          value = s.charAt(pos);
          len = 1;
          break;
        case SUFFIX:
          int pre = startsWithAny(PRE);
          if (pre >= 0) {
            value = pre - PRE.length;
            len = PRE[pre].length();
            break;
          }
          int post = startsWithAny(POST);
          if (post >= 0) {
            value = post;
            len = POST[post].length();
            break;
          }
          kind = INVALID;
          return -1;
        default:
          kind = INVALID;
          return -1;
      }
      pos += len;
      if (remaining() == 0) {
        kind = END;
      } else if (forced != INVALID) {
        kind = forced;
      } else {
        advanceSeparator();
      }
      return value;
    }

    private int startsWithAny(String[] words) {
      for (int i = 0; i < words.length; i++) {
        if (s.startsWith(words[i], pos)) {
          return i;
        }
      }
      return -1;
    }

    /** Decides the next token's kind from what follows, consuming a separator if there is one. */
    private void advanceSeparator() {
      char c = s.charAt(pos);
      int next;
      if ((kind == DIGIT || kind == DIGIT_OR_ZERO) && c >= 'a' && c <= 'z') {
        next = LETTER;
      } else if (kind == LETTER && isDigit(c)) {
        next = DIGIT;
      } else if (kind == SUFFIX && isDigit(c)) {
        next = SUFFIX_NO;
      } else {
        next = INVALID;
        if (c == '.') {
          next = DIGIT_OR_ZERO;
        } else if (c == '_') {
          next = SUFFIX;
        } else if (c == '-' && remaining() > 1 && s.charAt(pos + 1) == 'r') {
          next = REVISION_NO;
          pos++;
        }
        pos++;
      }
      // Kinds only move forward, except a new dot component after digits, a new suffix after a
      // suffix number, and digits after a letter.
      if (next < kind
          && !(next == DIGIT_OR_ZERO && kind == DIGIT)
          && !(next == SUFFIX && kind == SUFFIX_NO)
          && !(next == DIGIT && kind == LETTER)) {
        next = INVALID;
      }
      kind = next;
    }
  }
}
