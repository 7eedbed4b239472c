package io.flotilla.oci;

import java.util.Objects;

/**
 * A failure that has an OCI error code. Thrown by storage, cluster and HTTP code alike and rendered
 * once, at the HTTP edge. The status defaults to the code's status; a few cases (an oversize
 * manifest: 413) override it.
 */
public class OciException extends RuntimeException {
  private final OciError error;
  private final String detail;
  private final int status;

  public OciException(OciError error, String detail) {
    this(error, detail, error.status());
  }

  public OciException(OciError error, String detail, int status) {
    super(error.name() + ": " + detail, null, false, false);
    this.error = Objects.requireNonNull(error);
    this.detail = detail == null ? "" : detail;
    this.status = status;
  }

  public OciError error() {
    return error;
  }

  public String detail() {
    return detail;
  }

  public int status() {
    return status;
  }
}
