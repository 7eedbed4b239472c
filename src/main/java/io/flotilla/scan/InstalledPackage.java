package io.flotilla.scan;

import java.util.Comparator;
import java.util.Objects;

/**
 * One package found in a layer: what it is, which version, and the file it was read from. For dpkg and
 * apk the source package (the key that Debian and Alpine advisories use) is kept beside the binary
 * package; for the language ecosystems the source equals the name and version. Absent values are empty
 * strings, never {@code null}. An immutable value, safe to share between threads.
 *
 * @param type the ecosystem
 * @param name the package name: {@code groupId:artifactId} for Maven, the module path for Go
 * @param version the version exactly as the package database states it
 * @param sourceName the source package (dpkg {@code Source:}, apk {@code o:}), else {@code name}
 * @param sourceVersion the source package's version, else {@code version}
 * @param arch the architecture if the database states one, else empty
 * @param path the file in the image it came from, without a leading slash; for a jar nested in an
 *     archive {@code outer.war!/WEB-INF/lib/inner.jar}
 */
public record InstalledPackage(PackageType type, String name, String version, String sourceName,
    String sourceVersion, String arch, String path) implements Comparable<InstalledPackage> {

  /** The total order used for the squashed package list, so that results are reproducible. */
  public static final Comparator<InstalledPackage> ORDER = Comparator
      .comparing(InstalledPackage::type)
      .thenComparing(InstalledPackage::name)
      .thenComparing(InstalledPackage::version)
      .thenComparing(InstalledPackage::path)
      .thenComparing(InstalledPackage::sourceName)
      .thenComparing(InstalledPackage::sourceVersion)
      .thenComparing(InstalledPackage::arch);

  public InstalledPackage {
    Objects.requireNonNull(type, "type");
    name = Objects.requireNonNull(name, "name");
    version = Objects.requireNonNull(version, "version");
    sourceName = sourceName == null || sourceName.isEmpty() ? name : sourceName;
    sourceVersion = sourceVersion == null || sourceVersion.isEmpty() ? version : sourceVersion;
    arch = arch == null ? "" : arch;
    path = Objects.requireNonNull(path, "path");
  }

  /** A language package: its source is itself and it has no architecture. */
  public static InstalledPackage of(PackageType type, String name, String version, String path) {
    return new InstalledPackage(type, name, version, name, version, "", path);
  }

  @Override
  public int compareTo(InstalledPackage o) {
    return ORDER.compare(this, o);
  }
}
