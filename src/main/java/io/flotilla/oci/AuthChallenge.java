package io.flotilla.oci;

/**
 * A 401 that tells the client how to authenticate: rendered with its {@code WWW-Authenticate}
 * header (a Bearer challenge naming the token realm, service and scope, or Basic for the admin API).
 */
public final class AuthChallenge extends OciException {
  private final String challenge;

  public AuthChallenge(String detail, String challenge) {
    super(OciError.UNAUTHORIZED, detail);
    this.challenge = challenge;
  }

  /** The value of the {@code WWW-Authenticate} header. */
  public String challenge() {
    return challenge;
  }
}
