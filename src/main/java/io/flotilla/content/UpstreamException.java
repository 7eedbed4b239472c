package io.flotilla.content;

import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;

/**
 * A failure talking to an upstream registry, with a {@link Kind} a caller can act on (a sync task
 * retries UNAVAILABLE later, reports UNAUTHORIZED to the operator, drops content on DIGEST_MISMATCH).
 * The message names the method and URL path of the exchange that failed, never a query string
 * (object storage signs its redirect URLs there) nor credentials. Rendered at the HTTP edge like any
 * {@link OciException}: NOT_FOUND as the operation's unknown-content code with 404, UNAVAILABLE as
 * 503, everything else as UNAVAILABLE with 502 (the fault is upstream's, not the client's).
 */
public final class UpstreamException extends OciException {
  /** What went wrong, as far as the caller needs to know. */
  public enum Kind {
    /** Credentials are missing or were refused (a 401 after authenticating, or by the token endpoint). */
    UNAUTHORIZED,
    /** The credentials are valid but do not allow this (403). */
    DENIED,
    /** The repository, manifest or blob does not exist upstream (404). */
    NOT_FOUND,
    /** A response larger than the client accepts (a manifest over 4 MiB). */
    TOO_LARGE,
    /** Content that does not hash to its digest, or a digest header that disagrees with the body. */
    DIGEST_MISMATCH,
    /** Upstream could not be reached or kept failing (connection errors, timeouts, 429/5xx after every attempt). */
    UNAVAILABLE,
    /** An answer that breaks the distribution protocol (bad JSON, missing headers, wrong lengths, odd statuses). */
    PROTOCOL
  }

  private final Kind kind;

  /**
   * @param notFound the code a NOT_FOUND is rendered with (MANIFEST_UNKNOWN, BLOB_UNKNOWN, NAME_UNKNOWN)
   */
  public UpstreamException(Kind kind, OciError notFound, String detail) {
    super(error(kind, notFound), detail, status(kind));
    this.kind = kind;
  }

  public UpstreamException(Kind kind, String detail) {
    this(kind, OciError.NOT_FOUND, detail);
  }

  public Kind kind() {
    return kind;
  }

  /** The kind and the detail, e.g. {@code DIGEST_MISMATCH: GET /v2/a/blobs/sha256:...: ...}. */
  @Override
  public String getMessage() {
    return kind + ": " + detail();
  }

  private static OciError error(Kind kind, OciError notFound) {
    return kind == Kind.NOT_FOUND ? notFound : OciError.UNAVAILABLE;
  }

  private static int status(Kind kind) {
    return switch (kind) {
      case NOT_FOUND -> 404;
      case UNAVAILABLE -> 503;
      default -> 502;
    };
  }
}
