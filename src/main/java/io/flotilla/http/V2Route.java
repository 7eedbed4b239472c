package io.flotilla.http;

/**
 * A parsed {@code /v2/...} path: which resource it names, the repository and the trailing
 * reference (tag/digest, blob digest or upload id). Values are percent-decoded but not yet
 * validated; handlers validate them into {@code oci} types.
 */
public record V2Route(Kind kind, String name, String ref) {
  /** The resources of the distribution API; also the {@code route} label of request metrics. */
  public enum Kind { BASE, CATALOG, TAGS, MANIFEST, BLOB, UPLOADS, UPLOAD, REFERRERS, EXTENSION, UNKNOWN }

  /** Where the extension APIs live: zot's ({@code /v2/_zot/ext/...}) and the OCI one ({@code /v2/_oci/ext/...}). */
  private static final String[] EXTENSION_PREFIXES = {"_zot/ext/", "_oci/ext/"};

  private static final String[] MARKERS = {"/manifests/", "/blobs/uploads/", "/blobs/", "/referrers/"};
  private static final Kind[] KINDS = {Kind.MANIFEST, Kind.UPLOAD, Kind.BLOB, Kind.REFERRERS};

  /**
   * Parses a raw request path. Repository names may themselves contain {@code manifests} or
   * {@code blobs} as components, so the marker that occurs last wins. Extension paths ({@code
   * /v2/_zot/ext/...}, {@code /v2/_oci/ext/...}) are {@link Kind#EXTENSION} with the path after
   * {@code /v2/} as the reference, whatever follows (no repository name starts with {@code _}).
   */
  public static V2Route parse(String rawPath) {
    if (!rawPath.startsWith("/v2")) {
      return new V2Route(Kind.UNKNOWN, "", "");
    }
    String p = rawPath.indexOf('%') >= 0 ? PercentDecoder.decode(rawPath) : rawPath;
    if (p.equals("/v2") || p.equals("/v2/")) {
      return new V2Route(Kind.BASE, "", "");
    }
    p = p.substring(4);
    for (String prefix : EXTENSION_PREFIXES) {
      if (p.startsWith(prefix)) {
        return new V2Route(Kind.EXTENSION, "", p);
      }
    }
    if (p.equals("_catalog")) {
      return new V2Route(Kind.CATALOG, "", "");
    }
    if (p.endsWith("/tags/list")) {
      return new V2Route(Kind.TAGS, p.substring(0, p.length() - "/tags/list".length()), "");
    }
    if (p.endsWith("/blobs/uploads/") || p.endsWith("/blobs/uploads")) {
      return new V2Route(Kind.UPLOADS, p.substring(0, p.lastIndexOf("/blobs/uploads")), "");
    }
    int best = -1;
    int which = -1;
    for (int i = 0; i < MARKERS.length; i++) {
      int at = p.lastIndexOf(MARKERS[i]);
      if (at > best || (at == best && at >= 0 && MARKERS[i].length() > MARKERS[which].length())) {
        best = at;
        which = i;
      }
    }
    if (best <= 0) {
      return new V2Route(Kind.UNKNOWN, "", "");
    }
    String rest = p.substring(best + MARKERS[which].length());
    if (rest.isEmpty() || rest.indexOf('/') >= 0) {
      return new V2Route(Kind.UNKNOWN, "", "");
    }
    return new V2Route(KINDS[which], p.substring(0, best), rest);
  }
}
