package io.flotilla.scan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Decides whether a package version is affected by one OSV {@code affected[]} entry, and which
 * version fixes it. Pure functions; thread-safe.
 *
 * <p>Follows the "Evaluation" section of the OSV schema (ossf/osv-schema {@code docs/schema.md},
 * version 1.7.5, pseudocode {@code IsVulnerable}/{@code IncludedInVersions}/{@code IncludedInRanges}/
 * {@code BeforeLimits}), together with its "Special values" and "Requirements" sections:
 * <ul>
 *   <li>a version is affected if it equals (as a string) an entry of {@code versions}, or if some
 *       range includes it;</li>
 *   <li>a range includes {@code v} if {@code v} is below one of its {@code limit} events (a limit
 *       containing {@code *} is infinity; no limit event means an implicit {@code *}), and walking
 *       its events sorted by version, starting unaffected, {@code introduced <= v} sets affected,
 *       {@code fixed <= v} clears it and {@code last_affected < v} clears it, the last one to apply
 *       deciding;</li>
 *   <li>{@code introduced: "0"} sorts before every version.</li>
 * </ul>
 * Events with equal versions sort {@code introduced} first, so {@code introduced X, fixed X} affects
 * nothing and {@code introduced X, last_affected X} affects exactly X. {@code ECOSYSTEM} ranges use
 * the ecosystem's comparator, {@code SEMVER} ranges SemVer 2.0.0 precedence.
 *
 * <p>Where the schema gives no answer this class does not guess: a {@code GIT} range, a range with
 * an event version that the comparator rejects, or any range when the queried version itself is
 * invalid, is skipped (counted in {@link Verdict#skippedRanges}); the {@code versions} list still
 * applies.
 */
public final class AffectedRanges {

  /**
   * The answer for one version: whether it is affected, the lowest version above it named by a
   * {@code fixed} event that is itself not affected (empty if none: no fix, only {@code
   * last_affected}, or unaffected), and how many ranges could not be evaluated.
   */
  public record Verdict(boolean affected, Optional<String> fixed, int skippedRanges) {}

  private AffectedRanges() {}

  /** Evaluates {@code version} of a package of {@code ecosystem} against one OSV affected entry. */
  public static Verdict evaluate(Ecosystem ecosystem, OsvAffected affected, String version) {
    return evaluate(ecosystem.comparator(), Ecosystem.semver(), affected, version);
  }

  /**
   * {@link #evaluate(Ecosystem, OsvAffected, String)} with the orderings given: {@code ecosystem} for
   * {@code ECOSYSTEM} ranges, {@code semver} for {@code SEMVER} ranges. They must order exactly as the
   * ecosystem's comparator and {@link Ecosystem#semver()} do; {@link VulnDb} passes the same orderings
   * with parsed versions memoised.
   */
  static Verdict evaluate(VersionComparator ecosystem, VersionComparator semver, OsvAffected affected,
      String version) {
    int skipped = 0;
    boolean hit = version != null && affected.versions().contains(version);
    List<String> fixes = new ArrayList<>();
    for (OsvRange range : affected.ranges()) {
      VersionComparator cmp = comparator(ecosystem, semver, range.type());
      if (cmp == null || version == null || !evaluable(range, cmp, version)) {
        skipped++;
        continue;
      }
      hit |= includes(range, cmp, version);
      for (OsvRange.Event e : range.events()) {
        if (e.kind() == OsvRange.Kind.FIXED && cmp.compare(version, e.version()) < 0) {
          fixes.add(e.version());
        }
      }
    }
    if (!hit) {
      return new Verdict(false, Optional.empty(), skipped);
    }
    fixes.sort(ecosystem);
    for (String fix : fixes) {
      if (!isAffected(ecosystem, semver, affected, fix)) {
        return new Verdict(true, Optional.of(fix), skipped);
      }
    }
    return new Verdict(true, Optional.empty(), skipped);
  }

  /** Whether {@code version} is affected (the {@link Verdict#affected} of {@link #evaluate}). */
  public static boolean isAffected(Ecosystem ecosystem, OsvAffected affected, String version) {
    return isAffected(ecosystem.comparator(), Ecosystem.semver(), affected, version);
  }

  private static boolean isAffected(VersionComparator ecosystem, VersionComparator semver, OsvAffected affected,
      String version) {
    if (version == null) {
      return false;
    }
    if (affected.versions().contains(version)) {
      return true;
    }
    for (OsvRange range : affected.ranges()) {
      VersionComparator cmp = comparator(ecosystem, semver, range.type());
      if (cmp != null && evaluable(range, cmp, version) && includes(range, cmp, version)) {
        return true;
      }
    }
    return false;
  }

  /** The schema's {@code IncludedInRanges} for one range; the range must be {@link #evaluable}. */
  static boolean includes(OsvRange range, VersionComparator cmp, String v) {
    if (!beforeLimits(range, cmp, v)) {
      return false;
    }
    List<OsvRange.Event> sorted = new ArrayList<>(range.events());
    sorted.sort(eventOrder(cmp));
    boolean vulnerable = false;
    for (OsvRange.Event e : sorted) {
      switch (e.kind()) {
        case INTRODUCED -> {
          if (isZero(e) || cmp.compare(v, e.version()) >= 0) {
            vulnerable = true;
          }
        }
        case FIXED -> {
          if (cmp.compare(v, e.version()) >= 0) {
            vulnerable = false;
          }
        }
        case LAST_AFFECTED -> {
          if (cmp.compare(v, e.version()) > 0) {
            vulnerable = false;
          }
        }
        case LIMIT -> { }
      }
    }
    return vulnerable;
  }

  private static boolean beforeLimits(OsvRange range, VersionComparator cmp, String v) {
    boolean anyLimit = false;
    for (OsvRange.Event e : range.events()) {
      if (e.kind() == OsvRange.Kind.LIMIT) {
        anyLimit = true;
        if (isInfinity(e) || cmp.compare(v, e.version()) < 0) {
          return true;
        }
      }
    }
    return !anyLimit;
  }

  /** By version ({@code introduced: "0"} first, a {@code *} limit last), ties: introduced first. */
  private static Comparator<OsvRange.Event> eventOrder(VersionComparator cmp) {
    return (a, b) -> {
      int c;
      if (isZero(a) || isZero(b) || isInfinity(a) || isInfinity(b)) {
        c = Integer.compare(rank(a), rank(b));
      } else {
        c = cmp.compare(a.version(), b.version());
      }
      return c != 0 ? c : Integer.compare(a.kind().ordinal(), b.kind().ordinal());
    };
  }

  private static int rank(OsvRange.Event e) {
    return isZero(e) ? -1 : isInfinity(e) ? 1 : 0;
  }

  private static boolean evaluable(OsvRange range, VersionComparator cmp, String v) {
    if (!cmp.valid(v)) {
      return false;
    }
    for (OsvRange.Event e : range.events()) {
      if (!isZero(e) && !isInfinity(e) && !cmp.valid(e.version())) {
        return false;
      }
    }
    return true;
  }

  private static boolean isZero(OsvRange.Event e) {
    return e.kind() == OsvRange.Kind.INTRODUCED && e.version().equals("0");
  }

  private static boolean isInfinity(OsvRange.Event e) {
    return e.kind() == OsvRange.Kind.LIMIT && e.version().contains("*");
  }

  private static VersionComparator comparator(VersionComparator ecosystem, VersionComparator semver,
      OsvRange.Type type) {
    return switch (type) {
      case ECOSYSTEM -> ecosystem;
      case SEMVER -> semver;
      case GIT -> null;
    };
  }
}
