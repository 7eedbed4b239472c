package io.flotilla.scan;

import java.util.Optional;

/**
 * A packaging ecosystem that Flotilla matches advisories for: its OSV ecosystem name and its version
 * ordering. OS ecosystems carry a release in OSV ({@code Debian:12}, {@code Ubuntu:22.04:LTS},
 * {@code Ubuntu:Pro:18.04:LTS}, {@code Alpine:v3.19}); {@link #ofOsv} reads the name before the
 * first colon and {@link #osvRelease} the rest.
 */
public enum Ecosystem {
  DEBIAN("Debian", new DebianComparator()),
  UBUNTU("Ubuntu", DEBIAN.comparator),
  ALPINE("Alpine", new ApkComparator()),
  PYPI("PyPI", new Pep440Comparator()),
  MAVEN("Maven", new MavenComparator()),
  NPM("npm", new SemverComparator()),
  GO("Go", NPM.comparator);

  private final String osvName;
  private final VersionComparator comparator;

  Ecosystem(String osvName, VersionComparator comparator) {
    this.osvName = osvName;
    this.comparator = comparator;
  }

  /** The OSV ecosystem name, without any release suffix ({@code Debian}, {@code PyPI}, {@code npm}). */
  public String osvName() {
    return osvName;
  }

  /** The version ordering of this ecosystem (also used for its OSV {@code ECOSYSTEM} ranges). */
  public VersionComparator comparator() {
    return comparator;
  }

  /** The ecosystem of an OSV {@code package.ecosystem} value (case-sensitive, as OSV defines them). */
  public static Optional<Ecosystem> ofOsv(String osvEcosystem) {
    if (osvEcosystem == null) {
      return Optional.empty();
    }
    int colon = osvEcosystem.indexOf(':');
    String name = colon < 0 ? osvEcosystem : osvEcosystem.substring(0, colon);
    for (Ecosystem e : values()) {
      if (e.osvName.equals(name)) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  /** The release part of an OSV ecosystem value ({@code 12} of {@code Debian:12}), or "" if none. */
  public static String osvRelease(String osvEcosystem) {
    int colon = osvEcosystem == null ? -1 : osvEcosystem.indexOf(':');
    return colon < 0 ? "" : osvEcosystem.substring(colon + 1);
  }

  /** The comparator for OSV {@code SEMVER} ranges, whatever the ecosystem. */
  public static VersionComparator semver() {
    return NPM.comparator;
  }
}
