package io.flotilla.scan;

/**
 * A layer that cannot be inventoried at all: truncated or corrupt compression or tar structure, an
 * unsupported compression, or a limit of {@link ScanLimits} exceeded (a tar bomb). The scan of the image
 * fails cleanly with the {@link Reason}; nothing of the layer is kept. Problems confined to one file of a
 * layer are not exceptions but {@link ScanNote}s.
 */
public final class ScanException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a layer could not be read. */
  public enum Reason {
    /** The stream ended inside the gzip or tar structure. */
    TRUNCATED,
    /** The gzip or tar structure is invalid. */
    CORRUPT,
    /** A compression this reader does not handle (zstd, bzip2, xz). */
    UNSUPPORTED_COMPRESSION,
    /** More tar entries than {@link ScanLimits#maxEntries()}. */
    TOO_MANY_ENTRIES,
    /** More uncompressed bytes than {@link ScanLimits#maxLayerBytes()}, read or declared. */
    TOO_LARGE,
    /** More packages than {@link ScanLimits#maxPackages()}. */
    TOO_MANY_PACKAGES,
    /** Reading the layer's bytes failed (the source, not its content). */
    IO_ERROR
  }

  private final Reason reason;

  public ScanException(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = reason;
  }

  public ScanException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  /** Why the layer could not be read. */
  public Reason reason() {
    return reason;
  }
}
