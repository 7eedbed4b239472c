package io.flotilla.auth;

import io.flotilla.bus.Messages.TokenKeyInfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TokenServiceTest {
  private static final Duration TTL = Duration.ofMinutes(5);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private final MutableClock clock = new MutableClock();

  /** A clock tests can move. */
  static final class MutableClock extends Clock {
    long millis = 1_800_000_000_000L;

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private TokenService alone(TokenKeys keys) {
    return new TokenService(keys, TTL, clock, (node, kid) -> Future.failedFuture("no peers"));
  }

  private static boolean valid(Future<TokenService.Token> f) {
    return f.succeeded();
  }

  @Test
  void issuedTokensVerifyWithTheirGrants() {
    TokenService s = alone(new TokenKeys("n1", TTL, clock));
    String t = s.issue("alice", List.of(new Grant("repository", "team/app", Set.of("pull", "push")))).token();
    TokenService.Token v = s.verify(t).result();
    assertEquals("alice", v.subject());
    assertTrue(v.grants("team/app", "push"));
    assertFalse(v.grants("team/app", "delete"));
    assertFalse(v.grants("team/other", "pull"));
  }

  @Test
  void expiredForgedAndAlgNoneTokensAreRefused() throws Exception {
    TokenKeys keys = new TokenKeys("n1", TTL, clock);
    TokenService s = alone(keys);
    String t = s.issue("alice", List.of()).token();
    String[] parts = t.split("\\.");
    ObjectMapper json = new ObjectMapper();
    // payload changed, signature kept
    ObjectNode claims = (ObjectNode) json.readTree(Base64.getUrlDecoder().decode(parts[1]));
    claims.put("sub", "admin");
    String forged = parts[0] + "." + B64.encodeToString(json.writeValueAsBytes(claims)) + "." + parts[2];
    assertFalse(valid(s.verify(forged)));
    // alg none, no signature
    String none = B64.encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(json.writeValueAsBytes(claims)) + ".";
    assertFalse(valid(s.verify(none)));
    // HS256 with any secret
    String hs = B64.encodeToString(("{\"alg\":\"HS256\",\"kid\":\"" + keys.current().kid() + "\"}")
        .getBytes(StandardCharsets.UTF_8)) + "." + parts[1] + "." + parts[2];
    assertFalse(valid(s.verify(hs)));
    // signed by another node's key with the same kid shape
    TokenService other = alone(new TokenKeys("n1", TTL, clock));
    assertFalse(valid(s.verify(other.issue("admin", List.of()).token())));
    // garbage
    for (String g : List.of("", "a", "a.b", "a.b.c", "...", "x".repeat(20_000), t + "x", t.replace('.', '!'))) {
      assertFalse(valid(s.verify(g)), g.length() > 30 ? g.substring(0, 30) : g);
    }
    assertTrue(valid(s.verify(t)));
    clock.millis += TTL.toMillis() + 31_000;
    assertFalse(valid(s.verify(t)), "expired (also when it was cached)");
  }

  @Test
  void rotatedKeysVerifyUntilTheirTokensExpire() {
    TokenKeys keys = new TokenKeys("n1", TTL, clock);
    TokenService s = alone(keys);
    String before = s.issue("alice", List.of()).token();
    keys.rotate();
    String after = s.issue("alice", List.of()).token();
    assertTrue(valid(alone(keys).verify(before)), "a token of the retired key still verifies");
    assertTrue(valid(alone(keys).verify(after)));
  }

  @Test
  void anotherNodesKeyIsFetchedOnceAndRemembered() {
    TokenKeys k1 = new TokenKeys("n1", TTL, clock);
    TokenKeys k2 = new TokenKeys("n2", TTL, clock);
    TokenService issuer = alone(k1);
    AtomicInteger fetches = new AtomicInteger();
    TokenService verifier = new TokenService(k2, TTL, clock, (node, kid) -> {
      fetches.incrementAndGet();
      return node.equals("n1") ? Future.succeededFuture(k1.local(kid).orElseThrow()) : Future.failedFuture("?");
    });
    String t1 = issuer.issue("alice", List.of()).token();
    String t2 = issuer.issue("bob", List.of()).token();
    assertTrue(valid(verifier.verify(t1)));
    assertTrue(valid(verifier.verify(t2)));
    assertEquals(1, fetches.get());
    // a node may only vouch for its own key ids
    TokenService confused = new TokenService(new TokenKeys("n3", TTL, clock), TTL, clock,
        (node, kid) -> Future.succeededFuture(new TokenKeyInfo("n1~00", k1.current().pair().getPublic()
            .getEncoded(), Long.MAX_VALUE)));
    assertFalse(valid(confused.verify(t1)));
  }

  @Test
  void scopesParseStrictly() {
    List<Grant> g = Grant.parseScopes(List.of("repository:team/app:pull,push repository:Bad/Name:pull",
        "registry:catalog:*", "repository:a:fly", "repository:x/y:", "nonsense", "repository:b:delete"));
    assertEquals(List.of(new Grant("repository", "team/app", Set.of("pull", "push")), Grant.CATALOG,
        new Grant("repository", "b", Set.of("delete"))), g);
  }

  @Test
  void loginThrottleBlocksAfterTheLimitForAMinute() {
    LoginThrottle t = new LoginThrottle(3, clock);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, t.retryAfterSeconds("10.0.0.1", "alice"));
      t.failed("10.0.0.1", "alice");
    }
    assertTrue(t.retryAfterSeconds("10.0.0.1", "bob") > 0, "the address is blocked");
    assertTrue(t.retryAfterSeconds("10.0.0.2", "alice") > 0, "the user is blocked");
    assertEquals(0, t.retryAfterSeconds("10.0.0.2", "bob"));
    clock.millis += 60_001;
    assertEquals(0, t.retryAfterSeconds("10.0.0.1", "alice"));
  }
}
