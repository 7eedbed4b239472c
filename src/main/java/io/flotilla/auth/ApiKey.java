package io.flotilla.auth;

/**
 * One API key as every node stores it: who it belongs to and when it lives, and the SHA-256 of its
 * secret, never the secret. Immutable except {@code revokedMillis}, which only ever grows (see
 * {@link ApiKeys#merge}).
 *
 * @param id the public part of the key ({@code flt_<id>_<secret>}), unique in the cluster
 * @param user the user the key authenticates as
 * @param name the owner's label for the key (e.g. {@code ci})
 * @param createdMillis when it was created (epoch milliseconds)
 * @param expiresMillis when it stops working; 0 means never
 * @param revokedMillis when it was revoked; 0 means it was not
 * @param secretSha256 lower-case hex SHA-256 of the secret's 32 bytes
 */
public record ApiKey(String id, String user, String name, long createdMillis, long expiresMillis, long revokedMillis,
    String secretSha256) {

  /** Whether the key authenticates at {@code nowMillis}: neither revoked nor expired. */
  public boolean live(long nowMillis) {
    return revokedMillis == 0 && (expiresMillis == 0 || nowMillis < expiresMillis);
  }

  /** This key revoked at {@code millis}, or itself if it is revoked already. */
  ApiKey revokedAt(long millis) {
    if (revokedMillis != 0) {
      return this;
    }
    return new ApiKey(id, user, name, createdMillis, expiresMillis, millis, secretSha256);
  }

  /**
   * When this key may be forgotten: a week after it was revoked or expired, whichever came first;
   * never ({@link Long#MAX_VALUE}) while it lives without an expiry.
   */
  long prunableAfter(long retentionMillis) {
    long dead = Long.MAX_VALUE;
    if (revokedMillis != 0) {
      dead = revokedMillis;
    }
    if (expiresMillis != 0) {
      dead = Math.min(dead, expiresMillis);
    }
    return dead == Long.MAX_VALUE ? Long.MAX_VALUE : dead + retentionMillis;
  }
}
