package io.flotilla.scan;

/**
 * A vulnerability database artifact that cannot be compiled as a whole: not a zip, a corrupt or
 * truncated zip, a limit of {@link OsvImporter.Limits} exceeded (an oversized entry, a zip bomb, too many
 * entries), or no usable record at all. A single bad record is not an exception; the importer skips and
 * counts it. The previous database (if any) stays active.
 */
public final class VulnDbException extends Exception {
  private static final long serialVersionUID = 1L;

  public VulnDbException(String message) {
    super(message);
  }

  public VulnDbException(String message, Throwable cause) {
    super(message, cause);
  }
}
