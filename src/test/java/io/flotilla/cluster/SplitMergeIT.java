package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real split-brain merge: node-0 and node-1 list all three addresses and form a cluster before
 * node-2 exists; node-2 lists only itself and forms a cluster of its own, serving alone. Hazelcast's
 * split-brain handler (run every few seconds here) then merges node-2 into the bigger cluster.
 * Afterwards every node must see every other as serving, and a push through node-2 must land on two
 * owners: before states were re-asserted, each side kept believing it was the only serving part.
 */
class SplitMergeIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MERGE_FAST = "-Dhazelcast.merge.first.run.delay.seconds=5"
      + " -Dhazelcast.merge.next.run.delay.seconds=5";

  @TempDir
  Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();

  @RegisterExtension
  final TestWatcher logsOnFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (int i = 0; i < nodes.size(); i++) {
        try {
          String[] lines = nodes.get(i).output().split("\n");
          int from = Math.max(0, lines.length - 40);
          System.err.println("---- tail of node-" + i + " log ----\n"
              + String.join("\n", Arrays.asList(lines).subList(from, lines.length)));
        } catch (Exception ignored) {
          // diagnostics only
        }
      }
    }
  };

  @AfterEach
  void stop() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
  }

  @Test
  void afterAMergeEveryNodeSeesEveryOtherServingAndPushesLandOnTwoOwners() throws Exception {
    String clusterName = "split-" + UUID.randomUUID();
    int[] http = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
    int[] hz = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
    String all = "127.0.0.1:" + hz[0] + ",127.0.0.1:" + hz[1] + ",127.0.0.1:" + hz[2];

    // group A (node-0, node-1) forms while node-2 does not exist yet
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<NodeProcess>> a = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        int n = i;
        a.add(pool.submit(() -> start(n, http[n], hz[n], clusterName, all)));
      }
      for (Future<NodeProcess> f : a) {
        nodes.add(f.get());
      }
    } finally {
      pool.shutdown();
    }
    Await.until("node-0 and node-1 form a cluster", Duration.ofSeconds(60),
        () -> members(nodes.get(0)).size() == 2 && members(nodes.get(1)).size() == 2);
    // group B (node-2) knows only itself: it forms its own cluster and serves alone
    nodes.add(start(2, http[2], hz[2], clusterName, "127.0.0.1:" + hz[2]));
    // node-0 and node-1 list node-2's address, so the merge may begin before node-2 answers HTTP:
    // the proof that it formed a cluster of its own first is Hazelcast's MERGED event on it
    Await.until("node-2, a cluster of its own, is merged by the split-brain handler", Duration.ofSeconds(120),
        () -> nodes.get(2).output().contains("this member merged into another cluster"));
    Await.until("the split-brain merge joins node-2 to node-0 and node-1 and every node sees all three serving",
        Duration.ofSeconds(120), () -> {
          for (NodeProcess n : nodes) {
            Map<String, String> m = members(n);
            if (!m.equals(Map.of("node-0", "serving", "node-1", "serving", "node-2", "serving"))) {
              return false;
            }
          }
          return true;
        });

    OciClient viaMerged = new OciClient(nodes.get(2).url());
    for (int i = 0; i < 3; i++) {
      String repo = "merged/r" + i;
      Images.push(viaMerged, repo, "v1", 1, 100 + i);
      assertEquals(2, holders(repo).size(), repo + " is acknowledged on two owners, held by " + holders(repo));
    }
  }

  private NodeProcess start(int i, int httpPort, int hzPort, String clusterName, String members) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("FLOTILLA_CLUSTER_NAME", clusterName);
    env.put("FLOTILLA_CLUSTER_MEMBERS", members);
    env.put("FLOTILLA_NODE_NAME", "node-" + i);
    env.put("FLOTILLA_HTTP_ACCESS_LOG", "false");
    env.put("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2");
    env.put("JAVA_TOOL_OPTIONS", MERGE_FAST);
    return NodeProcess.start(dir.resolve("node" + i), httpPort, hzPort, env);
  }

  /** Member name -> state, as {@code n} reports them. */
  private static Map<String, String> members(NodeProcess n) throws Exception {
    JsonNode status = JSON.readTree(new OciClient(n.url()).get("/api/v1/cluster").body());
    Map<String, String> out = new HashMap<>();
    for (JsonNode m : status.get("members")) {
      out.put(m.get("name").asText(), m.path("state").asText("unknown"));
    }
    return out;
  }

  /** The nodes whose storage holds a manifest of {@code repo}. */
  private Set<String> holders(String repo) throws Exception {
    Set<String> out = new TreeSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      JsonNode usage = JSON.readTree(new OciClient(nodes.get(i).url()).get("/api/v1/storage/usage").body());
      for (JsonNode r : usage.get("repositories")) {
        if (r.get("name").asText().equals(repo) && r.get("manifests").asInt() > 0) {
          out.add("node-" + i);
        }
      }
    }
    return out;
  }
}
