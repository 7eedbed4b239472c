package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.e2e.Skopeo;
import io.flotilla.testing.Await;
import io.flotilla.testing.DistributionRegistry;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The content lifecycle on three node processes with R=2, syncing from CNCF distribution 2.8.2
 * (Debian's docker-registry, started here): a sync asked through one node runs on the repository's
 * primary owner, its task is shown by every node, and the repository and its distribution are pulled
 * by skopeo through every node; a remote with a period syncs by itself; and {@code kill -9} of the
 * node running a sync fails the task with the reason (no task stays running), leaves no version, and
 * frees the repository's lock for the next sync, before and after the node's restart.
 */
class ContentClusterIT {
  @TempDir
  static Path dir;
  static ProcessCluster cluster;
  static DistributionRegistry upstream;
  static OciClient up;
  static FaultServer faults;

  @RegisterExtension
  static final NodeLogsOnFailure LOGS = new NodeLogsOnFailure(() -> cluster == null ? List.of() : cluster.nodes(), 60);

  @BeforeAll
  static void start() throws Exception {
    DistributionRegistry.require();
    Skopeo.require();
    upstream = DistributionRegistry.start(dir.resolve("distribution"));
    up = new OciClient(upstream.url());
    faults = new FaultServer();
    cluster = ProcessCluster.start(dir.resolve("cluster"), 3, "127.0.0.1",
        Map.of("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (faults != null) {
      faults.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  static ContentClient api(int i) {
    return new ContentClient(cluster.node(i).url());
  }

  static String digestThrough(NodeProcess n, String nameAndTag) {
    String hostPort = n.url().replaceFirst("^https?://", "");
    return Skopeo.runOk("inspect", "--tls-verify=false", "--format", "{{.Digest}}",
        "docker://" + hostPort + "/" + nameAndTag).stdout().trim();
  }

  @Test
  void aSyncAskedOfOneNodeIsServedByEveryNode() throws Exception {
    Images.Pushed a = Images.push(up, "lib/c", "a", 2, 61);
    Images.Pushed b = Images.push(up, "lib/c", "b", 1, 62);
    api(0).expect(201, "POST", "/api/v1/remotes", "{\"name\":\"dist\",\"url\":\"" + upstream.url()
        + "\",\"upstreamName\":\"lib/c\"}");
    api(1).expect(200, "PUT", "/api/v1/repositories/c/app", "{\"remote\":\"dist\",\"autoPublish\":true,"
        + "\"autoDistribute\":true}");
    api(2).expect(201, "POST", "/api/v1/distributions",
        "{\"name\":\"c\",\"basePath\":\"served/c\",\"repository\":\"c/app\"}");
    String id = api(1).sync("c/app", null);
    JsonNode task = api(2).await(id, Duration.ofSeconds(90));
    assertEquals("completed", task.get("state").asText(), task.toString());
    assertTrue(Set.of("node-0", "node-1", "node-2").contains(task.get("node").asText()));
    for (int i = 0; i < 3; i++) {
      assertEquals("completed", api(i).get("/api/v1/tasks/" + id).get("state").asText(), "task seen by node " + i);
      assertEquals(1, api(i).get("/api/v1/repositories/c/app").get("latestVersion").asInt());
    }
    for (NodeProcess n : cluster.nodes()) {
      assertEquals(a.manifest().toString(), digestThrough(n, "c/app:a"), "through " + n.url());
      assertEquals(b.manifest().toString(), digestThrough(n, "served/c:b"), "through " + n.url());
    }
    Path copied = dir.resolve("served-c-a");
    Skopeo.runOk("copy", "--src-tls-verify=false", "docker://" + cluster.node(2).url().replaceFirst("^https?://", "")
        + "/served/c:a", "dir:" + copied);
  }

  @Test
  void aRemoteWithAPeriodSyncsByItself() throws Exception {
    Images.push(up, "lib/p", "1", 1, 71);
    api(0).expect(201, "POST", "/api/v1/remotes", "{\"name\":\"tick\",\"url\":\"" + upstream.url()
        + "\",\"upstreamName\":\"lib/p\",\"syncInterval\":2}");
    api(0).expect(200, "PUT", "/api/v1/repositories/p/app", "{\"remote\":\"tick\"}");
    Await.until("version 1 by a periodic sync", Duration.ofSeconds(60),
        () -> api(1).get("/api/v1/repositories/p/app").get("latestVersion").asInt() >= 1);
    Images.Pushed two = Images.push(up, "lib/p", "2", 1, 72);
    Await.until("version 2 by a periodic sync", Duration.ofSeconds(60),
        () -> api(2).get("/api/v1/repositories/p/app").get("latestVersion").asInt() >= 2);
    JsonNode v2 = api(2).get("/api/v1/repositories/p/app/versions/2");
    assertEquals(two.manifest().toString(), v2.get("tags").get("2").asText());
    assertEquals("sync", v2.get("cause").asText());
    // stop it: no period, no more tasks
    api(0).expect(200, "PUT", "/api/v1/remotes/tick", "{\"url\":\"" + upstream.url() + "\",\"upstreamName\":\"lib/p\"}");
  }

  @Test
  void killingTheNodeOfARunningSyncFailsItsTaskAndFreesTheRepository() throws Exception {
    new ScriptedUpstream(faults, "slow/kill", "v1", 24 << 20, 1 << 20, ScriptedUpstream.Fault.NONE);
    ScriptedUpstream fast = new ScriptedUpstream(faults, "fast/kill", "v1", 1 << 20, 0, ScriptedUpstream.Fault.NONE);
    api(0).expect(201, "POST", "/api/v1/remotes", "{\"name\":\"kill\",\"url\":\"" + faults.url()
        + "\",\"upstreamName\":\"slow/kill\"}");
    api(0).expect(200, "PUT", "/api/v1/repositories/k/app", "{\"remote\":\"kill\"}");
    String id = api(0).sync("k/app", null);
    Await.until("bytes flowing", Duration.ofSeconds(30), () -> ContentLifecycleIT.report(
        api(0).get("/api/v1/tasks/" + id), "sync.blobs").get("bytesDone").asLong() > 0);
    String runner = api(0).get("/api/v1/tasks/" + id).get("node").asText();
    int victim = Integer.parseInt(runner.substring("node-".length()));
    int other = (victim + 1) % 3;
    cluster.node(victim).kill9();
    JsonNode failed = api(other).await(id, Duration.ofSeconds(120));
    assertEquals("failed", failed.get("state").asText(), failed.toString());
    assertTrue(failed.get("error").asText().contains(runner), "the reason names the node: " + failed);
    cluster.restart(victim);
    cluster.awaitMembers(3);
    assertEquals("failed", api(victim).get("/api/v1/tasks/" + id).get("state").asText());
    assertEquals(0, api(victim).get("/api/v1/repositories/k/app/versions").get("versions").size(),
        "no version from the killed task");
    // the lock is free: the next sync (from a fast upstream) runs and completes
    api(other).expect(200, "PUT", "/api/v1/remotes/kill", "{\"url\":\"" + faults.url()
        + "\",\"upstreamName\":\"fast/kill\"}");
    JsonNode next = api(other).await(api(other).sync("k/app", null), Duration.ofSeconds(120));
    assertEquals("completed", next.get("state").asText(), next.toString());
    for (NodeProcess n : cluster.nodes()) {
      assertEquals(fast.manifest.toString(), digestThrough(n, "k/app:v1"));
    }
    List<String> states = new java.util.ArrayList<>();
    api(victim).get("/api/v1/tasks?repository=k/app").get("tasks").forEach(t -> states.add(t.get("state").asText()));
    assertEquals(List.of("failed", "completed"), states, "no task left running");
    for (JsonNode report : api(victim).get("/api/v1/tasks/" + id).get("progressReports")) {
      assertTrue(!report.get("state").asText().equals("running"), "the failed task's reports ended too: " + report);
    }
  }

  static int status(HttpResponse<byte[]> r) {
    return r.statusCode();
  }
}
