package io.flotilla.content;

import static io.flotilla.content.UpstreamTesting.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.cluster.RoutingStorage;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sync run on one node of a two-node cluster into a repository held only by the other node
 * (replication factor 1): the blobs travel from upstream through this node's routed blob path over
 * the data channel to the owner, the manifests through the routed storage API, and both nodes serve
 * the copy.
 */
class RepositorySyncClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir
  static Path dir;

  @Test
  void syncsThroughTheRoutedPathsIntoARepositoryAnotherNodeHolds() throws Exception {
    int portA = TestNode.freePort();
    int portB = TestNode.freePort();
    Map<String, String> cluster = Map.of("cluster.name", "sync-" + UUID.randomUUID(), "cluster.members",
        "127.0.0.1:" + portA + ",127.0.0.1:" + portB, "cluster.replicationFactor", "1");
    try (TestNode upstreamNode = TestNode.start(dir.resolve("upstream"));
        TestNode a = TestNode.start(dir.resolve("a"), with(cluster, "a", portA));
        TestNode b = TestNode.start(dir.resolve("b"), with(cluster, "b", portB))) {
      for (TestNode n : List.of(a, b)) {
        OciClient c = new OciClient(n.url());
        Await.until("two members seen by " + n.url(), Duration.ofSeconds(120), () -> {
          var r = c.get("/api/v1/cluster");
          return r.statusCode() == 200 && JSON.readTree(r.body()).get("members").size() == 2;
        });
      }
      OciClient up = new OciClient(upstreamNode.url());
      Images.Pushed x1 = Images.push(up, "lib/cl", "x1", 2, 41);
      Images.Pushed x2 = Images.push(up, "lib/cl", "x2", 3, 42);
      byte[] big = Images.random(3 * 1024 * 1024 + 5, 43); // several chunks over the data channel
      Digest bigDigest = up.pushBlob("lib/cl", big);
      byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      Digest configDigest = up.pushBlob("lib/cl", config);
      byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
          + Images.descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
          + ",\"layers\":[" + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", bigDigest, big.length)
          + "]}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
      OciClient.expect(up.putManifest("lib/cl", "big", MediaTypes.OCI_MANIFEST, manifest), 201);

      RoutingStorage routing = (RoutingStorage) a.node().storage();
      String local = null;
      for (int i = 0; local == null; i++) {
        String candidate = "held-by-b/r" + i;
        if (routing.primaryOf(candidate).equals("b")) {
          local = candidate;
        }
      }
      UpstreamRegistry upstream = new UpstreamRegistry(a.node().vertx(), UpstreamConfig.of(upstreamNode.url()));
      try {
        RepositorySync sync = new RepositorySync(a.node().vertx(), upstream, a.node().storage(),
            a.node().blobTransfer());
        SyncOutcome outcome = await(sync.run(SyncSpec.of(RepositoryName.of("lib/cl"), RepositoryName.of(local)),
            sync.context("cluster-sync"), new SyncProgress()));
        assertEquals(List.of(), outcome.failures());
        assertEquals(Map.of("x1", x1.manifest(), "x2", x2.manifest(), "big", Digest.sha256(manifest)), outcome.tags());
        assertEquals(1 + 2 + 1 + 3 + 2, outcome.blobsCopied());
        for (TestNode n : List.of(a, b)) {
          OciClient c = new OciClient(n.url());
          var got = c.get("/v2/" + local + "/blobs/" + bigDigest);
          OciClient.expect(got, 200);
          assertArrayEquals(big, got.body());
          var m = c.get("/v2/" + local + "/manifests/x2");
          OciClient.expect(m, 200);
          assertArrayEquals(x2.body(), m.body());
        }
        assertEquals(0, await(sync.run(SyncSpec.of(RepositoryName.of("lib/cl"), RepositoryName.of(local)),
            sync.context("cluster-sync-2"), new SyncProgress())).bytesCopied());
      } finally {
        await(upstream.close());
      }
    }
  }

  private static Map<String, String> with(Map<String, String> cluster, String name, int port) {
    Map<String, String> m = new HashMap<>(cluster);
    m.put("node.name", name);
    m.put("cluster.port", Integer.toString(port));
    return m;
  }
}
