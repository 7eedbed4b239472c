package io.flotilla.scan;

/**
 * The kind of package an analyzer found, which decides the version scheme and the advisory namespace
 * a matcher uses for it. OS packages ({@link #DEB}, {@link #APK}) are further keyed by the image's
 * {@link OsRelease}; the language ecosystems are not.
 */
public enum PackageType {
  /** A Debian package from dpkg's status database. */
  DEB,
  /** An Alpine package from apk's installed database. */
  APK,
  /** A Java archive identified by its Maven coordinates ({@code groupId:artifactId}). */
  MAVEN,
  /** An npm package. */
  NPM,
  /** A Python distribution. */
  PYPI,
  /** A Go module compiled into a binary (and {@code stdlib} for the toolchain). */
  GO
}
