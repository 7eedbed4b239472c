package io.flotilla.cli;

/**
 * A request the server refused or could not answer: the HTTP status (0 when there was no answer:
 * connection refused, timeout, TLS failure), the first error's code (may be empty) and a message fit
 * for {@code error: <message>}.
 */
public final class ApiException extends Exception {
  private final int status;
  private final String code;

  public ApiException(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The HTTP status, or 0 if the server gave no answer. */
  public int status() {
    return status;
  }

  /** The API error code, such as {@code NAME_UNKNOWN}; empty when the answer carried none. */
  public String code() {
    return code;
  }
}
