package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts and stops an operator meets, with three node processes (R = 2): a second node started under
 * a name the cluster already has is refused with exit code 2 and changes nothing; SIGTERM to every
 * node at once (a {@code docker compose down}, a rollout) ends every process well within the
 * hand-off timeout (10 min by default: nobody is left to hand off to), and the data is intact when
 * the nodes start again.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterStopsIT {
  /** The bound for a whole-cluster stop is 30 s; a loaded CI machine gets some slack. */
  private static final Duration STOP_BOUND = Duration.ofSeconds(45);

  @TempDir
  static Path dir;
  static ProcessCluster cluster;

  @RegisterExtension
  static final NodeLogsOnFailure NODE_LOGS_ON_FAILURE = NodeLogsOnFailure.of(() -> cluster);

  @BeforeAll
  static void start() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of(
        "FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2",
        "FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "1s",
        "FLOTILLA_EVENTS_ENABLED", "false"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void aSecondNodeUnderATakenNameIsRefused() throws Exception {
    NodeProcess twin = cluster.launchNamesake(1);
    try {
      int code = twin.awaitExit(Duration.ofSeconds(150));
      String out = twin.output();
      assertEquals(2, code, "the namesake's exit code; its output:\n" + out);
      assertTrue(out.contains("node name node-1 is already used by the running cluster member"), out);
    } finally {
      twin.close();
    }
    cluster.awaitMembers(3);
    for (NodeProcess n : cluster.nodes()) {
      assertTrue(n.alive(), "the running nodes go on");
    }
  }

  @Test
  @Order(2)
  void sigtermToEveryNodeAtOnceEndsInTimeAndKeepsTheData() throws Exception {
    List<Images.Pushed> pushed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      pushed.add(Images.push(new OciClient(cluster.node(i % 3).url()), "stops/r" + i, "v1", 2, 100 + i));
    }
    long sent = System.nanoTime();
    for (NodeProcess n : cluster.nodes()) {
      n.sigterm();
    }
    for (NodeProcess n : cluster.nodes()) {
      long left = STOP_BOUND.toNanos() - (System.nanoTime() - sent);
      int code = n.awaitExit(Duration.ofNanos(Math.max(1, left)));
      assertTrue(code != -1, "a node still runs " + STOP_BOUND.toSeconds() + " s after SIGTERM to every node:\n"
          + n.output());
      // a JVM that ends on SIGTERM, after its shutdown hook, exits with 128 + 15
      assertEquals(143, code, n.output());
      assertTrue(!n.output().contains("shutdown did not complete cleanly"), n.output());
    }
    System.out.printf("[stops] every node exited %.1f s after SIGTERM to all%n", (System.nanoTime() - sent) / 1e9);

    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<NodeProcess>> starting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int node = i;
        starting.add(pool.submit(() -> cluster.restart(node)));
      }
      for (Future<NodeProcess> f : starting) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    cluster.awaitMembers(3);
    for (int node = 0; node < 3; node++) {
      OciClient c = new OciClient(cluster.node(node).url());
      for (int i = 0; i < pushed.size(); i++) {
        Images.Pushed p = pushed.get(i);
        String repo = "stops/r" + i;
        HttpResponse<byte[]> m = c.get("/v2/" + repo + "/manifests/v1", Map.of("Accept", MediaTypes.OCI_MANIFEST));
        assertEquals(200, m.statusCode(), "node-" + node + " " + repo + ": " + OciClient.text(m));
        assertArrayEquals(p.body(), m.body(), "node-" + node + " " + repo);
        List<Digest> blobs = new ArrayList<>(p.layers());
        blobs.add(p.config());
        for (Digest d : blobs) {
          HttpResponse<byte[]> b = c.get("/v2/" + repo + "/blobs/" + d);
          assertEquals(200, b.statusCode(), "node-" + node + " " + repo + " " + d);
          assertEquals(d, Digest.sha256(b.body()), "node-" + node + " " + repo);
        }
      }
    }
  }

  /**
   * Two groups that do not see each other both take writes, then meet: node-0 and node-1 form one
   * cluster and node-2 another (each lists only its own group), both set the same tag to different
   * manifests, and then node-2 restarts with the whole member list. The copies merge by last writer
   * wins (the later push), identically on every owner; the owners that held the losing value report
   * the conflict in their log and on /metrics; what only one side wrote survives.
   */
  @Test
  @Order(3)
  void twoGroupsThatTookWritesApartMergeByOneRuleAndReportTheConflict() throws Exception {
    for (NodeProcess n : cluster.nodes()) {
      n.sigterm();
    }
    for (NodeProcess n : cluster.nodes()) {
      assertTrue(n.awaitExit(STOP_BOUND) != -1, n.output());
    }
    String groupA = cluster.hazelcastMember(0) + "," + cluster.hazelcastMember(1);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<NodeProcess>> starting = new ArrayList<>();
      starting.add(pool.submit(() -> cluster.restart(0, Map.of("FLOTILLA_CLUSTER_MEMBERS", groupA))));
      starting.add(pool.submit(() -> cluster.restart(1, Map.of("FLOTILLA_CLUSTER_MEMBERS", groupA))));
      starting.add(pool.submit(() -> cluster.restart(2, Map.of("FLOTILLA_CLUSTER_MEMBERS", cluster.hazelcastMember(2)))));
      for (Future<NodeProcess> f : starting) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    assertEquals(1, memberCount(2), "node-2 forms a cluster of its own");
    String repo = "split/app";
    Images.push(new OciClient(cluster.node(0).url()), repo, "both", 1, 301);
    Images.push(new OciClient(cluster.node(0).url()), repo, "a-only", 1, 302);
    Thread.sleep(5); // the later write is node-2's, by the clock both groups share here
    Images.Pushed later = Images.push(new OciClient(cluster.node(2).url()), repo, "both", 1, 303);
    Images.Pushed bOnly = Images.push(new OciClient(cluster.node(2).url()), repo, "b-only", 1, 304);

    cluster.node(2).sigterm();
    assertTrue(cluster.node(2).awaitExit(STOP_BOUND) != -1, cluster.node(2).output());
    cluster.restart(2);
    cluster.awaitMembers(3);
    io.flotilla.testing.Await.until("the groups' copies merge: 'both' names the later push through every node",
        Duration.ofSeconds(120), () -> {
          for (int node = 0; node < 3; node++) {
            if (!later.manifest().equals(tagDigest(node, repo, "both")) || tagDigest(node, repo, "a-only") == null
                || !bOnly.manifest().equals(tagDigest(node, repo, "b-only"))) {
              return false;
            }
          }
          return true;
        });
    io.flotilla.testing.Await.until("an owner that held the losing value reports the conflict", Duration.ofSeconds(60),
        () -> conflictsReported() >= 1);
    boolean logged = false;
    for (NodeProcess n : cluster.nodes()) {
      logged |= n.output().contains("tag conflict in " + repo + ": both named");
    }
    assertTrue(logged, "a warning names the conflict");
  }

  private static int memberCount(int node) throws Exception {
    var r = new OciClient(cluster.node(node).url()).get("/api/v1/cluster");
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).get("members").size();
  }

  /** The digest {@code tag} names, read through {@code node}, or null when it is not found. */
  private static Digest tagDigest(int node, String repo, String tag) {
    HttpResponse<byte[]> r = new OciClient(cluster.node(node).url()).get("/v2/" + repo + "/manifests/" + tag,
        Map.of("Accept", MediaTypes.OCI_MANIFEST));
    return r.statusCode() == 200 ? Digest.sha256(r.body()) : null;
  }

  /** flotilla_tag_conflicts_total summed over the nodes. */
  private static double conflictsReported() {
    double sum = 0;
    for (NodeProcess n : cluster.nodes()) {
      String metrics = OciClient.text(new OciClient(n.url()).get("/metrics"));
      for (String line : metrics.split("\n")) {
        if (line.startsWith("flotilla_tag_conflicts_total")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    }
    return sum;
  }
}
