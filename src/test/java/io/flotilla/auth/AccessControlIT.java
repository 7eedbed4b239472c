package io.flotilla.auth;

import static io.flotilla.auth.AuthFixture.basic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access control on one node, over raw HTTP: the token flow, Basic on /v2, create versus update,
 * the filtered catalog, the admin API, events naming the user, and the table of bad credentials and
 * path tricks, each answered with the right status and OCI code and changing nothing.
 */
class AccessControlIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path tmp;
  static TestNode node;
  static OciClient anonymous;
  static OciClient admin;
  static OciClient alice;
  static final List<JsonObject> events = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    node = TestNode.start(tmp.resolve("data"), AuthFixture.config(AuthFixture.htpasswd(tmp.resolve("auth")), 1000));
    io.vertx.core.Vertx vertx = node.node().vertx();
    vertx.eventBus().<String>consumer("flotilla.events", m -> new JsonObject(m.body()).getJsonArray("events")
        .forEach(e -> events.add((JsonObject) e)));
    vertx.eventBus().publish("flotilla.events.subscribe", "access-control-it");
    vertx.setPeriodic(10_000, t -> vertx.eventBus().publish("flotilla.events.subscribe", "access-control-it"));
    anonymous = new OciClient(node.url());
    admin = anonymous.as(basic("admin"));
    alice = anonymous.as(basic("alice"));
    Images.push(alice, "team/app", "v1", 1, 1);
    Images.push(alice, "team/lib", "v1", 1, 2);
    Images.push(admin, "public/base", "v1", 1, 3);
    Images.push(admin, "public/tools", "v1", 1, 4);
    Images.push(admin, "ops/secret", "v1", 1, 5);
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static String code(HttpResponse<byte[]> r) throws Exception {
    JsonNode n = JSON.readTree(r.body());
    return n.path("errors").path(0).path("code").asText();
  }

  @Test
  void anonymousBaseRequestGetsTheBearerChallenge() {
    var r = anonymous.get("/v2/");
    assertEquals(401, r.statusCode());
    assertEquals("Bearer realm=\"" + node.url() + "/auth/token\",service=\"flotilla\"",
        r.headers().firstValue("WWW-Authenticate").orElseThrow());
    assertEquals(200, alice.get("/v2/").statusCode());
  }

  @Test
  void tokensGrantOnlyWhatPoliciesAllow() throws Exception {
    String bob = AuthFixture.token(node.url(), "bob", "repository:team/app:pull,push");
    OciClient viaToken = anonymous.as(bob);
    assertEquals(200, viaToken.get("/v2/team/app/manifests/v1",
        Map.of("Accept", "application/vnd.oci.image.manifest.v1+json")).statusCode());
    var push = viaToken.send("POST", "/v2/team/app/blobs/uploads/", null, Map.of());
    assertEquals(403, push.statusCode(), "bob may only read team/**");
    assertEquals("DENIED", code(push));
    // a token for one repository does not open another
    var other = viaToken.get("/v2/team/lib/tags/list");
    assertEquals(401, other.statusCode());
    assertTrue(other.headers().firstValue("WWW-Authenticate").orElseThrow()
        .endsWith("scope=\"repository:team/lib:pull\""));
    // alice's token pushes
    OciClient aliceToken = anonymous.as(AuthFixture.token(node.url(), "alice", "repository:team/new:pull,push"));
    Images.push(aliceToken, "team/new", "v1", 1, 10);
    // an anonymous token reads public/**, nothing else
    OciClient anon = anonymous.as(AuthFixture.token(node.url(), null, "repository:public/base:pull",
        "repository:team/app:pull"));
    assertEquals(200, anon.get("/v2/public/base/tags/list").statusCode());
    assertEquals(401, anon.get("/v2/team/app/tags/list").statusCode());
    // wrong password at the token endpoint
    var bad = anonymous.get("/auth/token?service=flotilla", Map.of("Authorization", basic("alice", "nope")));
    assertEquals(401, bad.statusCode());
  }

  @Test
  void basicCredentialsWorkDirectlyAndDenialsCarryOciCodes() throws Exception {
    assertEquals(200, anonymous.get("/v2/public/base/tags/list").statusCode(), "anonymous reads public/**");
    var r = anonymous.get("/v2/team/app/tags/list");
    assertEquals(401, r.statusCode());
    assertEquals("UNAUTHORIZED", code(r));
    assertTrue(r.headers().firstValue("WWW-Authenticate").orElseThrow().contains("scope=\"repository:team/app:pull\""));
    var bobPush = anonymous.as(basic("bob")).send("POST", "/v2/team/app/blobs/uploads/", null, Map.of());
    assertEquals(403, bobPush.statusCode());
    assertEquals("DENIED", code(bobPush));
    var bobDelete = anonymous.as(basic("bob")).send("DELETE", "/v2/team/app/manifests/v1", null, Map.of());
    assertEquals(403, bobDelete.statusCode());
    // a repository the caller may not read answers the same whether it exists or not
    var exists = anonymous.as(basic("bob")).get("/v2/ops/secret/tags/list");
    var missing = anonymous.as(basic("bob")).get("/v2/ops/nothing-here/tags/list");
    assertEquals(403, exists.statusCode());
    assertEquals(exists.statusCode(), missing.statusCode());
    assertEquals(code(exists), code(missing));
  }

  @Test
  void createDoesNotMoveATagUpdateDoes() throws Exception {
    OciClient robot = anonymous.as(basic("robot"));
    Images.push(robot, "ci/build", "v1", 1, 20);
    Images.Pushed again = Images.push(admin, "ci/scratch", "x", 1, 21);
    // moving ci/build:v1 to another manifest needs update, which robot lacks
    for (Digest layer : again.layers()) {
      robot.pushBlob("ci/build", admin.get("/v2/ci/scratch/blobs/" + layer).body());
    }
    robot.pushBlob("ci/build", admin.get("/v2/ci/scratch/blobs/" + again.config()).body());
    var move = robot.putManifest("ci/build", "v1", "application/vnd.oci.image.manifest.v1+json", again.body());
    assertEquals(403, move.statusCode(), new String(move.body(), StandardCharsets.UTF_8));
    assertEquals("DENIED", code(move));
    // a new tag is a create
    var fresh = robot.putManifest("ci/build", "v2", "application/vnd.oci.image.manifest.v1+json", again.body());
    assertEquals(201, fresh.statusCode(), new String(fresh.body(), StandardCharsets.UTF_8));
    // and alice, with update on team/**, moves tags
    Images.Pushed a2 = Images.push(alice, "team/app", "v1", 1, 22);
    assertEquals(a2.manifest().toString(), alice.get("/v2/team/app/manifests/v1",
        Map.of("Accept", "application/vnd.oci.image.manifest.v1+json")).headers()
        .firstValue("Docker-Content-Digest").orElseThrow());
  }

  @Test
  void theCatalogListsOnlyReadableRepositoriesWithCorrectPaging() throws Exception {
    assertEquals(List.of("public/base", "public/tools"), AuthFixture.catalog(anonymous, 100));
    List<String> bob = AuthFixture.catalog(anonymous.as(basic("bob")), 2);
    assertTrue(bob.containsAll(List.of("public/base", "public/tools", "team/app", "team/lib")), bob.toString());
    assertFalse(bob.contains("ops/secret") || bob.stream().anyMatch(r -> r.startsWith("ci/")), bob.toString());
    assertTrue(AuthFixture.catalog(admin, 2).contains("ops/secret"));
    // a bearer token needs the catalog scope
    var noScope = anonymous.as(AuthFixture.token(node.url(), "bob")).get("/v2/_catalog");
    assertEquals(401, noScope.statusCode());
    assertEquals(bob, AuthFixture.catalog(anonymous.as(AuthFixture.token(node.url(), "bob", "registry:catalog:*")), 2));
  }

  @Test
  void theAdminApiIsForAdmins() throws Exception {
    var none = anonymous.get("/api/v1/cluster");
    assertEquals(401, none.statusCode());
    assertEquals("Basic realm=\"flotilla\"", none.headers().firstValue("WWW-Authenticate").orElseThrow());
    assertEquals(403, alice.get("/api/v1/cluster").statusCode());
    assertEquals(200, admin.get("/api/v1/cluster").statusCode());
    var leave = anonymous.send("POST", "/api/v1/cluster/leave", null, Map.of());
    assertEquals(401, leave.statusCode());
    var del = alice.send("DELETE", "/api/v1/repositories/public/base", null, Map.of());
    assertEquals(403, del.statusCode());
    assertEquals(200, anonymous.get("/v2/public/base/tags/list").statusCode(), "nothing was deleted");
    var hook = alice.send("POST", "/api/v1/webhooks", "{\"name\":\"x\",\"url\":\"http://example.com/\"}"
        .getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    assertEquals(403, hook.statusCode());
    assertEquals(200, anonymous.get("/health/ready").statusCode());
  }

  @Test
  void eventsNameTheAuthenticatedUser() throws Exception {
    Images.push(alice, "team/evented", "v1", 1, 30);
    io.flotilla.testing.Await.until("the push event", java.time.Duration.ofSeconds(10), () -> events.stream()
        .anyMatch(e -> "team/evented".equals(e.getJsonObject("target", new JsonObject()).getString("repository"))));
    for (JsonObject e : events) {
      if ("team/evented".equals(e.getJsonObject("target", new JsonObject()).getString("repository"))) {
        assertEquals("alice", e.getJsonObject("actor").getString("name"), e.encode());
      }
    }
  }

  @Test
  void anApiKeyIsAPasswordForBasicAndTheTokenEndpointUntilRevoked() throws Exception {
    OciClient robot = anonymous.as(basic("robot"));
    var created = robot.send("POST", "/api/v1/apikeys", "{\"name\":\"ci\",\"expiresIn\":\"1d\"}"
        .getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    assertEquals(201, created.statusCode(), OciClient.text(created));
    JsonNode key = JSON.readTree(created.body());
    OciClient viaKey = anonymous.as(basic("robot", key.get("key").asText()));
    Images.push(viaKey, "ci/keyed", "v1", 1, 40);
    var token = anonymous.get("/auth/token?service=flotilla&scope=repository:ci/keyed:pull",
        Map.of("Authorization", basic("robot", key.get("key").asText())));
    assertEquals(200, token.statusCode());
    // the key is robot's: it is no one else's password
    assertEquals(401, anonymous.get("/v2/", Map.of("Authorization", basic("alice", key.get("key").asText())))
        .statusCode());
    var listed = OciClient.text(robot.get("/api/v1/apikeys"));
    assertFalse(listed.contains(key.get("key").asText().substring(20)), "a listing never shows the secret");
    assertEquals(204, robot.send("DELETE", "/api/v1/apikeys/" + key.get("id").asText(), null, Map.of()).statusCode());
    assertEquals(401, viaKey.get("/v2/").statusCode(), "a revoked key no longer authenticates");
  }
}
