package io.flotilla.scan;

import java.util.ArrayList;
import java.util.List;

/**
 * What an analyzer found in one file: packages, an OS release, notes. Created by the layer reader per
 * file on the scanning thread; not thread-safe.
 */
final class Findings {
  /** Thrown when a layer holds more packages than {@link ScanLimits#maxPackages()}. */
  static final class TooManyPackages extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooManyPackages(int limit) {
      super("more than " + limit + " packages");
    }
  }

  private final String path;
  private final ScanLimits limits;
  private final int packagesBefore;
  private final List<InstalledPackage> packages = new ArrayList<>();
  private final List<ScanNote> notes = new ArrayList<>();
  private OsRelease os = OsRelease.UNKNOWN;

  Findings(String path, ScanLimits limits, int packagesBefore) {
    this.path = path;
    this.limits = limits;
    this.packagesBefore = packagesBefore;
  }

  String path() {
    return path;
  }

  ScanLimits limits() {
    return limits;
  }

  void add(InstalledPackage p) {
    if (packagesBefore + packages.size() >= limits.maxPackages()) {
      throw new TooManyPackages(limits.maxPackages());
    }
    packages.add(p);
  }

  void os(OsRelease release) {
    this.os = release;
  }

  void note(String where, String message) {
    notes.add(new ScanNote(where, message));
  }

  List<InstalledPackage> packages() {
    return packages;
  }

  OsRelease os() {
    return os;
  }

  List<ScanNote> notes() {
    return notes;
  }
}
