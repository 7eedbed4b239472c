package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A graceful leave holds {@code cluster.handoffTimeout} whatever its rebalancing pass is doing, across
 * real processes: three nodes (R = 2) hold twelve repositories; node-1 is frozen (SIGSTOP: its
 * sockets take requests, nothing answers, and the cluster has not noticed yet), then node-0 gets
 * SIGTERM. node-0's hand-off must ask frozen node-1 to copy the repositories it gains once node-0
 * leaves; that sync would wait out the 30 min bus timeout, yet node-0 must exit with 143 soon after
 * its hand-off timeout, reporting the hand-off incomplete with repositories still pending. Nothing
 * acknowledged is lost: after node-1 resumes and node-0 restarts on its data, every image reads
 * back through every node.
 */
class HandoffDeadlineIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> ALL = List.of("node-0", "node-1", "node-2");
  private static final List<String> WITHOUT_NODE_0 = List.of("node-1", "node-2");
  private static final int REPOS = 12;
  /**
   * Longer than the 10 s a pass waits for the frozen node's fingerprints (it then takes node-1 as
   * holding nothing and asks it to copy): so the deadline finds the pass stuck on a sync.
   */
  private static final Duration HANDOFF = Duration.ofSeconds(20);
  /** Slack for a loaded 2-core machine (HTTP drain, Hazelcast leave); far below the 30 min sync timeout. */
  private static final Duration SLACK = Duration.ofSeconds(40);

  @TempDir
  Path dir;
  private ProcessCluster cluster;
  private NodeProcess frozen;

  @RegisterExtension
  final NodeLogsOnFailure nodeLogsOnFailure = new NodeLogsOnFailure(
      () -> cluster == null ? List.of() : cluster.nodes(), 60);

  @AfterEach
  void stop() throws Exception {
    if (frozen != null && frozen.alive()) {
      signal("CONT", frozen.pid()); // a stopped process ignores SIGTERM until it runs again
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aLeavingNodeExitsAtItsHandoffDeadlineWhileASyncToAFrozenPeerHangs() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of(
        "FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2",
        "FLOTILLA_CLUSTER_HANDOFF_TIMEOUT", HANDOFF.toSeconds() + "s",
        "FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "2s",
        "FLOTILLA_HTTP_SHUTDOWN_TIMEOUT", "5s",
        "FLOTILLA_EVENTS_ENABLED", "false",
        // the frozen peer must stay a member for the whole scenario (Hazelcast's default is 60 s):
        // the point is a peer that stopped answering before the cluster noticed
        "JAVA_TOOL_OPTIONS", "-Dhazelcast.max.no.heartbeat.seconds=300"));

    Map<String, Images.Pushed> pushed = new LinkedHashMap<>();
    List<String> gainedByNode1 = new ArrayList<>();
    for (int i = 0; i < REPOS; i++) {
      String repo = "handoff/r" + i;
      pushed.put(repo, Images.push(new OciClient(cluster.node(i % 3).url()), repo, "v1", 2, 500 + i));
      Set<String> before = ConsistencyIT.owners(repo, ALL);
      if (before.contains("node-0") && !before.contains("node-1")
          && ConsistencyIT.owners(repo, WITHOUT_NODE_0).contains("node-1")) {
        gainedByNode1.add(repo);
      }
    }
    // node-0 holds these, and once it leaves node-1 owns them without a copy: node-0's hand-off must
    // ask node-1 to sync them
    assertTrue(!gainedByNode1.isEmpty(), "some repository moves from node-0 to node-1");
    Await.until("every repository is held by exactly its owners", Duration.ofSeconds(60), () -> {
      for (String repo : pushed.keySet()) {
        if (!holders(repo).equals(ConsistencyIT.owners(repo, ALL))) {
          return false;
        }
      }
      return true;
    });

    NodeProcess leaving = cluster.node(0);
    frozen = cluster.node(1);
    signal("STOP", frozen.pid());
    long sent = System.nanoTime();
    leaving.sigterm();
    int code = leaving.awaitExit(HANDOFF.plus(SLACK));
    double tookSeconds = (System.nanoTime() - sent) / 1e9;
    signal("CONT", frozen.pid());
    System.out.printf("[handoff] node-0 exited (%d) %.1f s after SIGTERM, node-1 frozen; node-1 gains %s%n",
        code, tookSeconds, gainedByNode1);
    String log = leaving.output();
    assertTrue(code != -1, "node-0 still runs " + HANDOFF.plus(SLACK).toSeconds() + " s after SIGTERM");
    assertEquals(143, code, "a JVM that ends on SIGTERM, after its shutdown hook, exits with 128 + 15");
    assertTrue(log.contains("leaving: handing repositories off to their new owners"), "node-0 began a hand-off");
    assertTrue(log.contains("leaving: hand-off incomplete after " + HANDOFF.toMillis() + " ms"),
        "node-0 reports the hand-off did not complete");
    Matcher stuck = Pattern.compile("hand-off deadline reached while a rebalancing pass still runs \\((\\d+) "
        + "repositories pending\\)").matcher(log);
    assertTrue(stuck.find(), "the deadline, not the pass, ended the hand-off");
    assertTrue(Integer.parseInt(stuck.group(1)) > 0, "the pass was stuck on copies, not before them: " + stuck.group());
    assertTrue(!log.contains("shutdown did not complete cleanly"), "the rest of the shutdown completed");

    cluster.restart(0);
    cluster.awaitMembers(3);
    for (int node = 0; node < 3; node++) {
      OciClient client = new OciClient(cluster.node(node).url());
      for (Map.Entry<String, Images.Pushed> e : pushed.entrySet()) {
        String where = "node-" + node + " " + e.getKey();
        // a node that just came back may still be catching up: reads through it settle within a bound
        Await.until(where + " serves its image", Duration.ofSeconds(60), () -> client.get(
            "/v2/" + e.getKey() + "/manifests/v1", Map.of("Accept", MediaTypes.OCI_MANIFEST)).statusCode() == 200);
        HttpResponse<byte[]> m = client.get("/v2/" + e.getKey() + "/manifests/v1", Map.of("Accept", MediaTypes.OCI_MANIFEST));
        assertArrayEquals(e.getValue().body(), m.body(), where);
        for (var d : e.getValue().layers()) {
          HttpResponse<byte[]> b = client.get("/v2/" + e.getKey() + "/blobs/" + d);
          assertEquals(200, b.statusCode(), where + " " + d);
          assertEquals(d, io.flotilla.oci.Digest.sha256(b.body()), where);
        }
      }
    }
  }

  /** The nodes whose own storage holds a manifest of {@code repo}. */
  private Set<String> holders(String repo) throws Exception {
    Set<String> out = new TreeSet<>();
    for (int i = 0; i < 3; i++) {
      JsonNode usage = JSON.readTree(new OciClient(cluster.node(i).url()).get("/api/v1/storage/usage").body());
      for (JsonNode r : usage.get("repositories")) {
        if (r.get("name").asText().equals(repo) && r.get("manifests").asInt() > 0) {
          out.add("node-" + i);
        }
      }
    }
    return out;
  }

  private static void signal(String signal, long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "kill -" + signal + " " + pid);
  }
}
