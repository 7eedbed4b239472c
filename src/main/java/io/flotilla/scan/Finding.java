package io.flotilla.scan;

import java.util.Objects;

/**
 * One vulnerable package of an image: which advisory, how severe, and which installed package it hits.
 * Titles, descriptions and references are not kept here; they are read from the active
 * {@link VulnDb} when a query renders the finding. An immutable value.
 *
 * @param id the id shown to users: the advisory's CVE alias when it has one, else its own id
 * @param severity the advisory's severity for this package (never {@link Severity#NONE})
 * @param packageName the installed (binary) package name
 * @param packagePath the file the package was read from, e.g. {@code var/lib/dpkg/status}
 * @param installedVersion the installed version
 * @param fixedVersion the lowest version that fixes it, or {@code ""} when none is known
 */
public record Finding(String id, Severity severity, String packageName, String packagePath, String installedVersion,
    String fixedVersion) {
  public Finding {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(packageName, "packageName");
    packagePath = packagePath == null ? "" : packagePath;
    installedVersion = installedVersion == null ? "" : installedVersion;
    fixedVersion = fixedVersion == null ? "" : fixedVersion;
  }
}
