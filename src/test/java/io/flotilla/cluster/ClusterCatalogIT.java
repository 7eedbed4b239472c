package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes on loopback, joined through Hazelcast TCP-IP, each with its own data
 * folder. Repositories are pushed to different nodes; {@code /v2/_catalog} through any node fans
 * out over the event bus and pages through the union correctly.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterCatalogIT {
  static final ObjectMapper JSON = new ObjectMapper();
  // enough for many pages at every n, across 37 name prefixes and three nodes (2000 cost a minute of suite time)
  static final int REPOS = 600;
  @TempDir
  static Path dir;
  static final List<NodeProcess> nodes = new ArrayList<>();
  static final TreeSet<String> expected = new TreeSet<>();

  static ProcessCluster cluster;

  @BeforeAll
  static void startClusterAndPush() throws Exception {
    // Host names, as docker-compose gives them; each resolves to 127.0.0.1, the only address bound.
    cluster = ProcessCluster.start(dir, 3, "localhost");
    nodes.addAll(cluster.nodes());
    ExecutorService pushers = Executors.newFixedThreadPool(8);
    List<Future<?>> pushes = new ArrayList<>();
    for (int i = 0; i < REPOS; i++) {
      String name = String.format("team%02d/app-%04d", i % 37, i);
      expected.add(name);
      OciClient client = new OciClient(nodes.get(i % 3).url());
      int seed = i;
      pushes.add(pushers.submit(() -> client.pushBlob(name, new byte[] {(byte) seed, (byte) (seed >> 8)})));
    }
    for (Future<?> f : pushes) {
      f.get();
    }
    pushers.shutdown();
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static List<String> listAll(OciClient client, int n) throws Exception {
    List<String> seen = new ArrayList<>();
    String next = "/v2/_catalog?n=" + n;
    while (next != null) {
      var r = client.get(next);
      OciClient.expect(r, 200);
      assertTrue(r.headers().firstValue("Flotilla-Catalog-Incomplete").isEmpty(), "no node is missing");
      JsonNode page = JSON.readTree(r.body()).get("repositories");
      assertTrue(page.size() <= n);
      page.forEach(x -> seen.add(x.asText()));
      String link = r.headers().firstValue("Link").orElse(null);
      next = link == null ? null : link.substring(1, link.indexOf('>'));
    }
    return seen;
  }

  @Test
  @Order(1)
  void everyNodePagesThroughTheUnionExactlyOnceInOrder() throws Exception {
    List<String> all = new ArrayList<>(expected);
    for (NodeProcess node : nodes) {
      OciClient client = new OciClient(node.url());
      assertEquals(all, listAll(client, 100), "n=100 via " + node.url());
      assertEquals(all, listAll(client, 7), "n=7 via " + node.url());
    }
    assertEquals(all, listAll(new OciClient(nodes.get(1).url()), 1), "n=1");
  }

  @Test
  @Order(2)
  void clusterApiShowsMembersAndPlacement() throws Exception {
    JsonNode c = JSON.readTree(new OciClient(nodes.get(0).url()).get("/api/v1/cluster").body());
    assertEquals(3, c.get("members").size());
    List<String> names = new ArrayList<>();
    c.get("members").forEach(m -> names.add(m.get("name").asText()));
    assertEquals(List.of("node-0", "node-1", "node-2"), names);
    assertEquals(2, c.get("replicationFactor").asInt());
  }

  /**
   * Runs last. With R=2 a crashed member hides nothing: once every repository has its two copies
   * (blob-only repositories are copied in the background), the survivors list every name and the
   * page is complete. A second crash leaves repositories with no answering owner: the page must say
   * which members are missing, while they are in the view and after they left it.
   */
  @Test
  @Order(3)
  void crashedMembersAreCoveredByReplicasOrReportedNeverSilentlyDropped() throws Exception {
    awaitTwoCopiesOfEverything();
    nodes.get(2).kill9();
    awaitViewSize(2);
    OciClient survivor = new OciClient(nodes.get(0).url());
    assertEquals(new ArrayList<>(expected), listAll(survivor, 100), "one crash: the replicas answer for it");

    nodes.get(1).kill9();
    var whileInView = survivor.get("/v2/_catalog?n=100");
    OciClient.expect(whileInView, 200);
    String missing = whileInView.headers().firstValue("Flotilla-Catalog-Incomplete").orElse("");
    assertTrue(missing.contains("node-1") && missing.contains("node-2"), "both missing members are named: " + missing);
    awaitViewSize(1);
    var afterLeaving = survivor.get("/v2/_catalog?n=100");
    OciClient.expect(afterLeaving, 200);
    String stillMissing = afterLeaving.headers().firstValue("Flotilla-Catalog-Incomplete").orElse("");
    assertTrue(stillMissing.contains("node-1") && stillMissing.contains("node-2"),
        "members that left without handing over are still named: " + stillMissing);
  }

  private static void awaitViewSize(int size) throws Exception {
    OciClient survivor = new OciClient(nodes.get(0).url());
    long deadline = System.nanoTime() + 90_000_000_000L;
    while (JSON.readTree(survivor.get("/api/v1/cluster").body()).get("members").size() != size) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the survivors never dropped the killed member from their view");
      }
      Thread.sleep(250);
    }
  }

  /** Waits until every repository is held by two nodes (their storage usage says so). */
  private static void awaitTwoCopiesOfEverything() throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      java.util.Map<String, Integer> copies = new java.util.HashMap<>();
      for (NodeProcess n : nodes) {
        JsonNode usage = JSON.readTree(new OciClient(n.url()).get("/api/v1/storage/usage").body());
        usage.get("repositories").forEach(r -> copies.merge(r.get("name").asText(), 1, Integer::sum));
      }
      long done = expected.stream().filter(name -> copies.getOrDefault(name, 0) >= 2).count();
      if (done == expected.size()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("only " + done + " of " + expected.size() + " repositories have two copies");
      }
      Thread.sleep(500);
    }
  }
}
