package io.flotilla.auth;

import io.flotilla.oci.OciError;
import io.flotilla.oci.Throttled;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Turns an {@code Authorization} header into a {@link Caller}: none is the anonymous caller;
 * {@code Basic} is a user's password (bcrypt, checked on a worker thread) or an API key;
 * {@code Bearer} is a token from {@code /auth/token}. Wrong credentials fail with UNAUTHORIZED and
 * count as failed logins ({@link LoginThrottle}: 429 past the limit). A correct password is
 * remembered (as a salted hash, for a few minutes), so clients that send Basic on every request
 * do not pay bcrypt each time. Secrets are never logged or put in error details.
 */
public final class Authenticator {
  private static final int MAX_HEADER = 8 * 1024;
  private static final long PASSWORD_CACHE_MILLIS = 5 * 60_000;
  private static final int PASSWORD_CACHE_LIMIT = 10_000;
  private static final String API_KEY_PREFIX = "flt_";

  private final Vertx vertx;
  private final AccessPolicy policy;
  private final Htpasswd users;
  private final Function<String, Optional<String>> apiKeys;
  private final TokenService tokens;
  private final LoginThrottle throttle;
  private final Clock clock;
  private final byte[] salt = new byte[16];
  private final Map<String, Long> goodPasswords = new ConcurrentHashMap<>();
  private final Counter failures;
  private final Counter throttled;

  /**
   * @param apiKeys an API key to its user, if the key is live
   */
  public Authenticator(Vertx vertx, AccessPolicy policy, Htpasswd users, Function<String, Optional<String>> apiKeys,
      TokenService tokens, LoginThrottle throttle, Clock clock, MeterRegistry metrics) {
    this.vertx = vertx;
    this.policy = policy;
    this.users = users;
    this.apiKeys = apiKeys;
    this.tokens = tokens;
    this.throttle = throttle;
    this.clock = clock;
    new SecureRandom().nextBytes(salt);
    this.failures = Counter.builder("flotilla_auth_failures").description("Failed logins and rejected credentials")
        .register(metrics);
    this.throttled = Counter.builder("flotilla_auth_throttled")
        .description("Login attempts refused with 429 after too many failures").register(metrics);
  }

  public TokenService tokens() {
    return tokens;
  }

  public AccessPolicy policy() {
    return policy;
  }

  /** Any kind of credentials (requests to the registry and the admin API). */
  public Future<Caller> authenticate(String authorization, String address) {
    if (authorization == null || authorization.isEmpty()) {
      return Future.succeededFuture(Caller.ANONYMOUS);
    }
    if (authorization.length() > MAX_HEADER) {
      return reject(address, null, "malformed credentials");
    }
    if (startsWithIgnoreCase(authorization, "Bearer ")) {
      long wait = throttle.retryAfterSeconds(address, null);
      if (wait > 0) {
        throttled.increment();
        return Future.failedFuture(new Throttled("too many failed logins; try again later", wait));
      }
      return tokens.verify(authorization.substring(7).trim())
          .map(t -> new Caller(policy.principal(t.subject()), t))
          .recover(err -> reject(address, null, "invalid or expired token"));
    }
    return login(authorization, address).map(p -> new Caller(p, null));
  }

  /** Basic credentials or none (the token endpoint). */
  public Future<Principal> login(String authorization, String address) {
    if (authorization == null || authorization.isEmpty()) {
      return Future.succeededFuture(Principal.NOBODY);
    }
    if (authorization.length() > MAX_HEADER || !startsWithIgnoreCase(authorization, "Basic ")) {
      return reject(address, null, "malformed credentials");
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return reject(address, null, "malformed credentials");
    }
    int colon = decoded.indexOf(':');
    if (colon <= 0) {
      return reject(address, null, "malformed credentials");
    }
    String user = decoded.substring(0, colon);
    String secret = decoded.substring(colon + 1);
    String userKey = user.length() > 128 ? user.substring(0, 128) : user;
    long wait = throttle.retryAfterSeconds(address, userKey);
    if (wait > 0) {
      throttled.increment();
      return Future.failedFuture(new Throttled("too many failed logins; try again later", wait));
    }
    if (secret.startsWith(API_KEY_PREFIX)) {
      Optional<String> owner = apiKeys.apply(secret);
      // the key must be the named user's, and the user must still exist
      if (owner.isPresent() && owner.get().equals(user) && users.contains(user)) {
        return Future.succeededFuture(policy.principal(user));
      }
      return reject(address, userKey, "invalid username or password");
    }
    String remembered = remembered(user, secret);
    Long until = goodPasswords.get(remembered);
    if (until != null && until > clock.millis()) {
      return Future.succeededFuture(policy.principal(user));
    }
    return vertx.executeBlocking(() -> users.check(user, secret), false).compose(ok -> {
      if (!ok) {
        return reject(address, userKey, "invalid username or password");
      }
      if (goodPasswords.size() >= PASSWORD_CACHE_LIMIT) {
        goodPasswords.clear();
      }
      goodPasswords.put(remembered, clock.millis() + PASSWORD_CACHE_MILLIS);
      return Future.succeededFuture(policy.principal(user));
    });
  }

  private <T> Future<T> reject(String address, String user, String why) {
    failures.increment();
    throttle.failed(address, user);
    return Future.failedFuture(OciError.UNAUTHORIZED.with(why));
  }

  private String remembered(String user, String password) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(salt);
      d.update(user.getBytes(StandardCharsets.UTF_8));
      d.update((byte) 0);
      d.update(password.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(d.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean startsWithIgnoreCase(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
  }
}
