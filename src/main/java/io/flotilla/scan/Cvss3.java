package io.flotilla.scan;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The CVSS v3.x base score of a vector string, as the CVSS v3.1 specification (FIRST, section 7.1
 * equations and Appendix A {@code Roundup}) defines it. OSV records carry CVSS vectors in
 * {@code severity[]}; this turns them into the score {@link Severity#ofScore} bands. Pure functions;
 * thread-safe.
 *
 * <p>Accepts {@code CVSS:3.0/...} and {@code CVSS:3.1/...} vectors with the eight base metrics each
 * exactly once, in any order, optionally followed by temporal and environmental metrics (which a
 * base score ignores). Both versions are scored with the same equations and the v3.1 {@code Roundup},
 * which differs from v3.0's plain round-up only where floating-point noise would add 0.1.
 * Anything else (a v2 or v4 vector, a missing or repeated metric, an unknown value) has no score.
 */
public final class Cvss3 {
  private static final Set<String> BASE = Set.of("AV", "AC", "PR", "UI", "S", "C", "I", "A");
  private static final Set<String> OPTIONAL = Set.of("E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR",
      "MUI", "MS", "MC", "MI", "MA");

  private Cvss3() {}

  /** The base score (0.0 to 10.0, one decimal) of {@code vector}, or empty if it is not a valid v3.x vector. */
  public static OptionalDouble baseScore(String vector) {
    if (vector == null || !(vector.startsWith("CVSS:3.0/") || vector.startsWith("CVSS:3.1/"))) {
      return OptionalDouble.empty();
    }
    Map<String, String> m = new HashMap<>();
    for (String part : vector.substring("CVSS:3.x/".length()).split("/", -1)) {
      int colon = part.indexOf(':');
      if (colon <= 0 || colon == part.length() - 1) {
        return OptionalDouble.empty();
      }
      String key = part.substring(0, colon);
      if (!BASE.contains(key) && !OPTIONAL.contains(key) || m.put(key, part.substring(colon + 1)) != null) {
        return OptionalDouble.empty();
      }
    }
    if (!m.keySet().containsAll(BASE)) {
      return OptionalDouble.empty();
    }
    String scope = m.get("S");
    if (!scope.equals("U") && !scope.equals("C")) {
      return OptionalDouble.empty();
    }
    boolean changed = scope.equals("C");
    double av = switch (m.get("AV")) {
      case "N" -> 0.85;
      case "A" -> 0.62;
      case "L" -> 0.55;
      case "P" -> 0.2;
      default -> Double.NaN;
    };
    double ac = switch (m.get("AC")) {
      case "L" -> 0.77;
      case "H" -> 0.44;
      default -> Double.NaN;
    };
    double pr = switch (m.get("PR")) {
      case "N" -> 0.85;
      case "L" -> changed ? 0.68 : 0.62;
      case "H" -> changed ? 0.5 : 0.27;
      default -> Double.NaN;
    };
    double ui = switch (m.get("UI")) {
      case "N" -> 0.85;
      case "R" -> 0.62;
      default -> Double.NaN;
    };
    double c = cia(m.get("C"));
    double i = cia(m.get("I"));
    double a = cia(m.get("A"));
    double all = av + ac + pr + ui + c + i + a;
    if (Double.isNaN(all)) {
      return OptionalDouble.empty();
    }
    double iss = 1 - (1 - c) * (1 - i) * (1 - a);
    double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
    double exploitability = 8.22 * av * ac * pr * ui;
    if (impact <= 0) {
      return OptionalDouble.of(0.0);
    }
    double raw = changed ? 1.08 * (impact + exploitability) : impact + exploitability;
    return OptionalDouble.of(roundup(Math.min(raw, 10)));
  }

  /**
   * The smallest number with one decimal that is at least {@code x}, computed as Appendix A of the
   * v3.1 specification prescribes so that floating-point noise ({@code 4.000000000000001}) does not
   * round up.
   */
  static double roundup(double x) {
    long scaled = Math.round(x * 100_000);
    if (scaled % 10_000 == 0) {
      return scaled / 100_000.0;
    }
    return (Math.floorDiv(scaled, 10_000) + 1) / 10.0;
  }

  private static double cia(String v) {
    return switch (v) {
      case "H" -> 0.56;
      case "L" -> 0.22;
      case "N" -> 0.0;
      default -> Double.NaN;
    };
  }
}
