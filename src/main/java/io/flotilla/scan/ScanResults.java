package io.flotilla.scan;

import io.vertx.core.Future;
import java.util.Optional;
import java.util.Set;

/**
 * What search asks of scanning on one node: whether a database is active, the stored scan of a manifest,
 * the display text of an advisory, and which manifests hold a vulnerability id. Implemented by the
 * node's scanner over its scan store; answers from memory, never reading a layer, except
 * {@link #scanNow}. Called on event loops: nothing here blocks.
 */
public interface ScanResults {

  /** Whether a vulnerability database is active on this node; if not, CVE queries answer {@code cve search is disabled}. */
  boolean enabled();

  /** The digest of the active database artifact, or {@code ""}. */
  String activeDb();

  /** This node's stored scan of manifest {@code digest} (an image manifest, not an index), if any. */
  Optional<ImageScan> stored(String digest);

  /**
   * Scans manifest {@code digest} of {@code repository} now if it has no stored scan (one scan per digest
   * at a time, however many callers), answering the stored scan when there is one. Fails when the
   * scan does not finish before the scanner's deadline.
   */
  Future<ImageScan> scanNow(String repository, String digest);

  /** What the active database says about vulnerability {@code id}. */
  Optional<Advisory> advisory(String id);

  /**
   * Whether {@code repository} holds the vulnerability database artifact: search lists leave it out (it
   * holds no image, and its tag time would differ between any two registries that received it).
   */
  default boolean reserved(String repository) {
    return false;
  }

  /** The manifest digests on this node whose stored scan has a finding with id {@code id}. */
  Set<String> manifestsWith(String id);

  /** A node without a vulnerability database: every CVE query is refused, every image is unscanned. */
  ScanResults DISABLED = new ScanResults() {
    @Override
    public boolean enabled() {
      return false;
    }

    @Override
    public String activeDb() {
      return "";
    }

    @Override
    public Optional<ImageScan> stored(String digest) {
      return Optional.empty();
    }

    @Override
    public Future<ImageScan> scanNow(String repository, String digest) {
      return Future.failedFuture(new IllegalStateException("cve search is disabled"));
    }

    @Override
    public Optional<Advisory> advisory(String id) {
      return Optional.empty();
    }

    @Override
    public Set<String> manifestsWith(String id) {
      return Set.of();
    }
  };
}
