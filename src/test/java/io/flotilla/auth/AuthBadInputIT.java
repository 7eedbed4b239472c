package io.flotilla.auth;

import static io.flotilla.auth.AuthFixture.basic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bad-input table of access control: malformed and oversized credentials, forged, unsigned,
 * wrongly-signed and wrongly-scoped tokens, and path tricks around the policy globs. Each request is
 * refused with the right status and OCI error code, never echoes a secret, and leaves the registry
 * exactly as it was (a snapshot taken by an admin before and after). Then the login throttle: 429
 * with Retry-After past the limit, counted on /metrics.
 */
class AuthBadInputIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  @TempDir
  static Path tmp;
  static TestNode node;
  static OciClient anonymous;
  static OciClient admin;

  @BeforeAll
  static void start() {
    node = TestNode.start(tmp.resolve("data"), AuthFixture.config(AuthFixture.htpasswd(tmp.resolve("auth")), 1000));
    anonymous = new OciClient(node.url());
    admin = anonymous.as(basic("admin"));
    Images.push(admin, "team/app", "v1", 1, 1);
    Images.push(admin, "ops/secret", "v1", 1, 2);
    Images.push(admin, "public/base", "v1", 1, 3);
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  /** One row: what is sent, what must come back, and the secret that must not be echoed. */
  record Case(String what, String method, String path, String authorization, int status, String code, String secret) {}

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String token(ObjectNode header, ObjectNode claims, String signature) throws Exception {
    return "Bearer " + B64.encodeToString(JSON.writeValueAsBytes(header)) + "."
        + B64.encodeToString(JSON.writeValueAsBytes(claims)) + "." + signature;
  }

  private List<Case> table() throws Exception {
    String good = AuthFixture.token(node.url(), "bob", "repository:team/app:pull").substring(7);
    String[] parts = good.split("\\.");
    ObjectNode header = (ObjectNode) JSON.readTree(Base64.getUrlDecoder().decode(parts[0]));
    ObjectNode claims = (ObjectNode) JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    ObjectNode adminClaims = claims.deepCopy();
    adminClaims.put("sub", "admin");
    adminClaims.putArray("access").addObject().put("type", "repository").put("name", "ops/secret")
        .putArray("actions").add("pull").add("push").add("delete");
    ObjectNode none = JSON.createObjectNode().put("alg", "none").put("typ", "JWT");
    ObjectNode hs = header.deepCopy().put("alg", "HS256");
    // the same claims signed by a key the node never made, under a kid that names the node
    TokenKeys stranger = new TokenKeys(TokenKeys.nodeOf(header.get("kid").asText()).orElseThrow(),
        Duration.ofMinutes(5), Clock.systemUTC());
    String strangerToken = "Bearer " + new TokenService(stranger, Duration.ofMinutes(5), Clock.systemUTC(),
        (n, k) -> io.vertx.core.Future.failedFuture("none")).issue("admin", List.of(new Grant("repository",
        "ops/secret", Set.of("pull", "push", "delete")))).token();
    ObjectNode expired = claims.deepCopy();
    expired.put("exp", 1_000_000_000L).put("nbf", 999_999_000L).put("iat", 999_999_000L);
    String secretPath = "/v2/ops/secret/tags/list";
    List<Case> t = new ArrayList<>();
    t.add(new Case("Basic without credentials", "GET", secretPath, "Basic", 401, "UNAUTHORIZED", null));
    t.add(new Case("Basic not base64", "GET", secretPath, "Basic !!!not*base64", 401, "UNAUTHORIZED", null));
    t.add(new Case("Basic without a colon", "GET", secretPath, "Basic " + b64("adminadmin-pw"), 401, "UNAUTHORIZED",
        "adminadmin-pw"));
    t.add(new Case("Basic with an empty user", "GET", secretPath, "Basic " + b64(":admin-pw"), 401, "UNAUTHORIZED",
        "admin-pw"));
    t.add(new Case("wrong password", "GET", secretPath, basic("admin", "guess-1"), 401, "UNAUTHORIZED", "guess-1"));
    t.add(new Case("unknown user", "GET", secretPath, basic("mallory", "guess-2"), 401, "UNAUTHORIZED", "guess-2"));
    t.add(new Case("the reserved user anonymous", "GET", secretPath, basic("anonymous", "x-guess-3"), 401,
        "UNAUTHORIZED", "x-guess-3"));
    t.add(new Case("an API key that does not exist", "GET", secretPath, basic("admin", "flt_nope_secretsecret"), 401,
        "UNAUTHORIZED", "secretsecret"));
    t.add(new Case("huge credentials", "GET", secretPath, "Basic " + "A".repeat(7_000), 401, "UNAUTHORIZED", null));
    t.add(new Case("unknown scheme", "GET", secretPath, "Digest username=\"admin\"", 401, "UNAUTHORIZED", null));
    t.add(new Case("garbage bearer", "GET", secretPath, "Bearer not.a.token", 401, "UNAUTHORIZED", null));
    t.add(new Case("alg none", "GET", secretPath, token(none, adminClaims, ""), 401, "UNAUTHORIZED", null));
    t.add(new Case("HS256 with the public key id", "GET", secretPath, token(hs, adminClaims, parts[2]), 401,
        "UNAUTHORIZED", null));
    t.add(new Case("claims changed under a valid signature", "GET", secretPath, token(header, adminClaims, parts[2]),
        401, "UNAUTHORIZED", null));
    t.add(new Case("signed by a stranger's key", "GET", secretPath, strangerToken, 401, "UNAUTHORIZED", null));
    t.add(new Case("expired", "GET", "/v2/team/app/tags/list", token(header, expired, parts[2]), 401, "UNAUTHORIZED",
        null));
    t.add(new Case("a token scoped to another repository", "GET", "/v2/public/base/tags/list", "Bearer " + good, 401,
        "UNAUTHORIZED", null));
    String aliceRead = AuthFixture.token(node.url(), "alice", "repository:team/app:pull");
    t.add(new Case("a read token used to delete", "DELETE", "/v2/team/app/manifests/v1", aliceRead, 401,
        "UNAUTHORIZED", null));
    t.add(new Case("bob's token for what bob may not read", "GET", secretPath, "Bearer " + good, 403, "DENIED", null));
    t.add(new Case("bob deletes", "DELETE", "/v2/team/app/manifests/v1", basic("bob"), 403, "DENIED", null));
    t.add(new Case("bob deletes a repository", "DELETE", "/api/v1/repositories/team/app", basic("bob"), 403, "DENIED",
        null));
    t.add(new Case("anonymous pushes", "POST", "/v2/public/base/blobs/uploads/", null, 401, "UNAUTHORIZED", null));
    t.add(new Case("dot-dot out of team/", "GET", "/v2/team/../ops/secret/tags/list", basic("bob"), 400,
        "NAME_INVALID", null));
    t.add(new Case("dot-dot, anonymous", "GET", "/v2/public/../ops/secret/tags/list", null, 401, "UNAUTHORIZED",
        null));
    t.add(new Case("an encoded slash is the same name", "GET", "/v2/ops%2Fsecret/tags/list", basic("bob"), 403,
        "DENIED", null));
    t.add(new Case("upper case", "GET", "/v2/OPS/secret/tags/list", basic("bob"), 400, "NAME_INVALID", null));
    t.add(new Case("upper case, anonymous", "GET", "/v2/Team/app/tags/list", null, 401, "UNAUTHORIZED", null));
    t.add(new Case("encoded dot-dot", "GET", "/v2/team/%2e%2e/ops/secret/tags/list", basic("bob"), 400,
        "NAME_INVALID", null));
    return t;
  }

  private static String snapshot() throws Exception {
    StringBuilder s = new StringBuilder(OciClient.text(admin.get("/v2/_catalog")));
    for (String repo : List.of("team/app", "ops/secret", "public/base")) {
      s.append(OciClient.text(admin.get("/v2/" + repo + "/tags/list")));
      s.append(admin.get("/v2/" + repo + "/manifests/v1", Map.of("Accept", "application/vnd.oci.image.manifest.v1+json"))
          .headers().firstValue("Docker-Content-Digest").orElse("missing"));
    }
    JsonNode usage = JSON.readTree(admin.get("/api/v1/storage/usage").body());
    return s.append(usage.path("storedBytes").asLong()).toString();
  }

  @Test
  void everyBadRequestIsRefusedWithItsCodeAndChangesNothing() throws Exception {
    String before = snapshot();
    List<String> wrong = new ArrayList<>();
    for (Case c : table()) {
      Map<String, String> h = c.authorization() == null ? Map.of() : Map.of("Authorization", c.authorization());
      var r = anonymous.send(c.method(), c.path(), null, h);
      String body = OciClient.text(r);
      String code = body.startsWith("{") ? JSON.readTree(body).path("errors").path(0).path("code").asText() : body;
      if (r.statusCode() != c.status() || !code.equals(c.code())) {
        wrong.add(c.what() + ": expected " + c.status() + " " + c.code() + ", got " + r.statusCode() + " " + body);
      }
      if (c.secret() != null && (body.contains(c.secret()) || r.headers().toString().contains(c.secret()))) {
        wrong.add(c.what() + ": the answer echoes the secret");
      }
      if (c.status() == 401 && c.path().startsWith("/v2/")
          && !r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer realm=")) {
        wrong.add(c.what() + ": a 401 without the Bearer challenge");
      }
    }
    assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    assertEquals(before, snapshot(), "a refused request changed the registry");
  }

  @Test
  void tooManyFailedLoginsAreAnswered429AndCounted() throws Exception {
    try (TestNode strict = TestNode.start(tmp.resolve("strict"),
        AuthFixture.config(AuthFixture.htpasswd(tmp.resolve("auth2")), 3))) {
      OciClient c = new OciClient(strict.url());
      for (int i = 0; i < 3; i++) {
        assertEquals(401, c.get("/v2/", Map.of("Authorization", basic("alice", "wrong-" + i))).statusCode());
      }
      var blocked = c.get("/v2/", Map.of("Authorization", basic("alice")));
      assertEquals(429, blocked.statusCode(), "even the right password waits out the minute");
      long retry = Long.parseLong(blocked.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(retry >= 1 && retry <= 60, "Retry-After " + retry);
      var token = c.get("/auth/token?service=flotilla", Map.of("Authorization", basic("bob")));
      assertEquals(429, token.statusCode(), "the token endpoint is throttled by address too");
      String metrics = OciClient.text(c.get("/metrics"));
      assertTrue(metrics.contains("flotilla_auth_failures_total 3.0"), "failures counted");
      assertFalse(metrics.contains("flotilla_auth_throttled_total 0.0"), "throttled attempts counted");
      assertFalse(metrics.contains("wrong-0"));
    }
  }
}
