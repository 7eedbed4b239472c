package io.flotilla.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.flotilla.bus.RecordCodec;
import io.flotilla.cluster.Membership;
import io.flotilla.cluster.PeerWatch;
import io.flotilla.testing.Await;
import io.flotilla.testing.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * API keys between two clustered Vert.x nodes in one JVM (Hazelcast on loopback, a fresh cluster
 * name per run), each with its own data folder: a key created on one verifies on the other, a
 * revocation on either stops it on both, and a node that was down when a key was created knows it
 * once it is back. Nothing but the event bus connects the two sets. And {@code /api/v1/apikeys}
 * on one such node, with a stand-in for the authenticator.
 */
class ApiKeyReplicationIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dirA;
  @TempDir
  Path dirB;
  private final String cluster = "flotilla-apikeys-it-" + UUID.randomUUID();
  private final List<Integer> ports = List.of(TestNode.freePort(), TestNode.freePort());
  private TestPeer a;
  private TestPeer b;

  /** One node: clustered Vert.x, membership, and the replication verticle over its own folder. */
  record TestPeer(Vertx vertx, Membership membership, ApiKeyReplication replication) {
    ApiKeys keys() {
      return replication.keys();
    }

    void close() throws Exception {
      membership.close();
      vertx.close().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (TestPeer p : new TestPeer[] {a, b}) {
      if (p != null) {
        p.close();
      }
    }
  }

  @Test
  void keysAndRevocationsReachEveryNodeAndANodeThatWasDownCatchesUp() throws Exception {
    a = start(1, dirA);
    b = start(2, dirB);
    awaitMembers(a, 2);
    awaitMembers(b, 2);

    ApiKeys.Created k1 = get(a.replication().create("alice", "ci", 0));
    assertEquals(Optional.of("alice"), b.keys().verify(k1.key()), "pushed before the create completed");

    ApiKeys.Created k2 = get(b.replication().create("bob", "deploy", 0));
    assertEquals(Optional.of("bob"), a.keys().verify(k2.key()));

    assertTrue(get(b.replication().revoke(k1.apiKey().id(), System.currentTimeMillis())).isPresent());
    assertEquals(Optional.empty(), b.keys().verify(k1.key()));
    assertEquals(Optional.empty(), a.keys().verify(k1.key()), "revoked on b, refused on a");
    assertEquals(Optional.of("bob"), a.keys().verify(k2.key()));

    b.close();
    b = null;
    awaitMembers(a, 1);
    ApiKeys.Created k3 = get(a.replication().create("carol", "while-b-was-down", 0));
    assertTrue(get(a.replication().revoke(k2.apiKey().id(), System.currentTimeMillis())).isPresent());

    b = start(2, dirB);
    assertEquals(Optional.of("carol"), b.keys().verify(k3.key()), "learnt in b's first round, before it serves");
    assertEquals(Optional.empty(), b.keys().verify(k2.key()), "and the revocation made meanwhile");
    assertEquals(Optional.empty(), b.keys().verify(k1.key()));
    assertEquals(a.keys().listAll(), b.keys().listAll());
    assertFalse(ApiKeys.open(dirB).verify(k3.key()).isEmpty(), "and saved it");
  }

  @Test
  void aPushThatFailedIsHealedByTheNextRound() throws Exception {
    a = start(1, dirA);
    b = start(2, dirB);
    awaitMembers(a, 2);
    awaitMembers(b, 2);
    // a change b never hears of directly: made on a's set without the replication's push
    ApiKeys.Created k = a.vertx().executeBlocking(() -> a.keys().create("dave", "quiet", 0))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Await.until("b learns the key by anti-entropy", WAIT, () -> b.keys().verify(k.key()).isPresent());
  }

  @Test
  void theHttpApiCreatesOnceListsWithoutSecretsAndRevokesOnlyWhatTheCallerMay() throws Exception {
    a = start(1, dirA);
    Router router = Router.router(a.vertx());
    router.route().handler(rc -> { // stands in for the authenticator: X-User names the caller
      String user = rc.request().getHeader("X-User");
      if (user != null) {
        rc.put(Principal.KEY, new Principal(user, Set.of(), "root".equals(user)));
      }
      rc.next();
    });
    ApiKeyApi.mount(router, a.replication(), true);
    Router off = Router.router(a.vertx());
    ApiKeyApi.mount(off, a.replication(), false);
    int port = get(a.vertx().createHttpServer().requestHandler(router).listen(0, "127.0.0.1")).actualPort();
    int offPort = get(a.vertx().createHttpServer().requestHandler(off).listen(0, "127.0.0.1")).actualPort();
    Http http = new Http(port);

    HttpResponse<String> anonymous = http.send("GET", "", null, "{}");
    assertEquals(401, anonymous.statusCode());
    assertTrue(anonymous.body().contains("\"error\""), anonymous.body());
    assertEquals(404, new Http(offPort).send("GET", "", "alice", null).statusCode());
    assertTrue(new Http(offPort).send("GET", "", "alice", null).body().contains("access control is off"));

    HttpResponse<String> created = http.send("POST", "", "alice", "{\"name\":\"ci\",\"expiresIn\":\"30d\"}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("no-store", created.headers().firstValue("Cache-Control").orElse(""));
    JsonObject c = new JsonObject(created.body());
    assertEquals("alice", c.getString("user"));
    assertEquals("ci", c.getString("name"));
    assertTrue(c.getString("expires") != null && c.getString("created") != null);
    assertEquals(Optional.of("alice"), a.keys().verify(c.getString("key")));

    assertEquals(400, http.send("POST", "", "alice", "{\"name\":\"ci\",\"expiresIn\":\"soon\"}").statusCode());
    assertEquals(400, http.send("POST", "", "alice", "not json").statusCode());
    assertEquals(400, http.send("POST", "", "alice", "{}").statusCode());
    assertEquals(403, http.send("POST", "", "alice", "{\"name\":\"x\",\"user\":\"bob\"}").statusCode());
    HttpResponse<String> forBob = http.send("POST", "", "root", "{\"name\":\"deploy\",\"user\":\"bob\"}");
    assertEquals(201, forBob.statusCode(), forBob.body());
    String bobsId = new JsonObject(forBob.body()).getString("id");

    HttpResponse<String> mine = http.send("GET", "", "alice", null);
    assertEquals(200, mine.statusCode());
    JsonArray list = new JsonArray(mine.body());
    assertEquals(1, list.size());
    assertEquals("live", list.getJsonObject(0).getString("status"));
    assertFalse(mine.body().contains(c.getString("key").substring(21)), "no secret");
    assertFalse(mine.body().contains(a.keys().listAll().get(0).secretSha256()), "no hash");
    assertEquals(403, http.send("GET", "?user=bob", "alice", null).statusCode());
    assertEquals(2, new JsonArray(http.send("GET", "", "root", null).body()).size());
    assertEquals(1, new JsonArray(http.send("GET", "?user=bob", "root", null).body()).size());

    assertEquals(404, http.send("DELETE", "/" + bobsId, "alice", null).statusCode(), "someone else's key");
    assertEquals(404, http.send("DELETE", "/NoSuchKey", "alice", null).statusCode());
    assertEquals(204, http.send("DELETE", "/" + c.getString("id"), "alice", null).statusCode());
    assertEquals(Optional.empty(), a.keys().verify(c.getString("key")));
    assertEquals("revoked", new JsonArray(http.send("GET", "", "alice", null).body()).getJsonObject(0).getString("status"));
    assertEquals(204, http.send("DELETE", "/" + bobsId, "root", null).statusCode(), "an admin revokes any key");
  }

  /** Calls the API on a port as the user named (null: anonymous). */
  record Http(int port) {
    HttpResponse<String> send(String method, String path, String user, String body) throws Exception {
      HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + ApiKeyApi.BASE + path))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
      if (user != null) {
        r.header("X-User", user);
      }
      return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  private TestPeer start(int i, Path dir) throws Exception {
    HazelcastClusterManager manager = new HazelcastClusterManager(config(i));
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1");
    Vertx vertx = get(Vertx.builder().with(options).withClusterManager(manager).buildClustered());
    RecordCodec.registerAll(vertx.eventBus());
    Membership membership = Membership.start(manager.getHazelcastInstance());
    PeerWatch.follow(vertx, membership);
    ApiKeys keys = get(vertx.executeBlocking(() -> ApiKeys.open(dir)));
    ApiKeyReplication replication = new ApiKeyReplication(keys, membership, "node-" + i, 500);
    get(vertx.deployVerticle(replication));
    return new TestPeer(vertx, membership, replication);
  }

  private Config config(int i) {
    Config c = new Config();
    c.setClusterName(cluster);
    c.setInstanceName(cluster + "-" + i + "-" + UUID.randomUUID());
    c.setProperty("hazelcast.phone.home.enabled", "false");
    c.setProperty("hazelcast.shutdownhook.enabled", "false");
    c.setProperty("hazelcast.logging.type", "jdk");
    c.setProperty("hazelcast.socket.bind.any", "false");
    c.setProperty("hazelcast.wait.seconds.before.join", "0");
    NetworkConfig net = c.getNetworkConfig();
    int port = ports.get(i - 1);
    net.setPort(port).setPortAutoIncrement(false).setPublicAddress("127.0.0.1:" + port);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(ports.stream().map(p -> "127.0.0.1:" + p).toList());
    return Membership.tagConfig(c, "node-" + i, "127.0.0.1:" + (8000 + i));
  }

  private static void awaitMembers(TestPeer p, int n) throws Exception {
    Await.until(n + " members", WAIT, () -> p.membership().current().size() == n);
  }

  private static <T> T get(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
  }
}
