package io.flotilla.oci;

/** A 429: the caller must wait {@link #retryAfterSeconds()} (rendered as {@code Retry-After}). */
public final class Throttled extends OciException {
  private final long retryAfterSeconds;

  public Throttled(String detail, long retryAfterSeconds) {
    super(OciError.TOOMANYREQUESTS, detail);
    this.retryAfterSeconds = Math.max(1, retryAfterSeconds);
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
