package io.flotilla.scan;

/**
 * Something a layer scan skipped or could not read, without failing the layer: an unsafe path, a file
 * over its size limit, a corrupted archive. Reported with the image so that a gap in the inventory is
 * visible.
 *
 * @param path the entry concerned (as it appeared in the tar, possibly unsafe), or empty
 * @param message what happened
 */
public record ScanNote(String path, String message) {
  public ScanNote {
    path = path == null ? "" : path;
    message = message == null ? "" : message;
  }
}
