package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-safety defects of the cluster, each reproduced with three node processes (R = 2) as a
 * review traced them: an index whose child was deleted blocked a repository's replication for good;
 * deletes made while an owner was down came back when it returned, a returning owner answered reads
 * from its stale copy and "not found" to deletes of tags it had missed; repository syncs copied
 * unreferenced blob links back after GC; an owner that came back empty was never refilled; one
 * object that could not be copied stopped the rest of its repository's sync.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterCorrectnessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int R = 2;
  private static final String ACCEPT = MediaTypes.OCI_MANIFEST + ", " + MediaTypes.OCI_INDEX;

  @TempDir
  static Path dir;
  static ProcessCluster cluster;

  @RegisterExtension
  static final NodeLogsOnFailure NODE_LOGS_ON_FAILURE = NodeLogsOnFailure.of(() -> cluster);

  @BeforeAll
  static void start() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of(
        "FLOTILLA_CLUSTER_REPLICATION_FACTOR", Integer.toString(R),
        "FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "1s",
        "FLOTILLA_STORAGE_GC_GRACE", "0s",
        "FLOTILLA_STORAGE_GC_INTERVAL", "0s",
        "FLOTILLA_EVENTS_ENABLED", "false"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * The review's reproduction: an index with two children and a plain image in one repository, one
   * child deleted by digest, an owner killed. Deleting a manifest an index lists is now refused, and
   * the survivor restores the second copy with every manifest and tag.
   */
  @Test
  @Order(1)
  void aChildOfAnIndexCannotBeDeletedAndTheRepositoryStillReplicates() throws Exception {
    String repo = repoOwnedBy("multi", "node-0", "node-1");
    OciClient c = client(2);
    Images.Pushed child1 = Images.push(c, repo, "c1", 1, 11);
    Images.Pushed child2 = Images.push(c, repo, "c2", 1, 12);
    byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + Images.descriptor(MediaTypes.OCI_MANIFEST, child1.manifest(), child1.body().length) + ","
        + Images.descriptor(MediaTypes.OCI_MANIFEST, child2.manifest(), child2.body().length) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    OciClient.expect(c.putManifest(repo, "multi", MediaTypes.OCI_INDEX, index), 201);
    Images.push(c, repo, "plain", 1, 13);

    var refused = c.send("DELETE", "/v2/" + repo + "/manifests/" + child1.manifest(), new byte[0], Map.of());
    assertEquals(409, refused.statusCode(), "deleting a child an index lists: " + OciClient.text(refused));
    assertTrue(OciClient.text(refused).contains("DENIED"), OciClient.text(refused));
    assertEquals(200, c.get("/v2/" + repo + "/manifests/" + child1.manifest(), Map.of("Accept", ACCEPT)).statusCode());

    cluster.node(1).kill9();
    cluster.awaitMembers(2);
    awaitHeld("node-2 holds a complete copy of " + repo, 2, repo, u -> u.get("manifests").asInt() == 4
        && u.get("tags").asInt() == 4);
    cluster.restart(1);
    cluster.awaitMembers(3);
    awaitQuiet();
    for (int i = 0; i < 3; i++) {
      assertEquals(Digest.sha256(index).toString(), digestOf(i, repo, "multi"), "multi via node-" + i);
    }
  }

  /**
   * Deletes made while an owner is down stay deleted when it returns (tag, manifest by digest, whole
   * repository); the returning owner serves no stale read, and a delete of a tag it missed is 202.
   */
  @Test
  @Order(2)
  void deletesMadeWhileAnOwnerIsDownStayDeleted() throws Exception {
    String repo = repoOwnedBy("deletes", "node-0", "node-1");
    String gone = repoOwnedBy("gone", "node-1", "node-0");
    String missed = repoOwnedBy("missed", "node-1", "node-2"); // node-1 is the primary
    OciClient c = client(2);
    Images.push(c, repo, "a", 1, 21);
    Images.Pushed b = Images.push(c, repo, "b", 1, 22);
    Images.push(c, repo, "c", 1, 23);
    Images.push(c, gone, "x", 1, 24);
    Images.push(c, missed, "old", 1, 25);

    cluster.node(1).kill9();
    cluster.awaitMembers(2);
    expectDeleted(c, "/v2/" + repo + "/manifests/a");
    expectDeleted(c, "/v2/" + repo + "/manifests/" + b.manifest());
    Images.Pushed newC = Images.push(c, repo, "c", 1, 26);
    expectDeleted(c, "/api/v1/repositories/" + gone);
    Images.push(c, missed, "new", 1, 27); // only node-2 has it

    cluster.restart(1);
    cluster.awaitMembers(3);
    // straight away: the returning owner's stale copy answers no read, and its missing tag is deletable
    assertEquals(newC.manifest().toString(), digestOf(1, repo, "c"), "c via the returning owner");
    var deleteMissed = client(0).send("DELETE", "/v2/" + missed + "/manifests/new", new byte[0], Map.of());
    assertEquals(202, deleteMissed.statusCode(), "a tag the returning primary missed: " + OciClient.text(deleteMissed));

    awaitQuiet();
    Thread.sleep(3000); // several more rebalancing passes: nothing may come back
    for (int i = 0; i < 3; i++) {
      assertEquals(404, status(i, "/v2/" + repo + "/manifests/a"), "deleted tag a via node-" + i);
      assertEquals(404, status(i, "/v2/" + repo + "/manifests/b"), "tag b of a deleted manifest via node-" + i);
      assertEquals(404, status(i, "/v2/" + repo + "/manifests/" + b.manifest()), "deleted manifest via node-" + i);
      assertEquals(newC.manifest().toString(), digestOf(i, repo, "c"), "overwritten c via node-" + i);
      assertEquals(404, status(i, "/v2/" + gone + "/tags/list"), "deleted repository via node-" + i);
      assertEquals(404, status(i, "/v2/" + missed + "/manifests/new"), "deleted tag new via node-" + i);
      assertEquals(200, status(i, "/v2/" + missed + "/manifests/old"), "tag old via node-" + i);
      JsonNode catalog = JSON.readTree(client(i).get("/v2/_catalog").body());
      assertFalse(catalog.toString().contains("\"" + gone + "\""), "catalog via node-" + i + ": " + catalog);
    }
  }

  /**
   * Layers of a deleted image are reclaimed on every owner, although the repository keeps changing
   * (each change makes the owners sync it from each other): syncs copy only what manifests reference.
   */
  @Test
  @Order(3)
  void garbageCollectionReclaimsDeletedLayersOnEveryOwner() throws Exception {
    String repo = repoOwnedBy("gc", "node-2", "node-0");
    OciClient c = client(1);
    Images.Pushed v1 = Images.push(c, repo, "v1", 2, 31);
    Images.push(c, repo, "v2", 1, 32);
    expectDeleted(c, "/v2/" + repo + "/manifests/" + v1.manifest());
    for (int round = 0; round < 3; round++) {
      gc(round % 2 == 0 ? 2 : 0); // one owner collects, then the repository changes, then the other
      Images.push(c, repo, "v" + (3 + round), 1, 33 + round);
      Thread.sleep(2500);
    }
    gc(0);
    gc(2);
    Thread.sleep(2500);
    for (int i = 0; i < 3; i++) {
      for (Digest layer : v1.layers()) {
        assertEquals(404, status(i, "/v2/" + repo + "/blobs/" + layer), "layer of a deleted image via node-" + i);
      }
    }
  }

  /** An owner that comes back with an empty disk under the same name gets its copy back. */
  @Test
  @Order(4)
  void anOwnerThatComesBackEmptyIsRefilled() throws Exception {
    String repo = repoOwnedBy("refill", "node-0", "node-2");
    Images.Pushed image = Images.push(client(1), repo, "v1", 1, 41);
    awaitHeld("node-2 holds " + repo, 2, repo, u -> u.get("manifests").asInt() == 1);
    cluster.node(2).kill9();
    cluster.awaitMembers(2);
    deleteTree(dir.resolve("node2"));
    cluster.restart(2);
    cluster.awaitMembers(3);
    awaitHeld("node-2 holds " + repo + " again", 2, repo, u -> u.get("manifests").asInt() == 1 && u.get("tags").asInt() == 1);
    awaitQuiet();
    for (int i = 0; i < 3; i++) {
      assertEquals(image.manifest().toString(), digestOf(i, repo, "v1"), "v1 via node-" + i);
    }
  }

  /**
   * Concurrent writes of one tag through different nodes (issue 11): six images, pushed by digest
   * first, then tagged "race" by three threads at once, each through another node, twice over. The
   * primary orders the writes, so every node then names the same image, and so does the other owner
   * alone (the primary killed), and the winner is one of the writes.
   */
  @Test
  @Order(5)
  void concurrentTagWritesThroughDifferentNodesEndIdenticalOnEveryOwner() throws Exception {
    String repo = repoOwnedBy("race", "node-0", "node-1");
    List<Images.Pushed> images = new ArrayList<>();
    for (int k = 0; k < 6; k++) {
      images.add(Images.push(client(k % 3), repo, "pre-" + k, 1, 60 + k));
    }
    List<Thread> writers = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    for (int w = 0; w < 3; w++) {
      int node = w;
      Thread t = new Thread(() -> {
        try {
          go.await();
          for (int round = 0; round < 2; round++) {
            Images.Pushed img = images.get(round * 3 + node);
            HttpResponse<byte[]> r = client(node).send("PUT", "/v2/" + repo + "/manifests/race", img.body(),
                Map.of("Content-Type", MediaTypes.OCI_MANIFEST));
            assertEquals(201, r.statusCode(), "PUT race via node-" + node + ": " + OciClient.text(r));
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }, "tag-writer-" + w);
      t.start();
      writers.add(t);
    }
    go.countDown();
    for (Thread t : writers) {
      t.join(120_000);
    }
    assertEquals(List.of(), failures);
    awaitQuiet();
    String winner = digestOf(0, repo, "race");
    assertTrue(images.stream().anyMatch(i -> i.manifest().toString().equals(winner)), "one of the writes: " + winner);
    for (int i = 1; i < 3; i++) {
      assertEquals(winner, digestOf(i, repo, "race"), "race via node-" + i);
    }
    // the other owner on its own: the primary killed
    cluster.node(0).kill9();
    cluster.awaitMembers(2);
    for (int i = 1; i < 3; i++) {
      assertEquals(winner, digestOf(i, repo, "race"), "race via node-" + i + " with only node-1 holding it");
    }
    cluster.restart(0);
    cluster.awaitMembers(3);
    awaitQuiet();
  }

  /**
   * One object that cannot be copied does not hold up the rest of its repository: the only
   * remaining copy of an image lost a layer file (a disk that lost a file), and its other owner is
   * killed. The new owner still receives every other manifest and tag, reads of those work through
   * every node, and the failure is reported: counted by the rebalancer and named in its log.
   */
  @Test
  @Order(6)
  void anImageThatCannotBeCopiedDoesNotStopTheRestOfItsRepository() throws Exception {
    String repo = repoOwnedBy("lost", "node-0", "node-1");
    Images.Pushed first = Images.push(client(2), repo, "first", 1, 81);
    Images.Pushed broken = Images.push(client(2), repo, "broken", 1, 82);
    Images.Pushed last = Images.push(client(2), repo, "last", 1, 83);
    awaitHeld("node-1 holds " + repo, 1, repo, u -> u.get("manifests").asInt() == 3 && u.get("tags").asInt() == 3);
    Digest lost = broken.layers().get(0);
    Path layer = dir.resolve("node0").resolve("blobs").resolve("sha256").resolve(lost.hex().substring(0, 2))
        .resolve(lost.hex());
    assertTrue(Files.exists(layer), "node-0 stores the layer at " + layer);
    Files.delete(layer);

    cluster.node(1).kill9();
    cluster.awaitMembers(2);
    awaitHeld("node-2 holds every image of " + repo + " but the broken one", 2, repo,
        u -> u.get("manifests").asInt() == 2 && u.get("tags").asInt() == 2);
    io.flotilla.testing.Await.until("node-0's rebalancer reports the image it could not copy",
        java.time.Duration.ofSeconds(60), () -> {
          String log = cluster.node(0).output();
          return log.contains("could not copy " + repo) && log.contains(broken.manifest().toString());
        });
    JsonNode rebalancing = JSON.readTree(client(0).get("/api/v1/cluster").body()).get("rebalancing");
    // totalFailed: a later pass may have started and reset the current pass's count
    assertTrue(rebalancing.get("totalFailed").asInt() > 0, "the failure is counted: " + rebalancing);
    for (int i : new int[] {0, 2}) {
      assertEquals(first.manifest().toString(), digestOf(i, repo, "first"), "first via node-" + i);
      assertEquals(last.manifest().toString(), digestOf(i, repo, "last"), "last via node-" + i);
    }
    // the repository still replicates what is written next
    Images.Pushed later = Images.push(client(0), repo, "later", 1, 84);
    awaitHeld("node-2 receives the next push", 2, repo, u -> u.get("tags").asInt() == 3);
    assertEquals(later.manifest().toString(), digestOf(2, repo, "later"));
  }

  // ------------------------------------------------------------------ helpers

  private static OciClient client(int i) {
    return new OciClient(cluster.node(i).url());
  }

  private static int status(int node, String path) {
    return client(node).get(path, Map.of("Accept", ACCEPT)).statusCode();
  }

  private static String digestOf(int node, String repo, String tag) {
    HttpResponse<byte[]> r = client(node).get("/v2/" + repo + "/manifests/" + tag, Map.of("Accept", ACCEPT));
    assertEquals(200, r.statusCode(), repo + ":" + tag + " via node-" + node + ": " + OciClient.text(r));
    return Digest.sha256(r.body()).toString();
  }

  private static void expectDeleted(OciClient c, String path) {
    HttpResponse<byte[]> r = c.send("DELETE", path, new byte[0], Map.of());
    assertEquals(202, r.statusCode(), "DELETE " + path + ": " + OciClient.text(r));
  }

  private static void gc(int node) {
    var r = client(node).send("POST", "/api/v1/storage/gc", new byte[0], Map.of());
    assertEquals(200, r.statusCode(), "gc on node-" + node + ": " + OciClient.text(r));
  }

  /** A repository name whose owners among node-0..2 are exactly {@code primary} then {@code second}. */
  static String repoOwnedBy(String prefix, String primary, String second) {
    for (int i = 0; ; i++) {
      String repo = "correct/" + prefix + "-" + i;
      List<String> nodes = new ArrayList<>(List.of("node-0", "node-1", "node-2"));
      nodes.sort(Comparator.comparing((String n) -> Placement.score(n, repo), Long::compareUnsigned).reversed());
      if (nodes.get(0).equals(primary) && nodes.get(1).equals(second)) {
        return repo;
      }
    }
  }

  /** Waits until node {@code i}'s usage entry of {@code repo} satisfies {@code check}. */
  private static void awaitHeld(String what, int i, String repo, Predicate<JsonNode> check) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      JsonNode usage = JSON.readTree(client(i).get("/api/v1/storage/usage").body());
      for (JsonNode r : usage.get("repositories")) {
        if (r.get("name").asText().equals(repo)) {
          last = r;
          if (check.test(r)) {
            return;
          }
        }
      }
      Thread.sleep(250);
    }
    throw new AssertionError("timed out waiting: " + what + "; last seen " + last);
  }

  /** Waits until no node has rebalancing work pending or failed. */
  private static void awaitQuiet() throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    String problem = null;
    while (System.nanoTime() < deadline) {
      problem = null;
      for (int i = 0; i < cluster.nodes().size(); i++) {
        JsonNode reb = JSON.readTree(client(i).get("/api/v1/cluster").body()).get("rebalancing");
        if (reb.get("pending").asInt() > 0 || reb.get("failed").asInt() > 0) {
          problem = "node-" + i + ": " + reb;
        }
      }
      if (problem == null) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("rebalancing did not settle: " + problem);
  }

  private static void deleteTree(Path root) throws Exception {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    Files.createDirectories(root);
  }
}
