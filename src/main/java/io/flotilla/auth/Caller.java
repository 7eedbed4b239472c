package io.flotilla.auth;

/**
 * An authenticated request's caller: its principal and, when it presented a bearer token, the
 * token (whose grants bound what it may do, on top of the policies).
 */
public record Caller(Principal principal, TokenService.Token token) {
  public static final Caller ANONYMOUS = new Caller(Principal.NOBODY, null);

  public boolean bearer() {
    return token != null;
  }
}
