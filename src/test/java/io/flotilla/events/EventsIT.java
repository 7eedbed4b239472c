package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import io.flotilla.testing.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry events end to end on a 2-node cluster with real webhook receivers: every operation is
 * delivered once (push, pull, mount, delete), signed, in order per repository, filtered as
 * configured; a receiver that is down gets everything once it is back; a node killed with
 * {@code kill -9} while events are pending delivers every acknowledged event after it restarts; a
 * receiver that fails forever dead-letters, and replay delivers; a mount from a repository held by
 * other nodes (a third node joins) is reported once, by the target's primary.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "s3cret-for-tests";

  @TempDir
  static Path dir;
  static ProcessCluster cluster;
  static WebhookReceiver receiver;

  @RegisterExtension
  static final NodeLogsOnFailure NODE_LOGS_ON_FAILURE = NodeLogsOnFailure.of(() -> cluster);

  @BeforeAll
  static void start() throws Exception {
    receiver = new WebhookReceiver();
    cluster = ProcessCluster.start(dir, 2, "127.0.0.1", Map.of("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2",
        "FLOTILLA_EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", "true")); // the receiver is on 127.0.0.1
    OciClient admin = client(0);
    expectStatus(admin.send("POST", "/api/v1/webhooks", json("""
        {"name":"all","url":"%s","secret":"%s","backoff":"100ms","maxBackoff":"500ms","maxAttempts":1000}
        """.formatted(receiver.url("/all"), SECRET)), Map.of("Content-Type", "application/json")), 201);
    expectStatus(admin.send("POST", "/api/v1/webhooks", json("""
        {"name":"keep-pushes","url":"%s","actions":["push"],"repositories":"ev/keep/**","backoff":"100ms"}
        """.formatted(receiver.url("/keep"))), Map.of("Content-Type", "application/json")), 201);
    expectStatus(admin.send("POST", "/api/v1/webhooks", json("""
        {"name":"broken","url":"%s","actions":["push"],"repositories":"ev/broken","backoff":"50ms","maxAttempts":2}
        """.formatted(receiver.url("/broken"))), Map.of("Content-Type", "application/json")), 201);
    receiver.answer("/broken", 500);
    // both nodes know every endpoint before anything happens
    for (int i = 0; i < 2; i++) {
      OciClient c = client(i);
      awaitTrue(() -> JSON.readTree(c.get("/api/v1/webhooks").body()).size() == 3, "endpoints on node-" + i);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  @Test
  @Order(1)
  void everyOperationIsDeliveredOnceSignedAndInOrderPerRepository() throws Exception {
    Images.Pushed img = Images.push(client(0), "ev/a", "v1", 2, 1);
    var m = client(1).get("/v2/ev/a/manifests/v1", Map.of("Accept", "application/vnd.oci.image.manifest.v1+json"));
    assertEquals(200, m.statusCode());
    assertEquals(200, client(1).get("/v2/ev/a/blobs/" + img.layers().get(0)).statusCode());
    var mount = client(1).send("POST", "/v2/ev/b/blobs/uploads/?mount=" + img.config() + "&from=ev/a", null, Map.of());
    assertEquals(201, mount.statusCode());
    assertEquals(202, client(0).send("DELETE", "/v2/ev/a/manifests/" + img.manifest(), null, Map.of()).statusCode());
    assertEquals(202, client(1).send("DELETE", "/api/v1/repositories/ev/b", null, Map.of()).statusCode());
    for (int i = 0; i < 2; i++) {
      assertEquals(404, client(i).get("/v2/ev/b/blobs/" + img.config()).statusCode(), "ev/b is gone on node " + i);
      assertTrue(!OciClient.text(client(i).get("/v2/_catalog")).contains("ev/b"), "ev/b left the catalog");
    }
    var again = client(0).send("DELETE", "/api/v1/repositories/ev/b", null, Map.of());
    assertEquals(404, again.statusCode());
    assertTrue(OciClient.text(again).contains("NAME_UNKNOWN"), OciClient.text(again));

    List<String> expected = new ArrayList<>();
    expected.add("push ev/a " + img.config());
    img.layers().forEach(l -> expected.add("push ev/a " + l));
    expected.add("push ev/a " + img.manifest());
    expected.add("pull ev/a " + img.manifest());
    expected.add("pull ev/a " + img.layers().get(0));
    expected.add("mount ev/b " + img.config());
    expected.add("delete ev/a " + img.manifest());
    expected.add("delete ev/b "); // the repository: no digest, no tag
    awaitTrue(() -> keys(receiver.events("/all")).containsAll(expected), "all events at /all: " + expected);
    Thread.sleep(500); // anything extra would have arrived by now
    List<String> got = keys(receiver.events("/all"));
    assertEquals(expected.stream().sorted().toList(), got.stream().sorted().toList(), "each operation exactly once");
    // in order per repository for its writes (journaled by its primary): the push before the delete
    List<String> a = got.stream().filter(k -> k.contains(" ev/a " + img.manifest()) && !k.startsWith("pull")).toList();
    assertEquals(List.of("push ev/a " + img.manifest(), "delete ev/a " + img.manifest()), a);
    assertEquals(List.of("mount ev/b " + img.config(), "delete ev/b "),
        got.stream().filter(k -> k.contains(" ev/b ")).toList());

    for (WebhookReceiver.Received r : receiver.received("/all")) {
      assertEquals("application/vnd.docker.distribution.events.v2+json", r.header("Content-Type"));
      assertTrue(Signatures.verify(SECRET, r.body(), r.header(WebhookDispatcher.SIGNATURE_HEADER)), "signature");
      assertTrue(!Signatures.verify("wrong", r.body(), r.header(WebhookDispatcher.SIGNATURE_HEADER)));
    }
    JsonNode push = receiver.events("/all").stream()
        .filter(e -> key(e).equals("push ev/a " + img.manifest())).findFirst().orElseThrow();
    assertEquals("application/vnd.oci.image.manifest.v1+json", push.at("/target/mediaType").asText());
    assertEquals(img.body().length, push.at("/target/size").asLong());
    assertEquals("v1", push.at("/target/tag").asText());
    assertEquals("anonymous", push.at("/actor/name").asText());
    assertTrue(push.at("/source/instanceID").asText().startsWith("node-"));
    assertTrue(!push.at("/request/id").asText().isEmpty() && !push.at("/id").asText().isEmpty());
    assertEquals(img.layers().size() + 1, push.at("/target/references").size());
    JsonNode mounted = receiver.events("/all").stream().filter(e -> key(e).startsWith("mount ")).findFirst().orElseThrow();
    assertEquals("ev/a", mounted.at("/target/fromRepository").asText());
  }

  @Test
  @Order(2)
  void filtersDropExactlyWhatTheyShould() throws Exception {
    Images.Pushed kept = Images.push(client(1), "ev/keep/c", "v1", 1, 2);
    assertEquals(200, client(0).get("/v2/ev/keep/c/manifests/v1",
        Map.of("Accept", "application/vnd.oci.image.manifest.v1+json")).statusCode());
    List<String> expected = List.of("push ev/keep/c " + kept.config(), "push ev/keep/c " + kept.layers().get(0),
        "push ev/keep/c " + kept.manifest());
    awaitTrue(() -> keys(receiver.events("/keep")).containsAll(expected), "pushes of ev/keep/** at /keep");
    awaitTrue(() -> keys(receiver.events("/all")).contains("pull ev/keep/c " + kept.manifest()), "the pull at /all");
    assertEquals(expected.stream().sorted().toList(), keys(receiver.events("/keep")).stream().sorted().toList(),
        "only pushes of ev/keep/** (no pull, nothing from ev/a or ev/b)");
    assertTrue(receiver.received("/keep").stream().allMatch(r -> r.header(WebhookDispatcher.SIGNATURE_HEADER) == null),
        "an endpoint without a secret is not signed");
  }

  @Test
  @Order(3)
  void aReceiverThatIsDownGetsEverythingWhenItIsBack() throws Exception {
    receiver.stop();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Images.Pushed p = Images.push(client(i % 2), "ev/down-" + i, "v1", 1, 10 + i);
      expected.add("push ev/down-" + i + " " + p.manifest());
    }
    Thread.sleep(1500); // several failed attempts
    receiver.start();
    awaitTrue(() -> keys(receiver.events("/all")).containsAll(expected), "events pushed while the receiver was down");
  }

  @Test
  @Order(4)
  void aNodeKilledWithPendingEventsDeliversThemAfterARestart() throws Exception {
    receiver.down();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Images.Pushed p = Images.push(client(0), "ev/crash-" + i, "v1", 1, 20 + i);
      expected.add("push ev/crash-" + i + " " + p.manifest());
    }
    cluster.node(0).kill9();
    cluster.node(1).kill9();
    receiver.up();
    cluster.restart(0);
    cluster.restart(1);
    cluster.awaitMembers(2);
    awaitTrue(() -> keys(receiver.events("/all")).containsAll(expected), "acknowledged events after kill -9");
  }

  @Test
  @Order(5)
  void aReceiverThatFailsForeverDeadLettersAndReplayDelivers() throws Exception {
    Images.Pushed p = Images.push(client(0), "ev/broken", "v1", 1, 30);
    String manifestPush = "push ev/broken " + p.manifest();
    awaitTrue(() -> deadLetterKeys().contains(manifestPush), "the push dead-lettered after 2 attempts");
    assertTrue(receiver.received("/broken").isEmpty());
    receiver.answer("/broken", 200);
    for (int i = 0; i < 2; i++) {
      var r = client(i).send("POST", "/api/v1/webhooks/broken/dead-letters/replay", null, Map.of());
      assertEquals(202, r.statusCode(), OciClient.text(r));
    }
    awaitTrue(() -> keys(receiver.events("/broken")).contains(manifestPush), "replayed");
    assertTrue(deadLetterKeys().isEmpty(), "the dead-letter lists are empty after the replay");
    int attempts = 0;
    for (int i = 0; i < 2; i++) {
      JsonNode status = JSON.readTree(client(i).get("/api/v1/webhooks/broken").body());
      attempts += status.path("history").size();
      assertTrue(!status.toString().contains(SECRET));
    }
    assertTrue(attempts >= 3, "two failed attempts and the replay are in the history");
    awaitTrue(() -> {
      String metrics = OciClient.text(client(0).get("/metrics"));
      return metrics.contains("flotilla_webhook_delivered_events{endpoint=\"all\"}")
          && metrics.contains("flotilla_webhook_dead_lettered_events{endpoint=\"broken\"}");
    }, "per-endpoint metrics on /metrics");
    JsonNode all = JSON.readTree(client(0).get("/api/v1/webhooks/all").body());
    assertTrue(!all.toString().contains(SECRET) && all.path("delivered").asLong() >= 0, all.toString());
  }

  @Test
  @Order(6)
  void aMountFromARepositoryOnAnotherNodeIsReportedOnceByTheTargetsPrimary() throws Exception {
    // a third node, so that a repository's two owners can leave out the mount target's primary
    cluster.add();
    cluster.awaitMembers(3);
    OciClient third = client(2);
    awaitTrue(() -> JSON.readTree(third.get("/api/v1/webhooks").body()).size() == 3, "endpoints on node-2");
    String source = repositoryWhere("ev/mount-src", rank -> !rank.get(0).equals("node-2") && !rank.get(1).equals("node-2"));
    String target = repositoryWhere("ev/mount-dst", rank -> rank.get(0).equals("node-2"));
    Images.Pushed img = Images.push(client(0), source, "v1", 1, 40);
    var mount = client(1).send("POST", "/v2/" + target + "/blobs/uploads/?mount=" + img.config() + "&from=" + source,
        null, Map.of("User-Agent", "mount-test"));
    assertEquals(201, mount.statusCode(), OciClient.text(mount));
    assertEquals(200, third.get("/v2/" + target + "/blobs/" + img.config()).statusCode());

    String key = "mount " + target + " " + img.config();
    awaitTrue(() -> keys(receiver.events("/all")).contains(key), "the cross-node mount at /all");
    Thread.sleep(500); // a second report would have arrived by now
    List<JsonNode> mounts = receiver.events("/all").stream().filter(e -> key(e).equals(key)).toList();
    assertEquals(1, mounts.size(), "reported exactly once: " + mounts);
    JsonNode e = mounts.get(0);
    assertEquals(source, e.at("/target/fromRepository").asText());
    assertEquals("node-2", e.at("/source/instanceID").asText(), "by the target's primary");
    assertEquals("anonymous", e.at("/actor/name").asText(), "the caller's identity, not the node's");
    assertEquals("POST", e.at("/request/method").asText());
    assertEquals("mount-test", e.at("/request/useragent").asText());
    assertTrue(keys(receiver.events("/all")).stream().noneMatch(k -> k.startsWith("push " + target + " ")),
        "the copy behind the mount is not reported as a push");
  }

  // ------------------------------------------------------------------ helpers

  /** The first of {@code base}, {@code base-1}... whose owner ranking over node-0..2 (rendezvous) satisfies {@code want}. */
  private static String repositoryWhere(String base, java.util.function.Predicate<List<String>> want) {
    for (int k = 0; k < 10_000; k++) {
      String name = k == 0 ? base : base + "-" + k;
      List<String> rank = new ArrayList<>(List.of("node-0", "node-1", "node-2"));
      rank.sort((x, y) -> Long.compareUnsigned(io.flotilla.cluster.Placement.score(y, name),
          io.flotilla.cluster.Placement.score(x, name)));
      if (want.test(rank)) {
        return name;
      }
    }
    throw new IllegalStateException("no repository name like " + base);
  }

  private static List<String> deadLetterKeys() throws Exception {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      for (JsonNode d : JSON.readTree(client(i).get("/api/v1/webhooks/broken/dead-letters").body())) {
        if (d.hasNonNull("event")) {
          out.add(key(d.get("event")));
        }
      }
    }
    return out;
  }

  private static String key(JsonNode e) {
    return e.path("action").asText() + " " + e.at("/target/repository").asText() + " " + e.at("/target/digest").asText();
  }

  private static List<String> keys(List<JsonNode> events) {
    return events.stream().map(EventsIT::key).toList();
  }

  private static OciClient client(int i) {
    return new OciClient(cluster.node(i).url());
  }

  private static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void expectStatus(java.net.http.HttpResponse<byte[]> r, int status) {
    assertEquals(status, r.statusCode(), OciClient.text(r));
  }

  private static void awaitTrue(Await.Check check, String what) throws Exception {
    Await.until(what, Duration.ofSeconds(60), check);
  }
}
