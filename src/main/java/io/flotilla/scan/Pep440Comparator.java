package io.flotilla.scan;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python package version ordering (PyPI), as PEP 440 and the PyPA "Version specifiers"
 * specification define it: {@code [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]}.
 *
 * <p>Parsing is case-insensitive and accepts the spec's normalizations: surrounding whitespace, a
 * leading {@code v}, {@code -}, {@code _} or {@code .} (or nothing) as separators before and inside
 * the pre, post and dev parts, an omitted number meaning 0, the spellings {@code alpha}, {@code beta},
 * {@code c}, {@code pre}, {@code preview} for {@code a}, {@code b}, {@code rc}, {@code rev}/{@code r}
 * for {@code post}, the implicit post release {@code 1.0-1}, and {@code -}/{@code _} in local
 * versions. So {@code 1.0ALPHA1 == v1.0a1} and {@code 1.0-r == 1.0.post0}.
 *
 * <p>Ordering: epoch; release numbers with trailing zeros ignored ({@code 1.0 == 1.0.0}); then a dev
 * release of a final ({@code 1.0.dev1}) before any pre-release, pre-releases {@code a < b < rc} by
 * number, the release itself; then no post release before post releases by number; then dev
 * releases before the release they precede; then no local part before any local part, whose
 * dot-separated segments compare numerically when all digits, else as lower-case strings, numbers
 * above strings, and a longer local part above its prefix.
 */
public final class Pep440Comparator extends ParsingComparator<Pep440Comparator.Key> {

  // Matched against the stripped, lower-cased input; possessive quantifiers keep it linear.
  private static final Pattern VERSION = Pattern.compile(
      "v?"
          + "(?:(?<epoch>[0-9]++)!)?"
          + "(?<release>[0-9]++(?:\\.[0-9]++)*+)"
          + "(?:[-_.]?(?<pre>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<preN>[0-9]++)?)?"
          + "(?:-(?<postImplicit>[0-9]++)|[-_.]?(?<post>post|rev|r)[-_.]?(?<postN>[0-9]++)?)?"
          + "(?:[-_.]?(?<dev>dev)[-_.]?(?<devN>[0-9]++)?)?"
          + "(?:\\+(?<local>[a-z0-9]++(?:[-_.][a-z0-9]++)*+))?");

  /** Pre-release phase: a, b, rc. */
  private static final int ALPHA = 0;
  private static final int BETA = 1;
  private static final int RC = 2;

  /**
   * A parsed version. {@code pre} is -1 when absent; {@code post}/{@code dev} are null when absent;
   * {@code local} is null when absent, else segments that are BigInteger or lower-case String.
   */
  record Key(BigInteger epoch, List<BigInteger> release, int pre, BigInteger preN, BigInteger post,
             BigInteger dev, List<Object> local) {}

  @Override
  Key parse(String v) {
    if (v.length() > 256) {
      return null;
    }
    Matcher m = VERSION.matcher(v.strip().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return null;
    }
    BigInteger epoch = m.group("epoch") == null ? BigInteger.ZERO : new BigInteger(m.group("epoch"));
    List<BigInteger> release = new ArrayList<>();
    for (String part : m.group("release").split("\\.")) {
      release.add(new BigInteger(part));
    }
    while (release.size() > 1 && release.get(release.size() - 1).signum() == 0) {
      release.remove(release.size() - 1);
    }
    int pre = -1;
    BigInteger preN = null;
    if (m.group("pre") != null) {
      pre = switch (m.group("pre")) {
        case "a", "alpha" -> ALPHA;
        case "b", "beta" -> BETA;
        default -> RC; // rc, c, pre, preview
      };
      preN = number(m.group("preN"));
    }
    BigInteger post = null;
    if (m.group("postImplicit") != null) {
      post = new BigInteger(m.group("postImplicit"));
    } else if (m.group("post") != null) {
      post = number(m.group("postN"));
    }
    BigInteger dev = m.group("dev") == null ? null : number(m.group("devN"));
    List<Object> local = null;
    if (m.group("local") != null) {
      local = new ArrayList<>();
      for (String seg : m.group("local").split("[-_.]")) {
        local.add(seg.chars().allMatch(c -> isDigit((char) c)) ? new BigInteger(seg) : seg);
      }
    }
    return new Key(epoch, List.copyOf(release), pre, preN, post, dev, local == null ? null : List.copyOf(local));
  }

  private static BigInteger number(String digits) {
    return digits == null ? BigInteger.ZERO : new BigInteger(digits);
  }

  @Override
  int compareKeys(Key a, Key b) {
    int c = a.epoch().compareTo(b.epoch());
    if (c != 0) {
      return c;
    }
    c = compareRelease(a.release(), b.release());
    if (c != 0) {
      return c;
    }
    c = Integer.compare(preRank(a), preRank(b));
    if (c == 0 && a.pre() >= 0) {
      c = a.preN().compareTo(b.preN());
    }
    if (c != 0) {
      return c;
    }
    c = compareAbsentFirst(a.post(), b.post());
    if (c != 0) {
      return c;
    }
    c = compareAbsentLast(a.dev(), b.dev());
    if (c != 0) {
      return c;
    }
    return compareLocal(a.local(), b.local());
  }

  /** Rank of the pre-release position: a bare dev release first, then a, b, rc, then none. */
  private static int preRank(Key k) {
    if (k.pre() >= 0) {
      return k.pre();
    }
    return k.post() == null && k.dev() != null ? -1 : 3;
  }

  private static int compareRelease(List<BigInteger> a, List<BigInteger> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      int c = a.get(i).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }

  private static int compareAbsentFirst(BigInteger a, BigInteger b) {
    if (a == null || b == null) {
      return a == b ? 0 : a == null ? -1 : 1;
    }
    return a.compareTo(b);
  }

  private static int compareAbsentLast(BigInteger a, BigInteger b) {
    if (a == null || b == null) {
      return a == b ? 0 : a == null ? 1 : -1;
    }
    return a.compareTo(b);
  }

  private static int compareLocal(List<Object> a, List<Object> b) {
    if (a == null || b == null) {
      return a == b ? 0 : a == null ? -1 : 1;
    }
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      Object x = a.get(i);
      Object y = b.get(i);
      int c;
      if (x instanceof BigInteger bx && y instanceof BigInteger by) {
        c = bx.compareTo(by);
      } else if (x instanceof String sx && y instanceof String sy) {
        c = sx.compareTo(sy);
      } else {
        c = x instanceof BigInteger ? 1 : -1; // numbers above strings
      }
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
