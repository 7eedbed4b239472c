package io.flotilla.scan;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one kind of file of a layer. The layer reader offers every regular file to each analyzer in
 * turn; the first that {@link #accepts} it reads it, once, from the tar stream. Runs on the scanning
 * thread; an {@link IOException} or {@link IllegalArgumentException} of an analyzer skips the file with a
 * note (unless the layer itself failed underneath, which the reader tells apart).
 */
interface Analyzer {
  /**
   * Whether this analyzer reads the file.
   *
   * @param path the normalized path, e.g. {@code var/lib/dpkg/status}
   * @param name its last segment
   * @param executable whether any execute bit of the file mode is set
   */
  boolean accepts(String path, String name, boolean executable);

  /** The most bytes of the file this analyzer may read. */
  long maxBytes(String path, ScanLimits limits);

  /** True if a file declared larger than {@link #maxBytes} is skipped unread; false if only its head is read. */
  default boolean readsWhole() {
    return true;
  }

  /**
   * True if a file that yields nothing still hides a lower layer's file at its path (every analyzer but the
   * Go one, which would otherwise record every executable of the layer).
   */
  /**
   * Whether a file this analyzer accepts must be read for the image's inventory to be trusted: an OS
   * package database over its size limit fails the layer's scan instead of being skipped with a note.
   */
  default boolean essential() {
    return false;
  }

  default boolean recordsEmpty() {
    return true;
  }

  /** Reads the file (bounded to {@link #maxBytes}) and reports what it found. */
  void analyze(Findings out, InputStream in) throws IOException;
}
