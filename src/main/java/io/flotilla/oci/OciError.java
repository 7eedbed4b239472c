package io.flotilla.oci;

/**
 * The error codes a registry speaks, with the HTTP status each one is rendered with.
 *
 * <p>This is the single table that maps failures to the wire: storage, cluster and HTTP code throw
 * {@link OciException} carrying one of these, and the HTTP failure handler renders it as
 * {@code {"errors":[{"code","message","detail"}]}}. Codes and statuses follow the OCI Distribution
 * Specification v1.1 error table, completed with the codes CNCF distribution adds for cases the
 * specification leaves open (ranges, pagination, unavailability).
 */
public enum OciError {
  BLOB_UNKNOWN(404, "blob unknown to registry"),
  BLOB_UPLOAD_INVALID(400, "blob upload invalid"),
  BLOB_UPLOAD_UNKNOWN(404, "blob upload unknown to registry"),
  DIGEST_INVALID(400, "provided digest did not match uploaded content"),
  MANIFEST_BLOB_UNKNOWN(400, "manifest references a manifest or blob unknown to registry"),
  MANIFEST_INVALID(400, "manifest invalid"),
  MANIFEST_UNKNOWN(404, "manifest unknown to registry"),
  NAME_INVALID(400, "invalid repository name"),
  NAME_UNKNOWN(404, "repository name not known to registry"),
  SIZE_INVALID(400, "provided length did not match content length"),
  TAG_INVALID(400, "manifest tag did not match URI"),
  UNAUTHORIZED(401, "authentication required"),
  DENIED(403, "requested access to the resource is denied"),
  UNSUPPORTED(405, "the operation is unsupported"),
  TOOMANYREQUESTS(429, "too many requests"),
  RANGE_INVALID(416, "invalid content range"),
  PAGINATION_NUMBER_INVALID(400, "invalid number of results requested"),
  NOT_FOUND(404, "no such endpoint"),
  UNAVAILABLE(503, "service unavailable"),
  /** Flotilla's admin API: a request body or parameter that is not valid (400). */
  INVALID_REQUEST(400, "invalid request"),
  /** Flotilla's admin API: the request conflicts with what exists (409). */
  CONFLICT(409, "conflict"),
  UNKNOWN(500, "unknown error");

  private final int status;
  private final String message;

  OciError(int status, String message) {
    this.status = status;
    this.message = message;
  }

  /** The HTTP status this code is rendered with unless the exception overrides it. */
  public int status() {
    return status;
  }

  /** The human-readable message of the code. */
  public String message() {
    return message;
  }

  /** Builds an exception of this code with a detail text. */
  public OciException with(String detail) {
    return new OciException(this, detail);
  }

  /** Parses a code name as it crosses the bus; unknown names become {@link #UNKNOWN}. */
  public static OciError byName(String name) {
    try {
      return valueOf(name);
    } catch (IllegalArgumentException | NullPointerException e) {
      return UNKNOWN;
    }
  }
}
