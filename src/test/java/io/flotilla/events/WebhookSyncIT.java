package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.cluster.Placement;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import io.flotilla.testing.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * API-managed webhook endpoints reach nodes that were not up when they were changed: a node that
 * joins later knows an endpoint created before it joined (as soon as it is ready) and delivers the
 * events it emits to it; a node stopped while endpoints were deleted, created and paused has, once
 * restarted, exactly the cluster's endpoints (the deleted one gone, with its saved state).
 */
class WebhookSyncIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void joiningAndRestartedNodesAdoptTheClustersEndpoints() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver();
        ProcessCluster cluster = ProcessCluster.start(dir, 2, "127.0.0.1",
            Map.of("FLOTILLA_EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", "true"))) { // the receiver is on 127.0.0.1
      try {
        OciClient first = new OciClient(cluster.node(0).url());
        create(first, "early", receiver.url("/early"));
        awaitTrue(() -> endpoints(new OciClient(cluster.node(1).url())).containsKey("early"), "early on node-1");

        // a 3rd node joins: it knows the endpoint as soon as it is ready (synced during its start)
        OciClient third = new OciClient(cluster.add().url());
        assertEquals(Map.of("early", false), endpoints(third));
        cluster.awaitMembers(3);
        // a repository whose primary is node-2, so the push is performed (and reported) by node-2
        String repo = primaryOn("node-2", "sync/joined");
        Images.Pushed pushed = Images.push(third, repo, "v1", 1, 7);
        awaitTrue(() -> receiver.events("/early").stream().anyMatch(e -> e.path("action").asText().equals("push")
            && e.at("/target/digest").asText().equals(pushed.manifest().toString())
            && e.at("/source/instanceID").asText().equals("node-2")), "node-2's push event at /early");

        // node-1 is down while an endpoint is deleted, another created and a third one paused
        create(first, "paused", receiver.url("/paused"));
        awaitTrue(() -> endpoints(new OciClient(cluster.node(1).url())).containsKey("paused"), "paused on node-1");
        cluster.node(1).terminate();
        cluster.awaitMembers(2);
        OciClient.expect(first.send("DELETE", "/api/v1/webhooks/early", null, Map.of()), 202);
        create(third, "later", receiver.url("/later"));
        OciClient.expect(third.send("POST", "/api/v1/webhooks/paused/pause", null, Map.of()), 202);
        Map<String, Boolean> expected = Map.of("later", false, "paused", true);
        awaitTrue(() -> endpoints(first).equals(expected) && endpoints(third).equals(expected), "changes on live nodes");

        OciClient restarted = new OciClient(cluster.restart(1).url());
        assertEquals(expected, endpoints(restarted), "node-1 has the cluster's endpoints as soon as it is ready");
        assertFalse(Files.exists(dir.resolve("node1/events/webhooks/early")), "the deleted endpoint's saved state");
        assertTrue(Files.exists(dir.resolve("node1/events/webhooks/later/endpoint.json")));
      } catch (Throwable t) {
        for (int i = 0; i < cluster.nodes().size(); i++) {
          String[] lines = cluster.node(i).output().split("\n");
          System.err.println("---- tail of node-" + i + " ----\n"
              + String.join("\n", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - 30), lines.length)));
        }
        throw t;
      }
    }
  }

  /** The first of {@code base}, {@code base-1}... whose highest rendezvous score among node-0..2 is {@code node}'s. */
  private static String primaryOn(String node, String base) {
    for (int k = 0; k < 10_000; k++) {
      String name = k == 0 ? base : base + "-" + k;
      String best = null;
      for (String n : new String[] {"node-0", "node-1", "node-2"}) {
        if (best == null || Long.compareUnsigned(Placement.score(n, name), Placement.score(best, name)) > 0) {
          best = n;
        }
      }
      if (best.equals(node)) {
        return name;
      }
    }
    throw new IllegalStateException("no repository name for " + node);
  }

  private static void create(OciClient c, String name, String url) {
    OciClient.expect(c.send("POST", "/api/v1/webhooks", ("{\"name\":\"" + name + "\",\"url\":\"" + url
        + "\",\"secret\":\"s\",\"backoff\":\"100ms\"}").getBytes(StandardCharsets.UTF_8),
        Map.of("Content-Type", "application/json")), 201);
  }

  /** The node's endpoints: name to paused. */
  private static Map<String, Boolean> endpoints(OciClient c) throws Exception {
    var r = c.get("/api/v1/webhooks");
    assertEquals(200, r.statusCode(), OciClient.text(r));
    Map<String, Boolean> out = new TreeMap<>();
    for (JsonNode e : JSON.readTree(r.body())) {
      out.put(e.get("name").asText(), e.get("paused").asBoolean());
    }
    return out;
  }

  private static void awaitTrue(Await.Check check, String what) throws Exception {
    Await.until(what, Duration.ofSeconds(30), check);
  }
}
