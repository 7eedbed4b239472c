package io.flotilla.scan;

import java.util.Locale;

/**
 * How bad a vulnerability is, in zot's words: the names are the strings zot's API returns, declared
 * from least to most severe so that {@link #compareTo} orders them. {@link #NONE} is only ever a
 * summary's {@code MaxSeverity} of a clean image, never a finding's severity.
 */
public enum Severity {
  NONE, UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL;

  /**
   * The severity named by a vendor or a database: zot's names in any case, and GitHub's
   * {@code MODERATE}; anything else (including {@code null}) is {@link #UNKNOWN}.
   */
  public static Severity parse(String text) {
    if (text == null) {
      return UNKNOWN;
    }
    switch (text.trim().toUpperCase(Locale.ROOT)) {
      case "CRITICAL": return CRITICAL;
      case "HIGH": case "IMPORTANT": return HIGH;
      case "MEDIUM": case "MODERATE": return MEDIUM;
      case "LOW": case "NEGLIGIBLE": return LOW;
      default: return UNKNOWN;
    }
  }

  /** The severity a CVSS base score stands for (CVSS v3.1 specification, section 5 qualitative ratings). */
  public static Severity ofScore(double score) {
    if (score >= 9.0) {
      return CRITICAL;
    }
    if (score >= 7.0) {
      return HIGH;
    }
    if (score >= 4.0) {
      return MEDIUM;
    }
    if (score > 0.0) {
      return LOW;
    }
    return UNKNOWN;
  }
}
