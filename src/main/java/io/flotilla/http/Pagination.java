package io.flotilla.http;

import io.flotilla.oci.OciError;

/** Parses {@code n} and builds the {@code Link} header of tag and catalog listings. */
final class Pagination {
  private Pagination() {}

  /** The page size asked for; {@code fallback} when absent; PAGINATION_NUMBER_INVALID when malformed or too big. */
  static int pageSize(String n, int fallback, int max) {
    if (n == null || n.isEmpty()) {
      return fallback;
    }
    try {
      int v = Integer.parseInt(n);
      if (v >= 0 && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // falls through to the error
    }
    throw OciError.PAGINATION_NUMBER_INVALID.with("n must be an integer between 0 and " + max);
  }

  static String link(String path, int n, String last) {
    return "<" + path + "?n=" + n + "&last=" + java.net.URLEncoder.encode(last, java.nio.charset.StandardCharsets.UTF_8)
        + ">; rel=\"next\"";
  }
}
