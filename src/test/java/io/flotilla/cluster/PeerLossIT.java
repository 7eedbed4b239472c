package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests in flight to a node that dies end when membership drops it, not at the bus timeout:
 * through node-0, a blob is being pulled from node-2 (over the data channel) and a manifest PUT waits on
 * node-2 (the repository's primary); node-2 is frozen (SIGSTOP, so both are surely in flight), then
 * {@code kill -9}'d. Before the fix the pull hung for the 30 s stream idle timeout and the PUT for
 * the 60 s bus timeout; both must now end well before that.
 */
class PeerLossIT {
  private static final int R = 2;
  private static final int BLOB = 48 * 1024 * 1024;
  /** Far below the 30 s stream idle timeout and the 60 s bus timeout they used to wait out. */
  private static final Duration BOUND = Duration.ofSeconds(15);

  @TempDir
  static Path dir;
  static ProcessCluster cluster;

  @RegisterExtension
  static final NodeLogsOnFailure NODE_LOGS_ON_FAILURE = NodeLogsOnFailure.of(() -> cluster);

  @BeforeAll
  static void start() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of("FLOTILLA_CLUSTER_REPLICATION_FACTOR", Integer.toString(R)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void requestsInFlightToAKilledNodeEndWhenItLeaves() throws Exception {
    String repo = repoWithOwners("node-2", "node-1");
    NodeProcess via = cluster.node(0);
    NodeProcess victim = cluster.node(2);
    OciClient client = new OciClient(via.url());
    byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
    Digest configDigest = client.pushBlob(repo, config);
    byte[] layer = Images.random(BLOB, 7);
    Digest layerDigest = client.pushBlob(repo, layer);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
        + ",\"layers\":[" + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layerDigest, BLOB)
        + "]}").getBytes(StandardCharsets.UTF_8);

    // a pull through node-0 of the blob node-2 holds: read 1 MiB, then stop reading (the data-channel transfer stays open)
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<InputStream> pull = http.send(HttpRequest.newBuilder(
        URI.create(via.url() + "/v2/" + repo + "/blobs/" + layerDigest)).timeout(Duration.ofSeconds(120)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertTrue(pull.statusCode() == 200, "pull status " + pull.statusCode());
    InputStream body = pull.body();
    long read = body.readNBytes(1024 * 1024).length;

    signal("STOP", victim.pid());
    CompletableFuture<HttpResponse<String>> put = http.sendAsync(HttpRequest.newBuilder(
        URI.create(via.url() + "/v2/" + repo + "/manifests/v1")).timeout(Duration.ofSeconds(120))
        .header("Content-Type", MediaTypes.OCI_MANIFEST).PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build(),
        HttpResponse.BodyHandlers.ofString());
    Thread.sleep(1500); // the PUT now waits on frozen node-2
    assertTrue(!put.isDone(), "the PUT is in flight: " + (put.isDone() ? put.join().statusCode() : ""));
    victim.kill9();
    long killed = System.nanoTime();

    // the rest of the pull: it cannot complete (node-2 is gone); it must end soon, not hang
    byte[] buf = new byte[1 << 16];
    try {
      for (int n; (n = body.read(buf)) >= 0; ) {
        read += n;
      }
    } catch (IOException expected) {
      // the node aborted the response: fine, it ended
    }
    long pullEnded = elapsedMillis(killed);
    HttpResponse<String> putResult = put.get(120, TimeUnit.SECONDS);
    long putEnded = elapsedMillis(killed);
    String times = "after the kill, the pull ended in " + pullEnded + " ms, the PUT in " + putEnded + " ms ("
        + putResult.statusCode() + " " + putResult.body() + ")";
    assertTrue(read < BLOB, "node-2 was frozen before the pull could finish; read " + read);
    assertTrue(putResult.statusCode() == 503 || putResult.statusCode() == 201, "the PUT failed over or failed with 503; "
        + times);
    assertTrue(pullEnded < BOUND.toMillis() && putEnded < BOUND.toMillis(), times);
  }

  /** A repository whose owners among node-0..2 are exactly {@code primary}, then {@code second}. */
  private static String repoWithOwners(String primary, String second) {
    for (int i = 0; ; i++) {
      String repo = "peer/r" + i;
      List<String> nodes = new ArrayList<>(List.of("node-0", "node-1", "node-2"));
      nodes.sort(Comparator.comparing((String n) -> Placement.score(n, repo), Long::compareUnsigned).reversed());
      if (nodes.get(0).equals(primary) && nodes.get(1).equals(second)) {
        return repo;
      }
    }
  }

  private static void signal(String signal, long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "kill -" + signal + " " + pid);
  }

  private static long elapsedMillis(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }
}
