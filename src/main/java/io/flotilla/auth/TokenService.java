package io.flotilla.auth;

import io.flotilla.bus.Messages.TokenKeyInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * Issues and verifies the short-lived bearer tokens of the Docker token flow. A token names its
 * subject (a user, or {@code anonymous}) and the access it grants ({@link Grant}s), and is signed
 * with ES256 by the issuing node ({@link TokenKeys}). Any node verifies any node's tokens: an
 * unknown key id is fetched once from the node that made it ({@code fetchRemote}, over the
 * authenticated bus) and remembered. Verified tokens are cached until they expire, so the hot path
 * is one map lookup; a failed key fetch is not retried for a few seconds.
 */
public final class TokenService {
  public static final String ISSUER = "flotilla";
  public static final String AUDIENCE = "flotilla";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int CACHE_LIMIT = 20_000;
  private static final long MISSING_KEY_BACKOFF_MILLIS = 5_000;
  /** Clock skew tolerated between nodes. */
  private static final long LEEWAY_SECONDS = 30;

  /** A verified token. */
  public record Token(String subject, List<Grant> access, long expiresMillis) {
    /** Whether the token grants {@code tokenAction} on repository {@code name}. */
    public boolean grants(String name, String tokenAction) {
      for (Grant g : access) {
        if (g.type().equals("repository") && g.name().equals(name)
            && (g.actions().contains(tokenAction) || g.actions().contains("*"))) {
          return true;
        }
      }
      return false;
    }

    public boolean grantsCatalog() {
      return access.contains(Grant.CATALOG);
    }
  }

  /** A freshly issued token, in the shape of the token endpoint's answer. */
  public record Issued(String token, long expiresInSeconds, String issuedAt) {}

  private final TokenKeys keys;
  private final Duration ttl;
  private final Clock clock;
  private final BiFunction<String, String, Future<TokenKeyInfo>> fetchRemote;
  private final Map<String, Token> verified = new ConcurrentHashMap<>();
  private final Map<String, Future<PublicKey>> fetching = new ConcurrentHashMap<>();
  private final Map<String, Long> missing = new ConcurrentHashMap<>();

  /**
   * @param fetchRemote (node, kid) to that node's public key; called at most once at a time per kid
   */
  public TokenService(TokenKeys keys, Duration ttl, Clock clock,
      BiFunction<String, String, Future<TokenKeyInfo>> fetchRemote) {
    this.keys = keys;
    this.ttl = ttl;
    this.clock = clock;
    this.fetchRemote = fetchRemote;
  }

  public Issued issue(String subject, List<Grant> access) {
    long now = clock.millis() / 1000;
    ObjectNode claims = JSON.createObjectNode()
        .put("iss", ISSUER).put("sub", subject).put("aud", AUDIENCE)
        .put("iat", now).put("nbf", now - 1).put("exp", now + ttl.toSeconds())
        .put("jti", HexFormat.of().formatHex(nonce()));
    ArrayNode list = claims.putArray("access");
    for (Grant g : access) {
      ArrayNode actions = list.addObject().put("type", g.type()).put("name", g.name()).putArray("actions");
      g.actions().forEach(actions::add);
    }
    TokenKeys.SigningKey k = keys.current();
    return new Issued(Jwt.sign(claims, k.kid(), k.pair().getPrivate()), ttl.toSeconds(),
        java.time.Instant.ofEpochSecond(now).toString());
  }

  /** Verifies a presented token; fails with UNAUTHORIZED (never saying why beyond "invalid token"). */
  public Future<Token> verify(String token) {
    Token hit = verified.get(token);
    long nowMillis = clock.millis();
    if (hit != null) {
      if (hit.expiresMillis() > nowMillis) {
        return Future.succeededFuture(hit);
      }
      verified.remove(token);
      return invalid();
    }
    Optional<Jwt.Parsed> parsed = Jwt.parse(token);
    if (parsed.isEmpty()) {
      return invalid();
    }
    Jwt.Parsed p = parsed.get();
    PublicKey key = keys.known(p.kid());
    Future<PublicKey> lookup = key != null ? Future.succeededFuture(key) : fetch(p.kid());
    return lookup.transform(ar -> {
      if (ar.failed() || ar.result() == null || !Jwt.verify(p, ar.result())) {
        return invalid();
      }
      Token t = claims(p.claims());
      if (t == null) {
        return invalid();
      }
      if (verified.size() >= CACHE_LIMIT) {
        verified.clear();
      }
      verified.put(token, t);
      return Future.succeededFuture(t);
    });
  }

  private Future<PublicKey> fetch(String kid) {
    Optional<String> node = TokenKeys.nodeOf(kid);
    if (node.isEmpty() || keys.isLocal(kid)) {
      return Future.failedFuture("unknown key");
    }
    Long since = missing.get(kid);
    if (since != null && clock.millis() - since < MISSING_KEY_BACKOFF_MILLIS) {
      return Future.failedFuture("unknown key");
    }
    if (missing.size() > CACHE_LIMIT) {
      missing.clear();
    }
    Future<PublicKey> pending = fetching.get(kid);
    if (pending != null) {
      return pending;
    }
    Future<PublicKey> f = fetchRemote.apply(node.get(), kid).compose(info -> info.kid().equals(kid)
        ? Future.succeededFuture(keys.remember(info, node.get()))
        : Future.failedFuture("node " + node.get() + " answered with another key"));
    if (!f.isComplete()) {
      fetching.put(kid, f);
    }
    return f.onComplete(ar -> {
      fetching.remove(kid);
      if (ar.failed()) {
        missing.put(kid, clock.millis());
      }
    });
  }

  private Token claims(JsonNode c) {
    long now = clock.millis() / 1000;
    if (!ISSUER.equals(c.path("iss").asText()) || !AUDIENCE.equals(c.path("aud").asText())
        || !c.path("sub").isTextual() || !c.path("exp").isIntegralNumber()) {
      return null;
    }
    long exp = c.get("exp").asLong();
    long nbf = c.path("nbf").asLong(0);
    if (exp <= now - LEEWAY_SECONDS || nbf > now + LEEWAY_SECONDS || exp - now > ttl.toSeconds() + LEEWAY_SECONDS) {
      return null;
    }
    List<Grant> access = new ArrayList<>();
    for (JsonNode a : c.path("access")) {
      Set<String> actions = new LinkedHashSet<>();
      a.path("actions").forEach(x -> actions.add(x.asText()));
      access.add(new Grant(a.path("type").asText(), a.path("name").asText(), actions));
    }
    return new Token(c.get("sub").asText(), List.copyOf(access), exp * 1000);
  }

  private static <T> Future<T> invalid() {
    return Future.failedFuture(OciError.UNAUTHORIZED.with("invalid or expired token"));
  }

  private static byte[] nonce() {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    return b;
  }
}
