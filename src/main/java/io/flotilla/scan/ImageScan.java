package io.flotilla.scan;

import java.util.List;
import java.util.Objects;

/**
 * The stored outcome of scanning one image manifest (not an index: an index's answer is the union of
 * its children's). Keyed by the manifest digest alone: the same manifest in two repositories has the
 * same packages and so the same findings under one database. An immutable value.
 *
 * @param digest the manifest digest ({@code sha256:...})
 * @param dbDigest the digest of the database artifact the findings were matched with
 * @param analyzerVersion {@link LayerInventory#ANALYZER_VERSION} when the inventory was read
 * @param error why the scan failed, or {@code ""}; a failed scan has no packages and no findings
 * @param os the image's OS
 * @param packages the image inventory (kept so that a new database re-matches without reading layers)
 * @param findings sorted by id, then package
 * @param scannedMillis when the findings were computed (epoch milliseconds)
 */
public record ImageScan(String digest, String dbDigest, int analyzerVersion, String error, OsRelease os,
    List<InstalledPackage> packages, List<Finding> findings, long scannedMillis) {
  public ImageScan {
    Objects.requireNonNull(digest, "digest");
    dbDigest = dbDigest == null ? "" : dbDigest;
    error = error == null ? "" : error;
    os = os == null ? OsRelease.UNKNOWN : os;
    packages = List.copyOf(packages);
    findings = List.copyOf(findings);
  }

  /** Whether the scan failed ({@link #error} says why). */
  public boolean failed() {
    return !error.isEmpty();
  }
}
