package io.flotilla.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Vulnerability scanning: where the database artifact is, how many scans run at once, how long a scan
 * asked for by a query may take, and which repositories refuse pulls of vulnerable images.
 *
 * @param enabled when false nothing is scanned and every CVE query answers {@code cve search is disabled}
 * @param database the reference of the database artifact in this registry ({@code repository:tag}); its
 *     repository is reserved for it (never scanned)
 * @param workers scans that run at once on this node
 * @param deadline how long a query waits for a scan of an unscanned image
 * @param policies refuse pulls of images with findings at or above a severity, per repository glob (first match wins)
 */
public record ScanConfig(boolean enabled, String database, int workers, Duration deadline, List<Policy> policies) {
  /** Severities a policy may name (zot's names). */
  public static final Set<String> SEVERITIES = Set.of("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL");
  private static final Pattern REFERENCE = Pattern.compile("[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

  /** On, database {@code vulndb/osv:latest}, half the cores (at least one), 4 s (below the 5 s of a search call on the bus), no policies. */
  public static final ScanConfig DEFAULT = new ScanConfig(true, "vulndb/osv:latest",
      Math.max(1, Runtime.getRuntime().availableProcessors() / 2), Duration.ofSeconds(4), List.of());

  /**
   * Refuse pulls of images in repositories matching {@code repositories} (a glob: {@code *} within a
   * path segment, {@code **} across) whose worst finding is at or above {@code severity}.
   */
  public record Policy(String repositories, String severity) {
    public Policy {
      Objects.requireNonNull(repositories, "repositories");
      severity = severity == null ? "" : severity.toUpperCase(Locale.ROOT);
      if (!SEVERITIES.contains(severity)) {
        throw new ConfigException("scan.policies", "severity must be one of " + SEVERITIES + ", was '" + severity + "'");
      }
    }
  }

  public ScanConfig {
    database = database == null ? "" : database.trim();
    if (enabled && !REFERENCE.matcher(database).matches()) {
      throw new ConfigException("scan.database", "must be repository:tag, was '" + database + "'");
    }
    if (workers < 1 || workers > 64) {
      throw new ConfigException("scan.workers", "must be 1..64");
    }
    if (deadline == null || deadline.isNegative() || deadline.isZero()) {
      throw new ConfigException("scan.deadline", "must be positive");
    }
    policies = policies == null ? List.of() : List.copyOf(policies);
  }

  /** The database artifact's repository. */
  public String databaseRepository() {
    int colon = database.lastIndexOf(':');
    return colon < 0 ? database : database.substring(0, colon);
  }

  /** The database artifact's tag. */
  public String databaseTag() {
    int colon = database.lastIndexOf(':');
    return colon < 0 ? "latest" : database.substring(colon + 1);
  }
}
