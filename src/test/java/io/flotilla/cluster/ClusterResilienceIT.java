package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replication and live resizing with real node processes (replication factor 2): a push is on both
 * owners when it is acknowledged; {@code kill -9} of one of three nodes loses no image and the
 * survivors restore two copies; the killed node comes back and catches up; a fourth node joins while
 * a writer keeps pushing and takes its share; nodes leave gracefully (SIGTERM, then the admin API)
 * and hand their repositories off. After every step, every image is pulled through every live node
 * and compared byte for byte, and every repository must sit on exactly its owners.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterResilienceIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int R = 2;

  @TempDir
  static Path dir;
  static ProcessCluster cluster;
  /** repository -> the image pushed under tag "v1". */
  static final Map<String, Images.Pushed> pushed = new ConcurrentSkipListMap<>();
  /** Node indexes currently running. */
  static final Set<Integer> live = new TreeSet<>();

  @RegisterExtension
  static final NodeLogsOnFailure NODE_LOGS_ON_FAILURE = NodeLogsOnFailure.of(() -> cluster);

  @BeforeAll
  static void start() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of(
        "FLOTILLA_CLUSTER_REPLICATION_FACTOR", Integer.toString(R),
        "FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "2s",
        "FLOTILLA_CLUSTER_HANDOFF_TIMEOUT", "60s"));
    live.addAll(List.of(0, 1, 2));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void aPushIsOnEveryOwnerWhenItIsAcknowledged() throws Exception {
    for (int i = 0; i < 15; i++) {
      push("res/app-" + i, cluster.node(i % 3), i);
    }
    Map<String, Set<String>> holders = holders();
    for (String repo : pushed.keySet()) {
      Set<String> owners = owners(repo, names());
      assertTrue(holders.getOrDefault(repo, Set.of()).containsAll(owners),
          repo + " is held by " + holders.get(repo) + " right after its push, owners are " + owners);
    }
    assertEveryImagePullableEverywhere();
  }

  @Test
  @Order(2)
  void killNineOfOneNodeLosesNothingAndTheSurvivorsRestoreTwoCopies() throws Exception {
    cluster.node(2).kill9();
    live.remove(2);
    cluster.awaitMembers(2);
    assertEveryImagePullableEverywhere(); // each repository had a copy on a survivor
    awaitPlacement();
  }

  @Test
  @Order(3)
  void theKilledNodeRestartsAndCatchesUp() throws Exception {
    for (int i = 15; i < 19; i++) { // written while node-2 is down
      push("res/app-" + i, cluster.node(i % 2), i);
    }
    cluster.restart(2);
    live.add(2);
    cluster.awaitMembers(3);
    awaitPlacement();
    assertEveryImagePullableEverywhere();
  }

  @Test
  @Order(4)
  void aFourthNodeTakesItsShareWhileAWriterKeepsPushing() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Thread writer = new Thread(() -> {
      for (int i = 100; i < 160 && !stop.get(); i++) {
        try {
          push("res/during-join-" + i, cluster.node(i % 3), i);
        } catch (Throwable t) {
          failures.add(t);
        }
      }
    });
    writer.start();
    NodeProcess fourth = cluster.add();
    live.add(3);
    cluster.awaitMembers(4);
    Thread.sleep(1000); // a few more pushes after everyone sees the new member
    stop.set(true);
    writer.join(120_000);
    assertTrue(failures.isEmpty(), "pushes failed during the join: " + failures);
    awaitPlacement();
    JsonNode usage = JSON.readTree(new OciClient(fourth.url()).get("/api/v1/storage/usage").body());
    assertTrue(usage.get("storedBytes").asLong() > 0 && usage.get("repositories").size() > 0,
        "the new node holds nothing: " + usage);
    assertEveryImagePullableEverywhere();
  }

  @Test
  @Order(5)
  void aGracefulLeaveHandsEveryRepositoryOff() throws Exception {
    NodeProcess leaving = cluster.node(1);
    assertEquals(143, leaving.terminate(), "SIGTERM exit code (128 + 15 after the shutdown hook ran)");
    live.remove(1);
    assertOnNewOwnersAlready();
    cluster.awaitMembers(3);
    awaitPlacement();
    assertEveryImagePullableEverywhere();
  }

  @Test
  @Order(6)
  void theAdminApiLeaveHandsEveryRepositoryOffToo() throws Exception {
    NodeProcess leaving = cluster.node(3);
    var r = new OciClient(leaving.url()).send("POST", "/api/v1/cluster/leave", new byte[0], Map.of());
    assertEquals(202, r.statusCode());
    long deadline = System.nanoTime() + 90_000_000_000L;
    while (leaving.alive() && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertTrue(!leaving.alive(), "node-3 did not exit after leaving");
    live.remove(3);
    assertOnNewOwnersAlready();
    cluster.awaitMembers(2);
    awaitPlacement();
    assertEveryImagePullableEverywhere();
  }

  // ------------------------------------------------------------------ helpers

  private static void push(String repo, NodeProcess via, long seed) {
    Images.Pushed image = Images.push(new OciClient(via.url()), repo, "v1", 2, seed);
    pushed.put(repo, image);
  }

  private static List<String> names() {
    return live.stream().map(i -> "node-" + i).toList();
  }

  /** The owners of a repository among {@code members}: the R highest rendezvous scores. */
  static Set<String> owners(String repo, List<String> members) {
    List<String> sorted = new ArrayList<>(members);
    sorted.sort(Comparator.comparing((String n) -> Placement.score(n, repo), Long::compareUnsigned).reversed()
        .thenComparing(Comparator.naturalOrder()));
    return new TreeSet<>(sorted.subList(0, Math.min(R, sorted.size())));
  }

  /** Repository -> the live nodes that hold it, from each node's storage usage. */
  private static Map<String, Set<String>> holders() throws Exception {
    Map<String, Set<String>> out = new TreeMap<>();
    for (int i : live) {
      JsonNode usage = JSON.readTree(new OciClient(cluster.node(i).url()).get("/api/v1/storage/usage").body());
      for (JsonNode repo : usage.get("repositories")) {
        if (repo.get("manifests").asInt() > 0) {
          out.computeIfAbsent(repo.get("name").asText(), k -> new TreeSet<>()).add("node-" + i);
        }
      }
    }
    return out;
  }

  /**
   * Right after a graceful leave (no waiting for the survivors' own rebalancing): every repository
   * is already on all of its new owners, because the leaving node handed it off before exiting.
   */
  private static void assertOnNewOwnersAlready() throws Exception {
    Map<String, Set<String>> holders = holders();
    for (String repo : pushed.keySet()) {
      Set<String> owners = owners(repo, names());
      assertTrue(holders.getOrDefault(repo, Set.of()).containsAll(owners),
          repo + " is on " + holders.get(repo) + " right after the leave, owners are " + owners);
    }
  }

  /** Waits until every repository sits on exactly its owners and no node has rebalancing work left. */
  private static void awaitPlacement() throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    String problem;
    do {
      problem = null;
      Map<String, Set<String>> holders = holders();
      for (String repo : pushed.keySet()) {
        Set<String> owners = owners(repo, names());
        if (!owners.equals(holders.getOrDefault(repo, Set.of()))) {
          problem = repo + " is on " + holders.get(repo) + ", owners are " + owners;
          break;
        }
      }
      if (problem == null) {
        for (int i : live) {
          JsonNode status = JSON.readTree(new OciClient(cluster.node(i).url()).get("/api/v1/cluster").body());
          JsonNode reb = status.get("rebalancing");
          if (reb.get("running").asBoolean() || reb.get("pending").asInt() > 0 || reb.get("failed").asInt() > 0) {
            problem = "node-" + i + " is still rebalancing: " + reb;
          }
        }
      }
      if (problem != null) {
        Thread.sleep(250);
      }
    } while (problem != null && System.nanoTime() < deadline);
    if (problem != null) {
      throw new AssertionError("placement not restored: " + problem);
    }
  }

  /** Pulls every image's manifest and blobs through every live node; everything byte-identical. */
  private static void assertEveryImagePullableEverywhere() {
    for (int i : live) {
      OciClient c = new OciClient(cluster.node(i).url());
      for (var e : pushed.entrySet()) {
        String repo = e.getKey();
        Images.Pushed image = e.getValue();
        HttpResponse<byte[]> m = c.get("/v2/" + repo + "/manifests/v1",
            Map.of("Accept", "application/vnd.oci.image.manifest.v1+json"));
        assertEquals(200, m.statusCode(), repo + " manifest via node-" + i + ": " + OciClient.text(m));
        assertArrayEquals(image.body(), m.body(), repo + " manifest via node-" + i);
        List<Digest> blobs = new ArrayList<>(image.layers());
        blobs.add(image.config());
        for (Digest d : blobs) {
          HttpResponse<byte[]> b = c.get("/v2/" + repo + "/blobs/" + d);
          assertEquals(200, b.statusCode(), repo + " blob " + d + " via node-" + i);
          assertEquals(d, Digest.sha256(b.body()), repo + " blob " + d + " via node-" + i);
        }
      }
    }
  }
}
