package io.flotilla.cluster;

import static io.flotilla.testing.OciClient.expect;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blob bytes between node processes cross the data channel (not the bus), byte-identical, and its
 * failures end cleanly. Three nodes on loopback, R=2, each with its own data port; every test reads
 * the channel's byte counters on {@code /metrics}, so bytes that went another way would fail it.
 * The last two tests kill nodes: the sender of a pull, then the forwarder of an upload.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DataChannelIT {
  private static final int R = 2;
  private static final int BLOB = 24 * 1024 * 1024;
  /** Larger than every buffer between the sender's disk and a client that stopped reading. */
  private static final int STALLED_BLOB = 96 * 1024 * 1024;

  @TempDir
  static Path dir;
  static ProcessCluster cluster;

  @RegisterExtension
  static final NodeLogsOnFailure NODE_LOGS_ON_FAILURE = NodeLogsOnFailure.of(() -> cluster);

  @BeforeAll
  static void start() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of("FLOTILLA_CLUSTER_REPLICATION_FACTOR", Integer.toString(R),
        "FLOTILLA_CLUSTER_DATA_IDLE_TIMEOUT", "2s"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void nonOwnerPullsAndRangesAreByteIdenticalOverTheChannel() throws Exception {
    String repo = repoWithOwners("node-1", "node-2", "dc/pull");
    byte[] blob = Images.random(BLOB, 11);
    Digest d = new OciClient(cluster.node(1).url()).pushBlob(repo, blob);
    OciClient via = new OciClient(cluster.node(0).url());
    long received = metric(cluster.node(0), "flotilla_datachannel_received_bytes");
    long sent = metric(cluster.node(1), "flotilla_datachannel_sent_bytes")
        + metric(cluster.node(2), "flotilla_datachannel_sent_bytes");

    var full = via.get("/v2/" + repo + "/blobs/" + d);
    expect(full, 200);
    assertArrayEquals(blob, full.body(), "a whole blob through a non-owner");
    var range = via.get("/v2/" + repo + "/blobs/" + d, Map.of("Range", "bytes=1000-5000999"));
    expect(range, 206);
    assertArrayEquals(Arrays.copyOfRange(blob, 1000, 5001000), range.body(), "a range through a non-owner");
    var suffix = via.get("/v2/" + repo + "/blobs/" + d, Map.of("Range", "bytes=-4097"));
    expect(suffix, 206);
    assertArrayEquals(Arrays.copyOfRange(blob, BLOB - 4097, BLOB), suffix.body(), "a suffix range");

    long expected = BLOB + 5_000_000L + 4097;
    long gotHere = metric(cluster.node(0), "flotilla_datachannel_received_bytes") - received;
    long sentThere = metric(cluster.node(1), "flotilla_datachannel_sent_bytes")
        + metric(cluster.node(2), "flotilla_datachannel_sent_bytes") - sent;
    assertTrue(gotHere >= expected, "node-0 received " + gotHere + " bytes over the data channel, expected " + expected);
    assertTrue(sentThere >= expected, "the owners sent " + sentThere + " bytes over the data channel");
  }

  @Test
  @Order(2)
  void uploadsThroughANodeWithoutTheSessionAreByteIdenticalOverTheChannel() throws Exception {
    String repo = repoWithOwners("node-1", "node-2", "dc/push");
    OciClient via = new OciClient(cluster.node(0).url());
    long sent = metric(cluster.node(0), "flotilla_datachannel_sent_bytes");

    // a monolithic push through node-0: the session lives on node-1, the PUT body crosses the channel
    byte[] whole = Images.random(BLOB, 12);
    Digest wholeDigest = via.pushBlob(repo, whole);

    // a chunked upload: PATCHes through node-0 and node-2, the closing PUT through node-0
    byte[] chunked = Images.random(BLOB, 13);
    Digest chunkedDigest = Digest.sha256(chunked);
    var post = via.send("POST", "/v2/" + repo + "/blobs/uploads/", null, Map.of());
    expect(post, 202);
    String location = post.headers().firstValue("Location").orElseThrow();
    assertTrue(location.contains(".node-1"), "the session lives on the primary: " + location);
    int third = BLOB / 3;
    patch(via, location, chunked, 0, third);
    patch(new OciClient(cluster.node(2).url()), location, chunked, third, 2 * third);
    var put = via.send("PUT", location + (location.contains("?") ? "&" : "?") + "digest=" + chunkedDigest,
        Arrays.copyOfRange(chunked, 2 * third, BLOB), Map.of("Content-Type", "application/octet-stream"));
    expect(put, 201);

    for (int i = 0; i < 3; i++) {
      OciClient c = new OciClient(cluster.node(i).url());
      assertArrayEquals(whole, c.get("/v2/" + repo + "/blobs/" + wholeDigest).body(), "whole via node-" + i);
      assertArrayEquals(chunked, c.get("/v2/" + repo + "/blobs/" + chunkedDigest).body(), "chunked via node-" + i);
    }
    long sentHere = metric(cluster.node(0), "flotilla_datachannel_sent_bytes") - sent;
    long forwarded = BLOB + (BLOB - third); // the monolithic body, the first PATCH and the PUT's chunk
    assertTrue(sentHere >= forwarded, "node-0 sent " + sentHere + " bytes over the data channel, expected "
        + forwarded);
  }

  @Test
  @Order(3)
  void aForwardedUploadWithTheWrongDigestIsNotCommitted() throws Exception {
    String repo = repoWithOwners("node-1", "node-2", "dc/bad");
    OciClient via = new OciClient(cluster.node(0).url());
    byte[] blob = Images.random(4 * 1024 * 1024, 14);
    Digest claimed = Digest.sha256("something else".getBytes(StandardCharsets.UTF_8));
    var post = via.send("POST", "/v2/" + repo + "/blobs/uploads/", null, Map.of());
    expect(post, 202);
    String location = post.headers().firstValue("Location").orElseThrow();
    var put = via.send("PUT", location + (location.contains("?") ? "&" : "?") + "digest=" + claimed, blob,
        Map.of("Content-Type", "application/octet-stream"));
    expect(put, 400);
    expect(new OciClient(cluster.node(1).url()).send("HEAD", "/v2/" + repo + "/blobs/" + Digest.sha256(blob), null,
        Map.of()), 404);
  }

  @Test
  @Order(4)
  void aTicketThatWasNeverIssuedIsRefused() throws Exception {
    NodeProcess node = cluster.node(1);
    long refused = metric(node, "flotilla_datachannel_refused");
    for (char direction : new char[] {'R', 'W', 'X'}) {
      try (Socket s = new Socket("127.0.0.1", node.dataPort())) {
        s.setSoTimeout(30_000);
        s.getOutputStream().write((direction + "A".repeat(43)).getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        assertEquals(-1, s.getInputStream().read(), "the connection is closed without a byte");
      }
    }
    await(() -> metric(node, "flotilla_datachannel_refused") >= refused + 3, "three refusals counted");
  }

  @Test
  @Order(5)
  void aReceiverThatStopsReadingIsCutOffWithoutTheSenderBuffering() throws Exception {
    String repo = repoWithOwners("node-1", "node-2", "dc/stall");
    byte[] blob = Images.random(STALLED_BLOB, 15);
    Digest d = new OciClient(cluster.node(1).url()).pushBlob(repo, blob);
    long failed = metric(cluster.node(0), "flotilla_datachannel_transfers_failed");
    long received = metric(cluster.node(0), "flotilla_datachannel_received_bytes");
    try (Socket s = new Socket("127.0.0.1", port(cluster.node(0)))) {
      s.setReceiveBufferSize(64 * 1024);
      OutputStream out = s.getOutputStream();
      out.write(("GET /v2/" + repo + "/blobs/" + d + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] first = in.readNBytes(256 * 1024);
      assertEquals(256 * 1024, first.length);
      // stop reading: the channel stalls, its idle timeout (2 s here) ends the transfer on node-0
      await(() -> metric(cluster.node(0), "flotilla_datachannel_transfers_failed") > failed,
          "node-0 gave up the stalled transfer");
      await(() -> metric(cluster.node(1), "flotilla_datachannel_open_connections") == 0
          && metric(cluster.node(2), "flotilla_datachannel_open_connections") == 0, "the senders closed it");
      // node-0 (a non-owner: this pull is all it receives) took no more than its buffers hold
      long took = metric(cluster.node(0), "flotilla_datachannel_received_bytes") - received;
      assertTrue(took < STALLED_BLOB / 2, "the transfer stopped with the reader: node-0 received " + took + " of "
          + STALLED_BLOB);
    }
    // the nodes are fine afterwards
    assertArrayEquals(blob, new OciClient(cluster.node(0).url()).get("/v2/" + repo + "/blobs/" + d).body());
  }

  @Test
  @Order(6)
  void aSenderKilledMidPullEndsThePullWithAnError() throws Exception {
    String repo = repoWithOwners("node-2", "node-1", "dc/kill-pull");
    byte[] blob = Images.random(STALLED_BLOB, 16);
    Digest d = new OciClient(cluster.node(2).url()).pushBlob(repo, blob);
    long failed = metric(cluster.node(0), "flotilla_datachannel_transfers_failed");
    long read;
    try (Socket s = new Socket("127.0.0.1", port(cluster.node(0)))) {
      s.setSoTimeout(60_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET /v2/" + repo + "/blobs/" + d + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      read = in.readNBytes(1024 * 1024).length;
      cluster.node(2).kill9();
      byte[] buf = new byte[1 << 16];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          read += n;
        }
      } catch (IOException expected) {
        // reset: the response was aborted
      }
    }
    assertTrue(read < STALLED_BLOB, "the pull cannot complete once its sender died; read " + read);
    await(() -> metric(cluster.node(0), "flotilla_datachannel_transfers_failed") > failed,
        "node-0 counted the failed transfer");
  }

  @Test
  @Order(7)
  void aForwarderKilledMidUploadCommitsNothing() throws Exception {
    cluster.awaitMembers(2);
    String repo = repoWithOwners("node-1", "node-0", "dc/kill-push");
    OciClient holder = new OciClient(cluster.node(1).url());
    var post = holder.send("POST", "/v2/" + repo + "/blobs/uploads/", null, Map.of());
    expect(post, 202);
    String location = post.headers().firstValue("Location").orElseThrow();
    byte[] blob = Images.random(BLOB, 17);
    try (Socket s = new Socket("127.0.0.1", port(cluster.node(0)))) {
      OutputStream out = s.getOutputStream();
      out.write(("PATCH " + location + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
          + "Content-Range: 0-" + (BLOB - 1) + "\r\nContent-Length: " + BLOB + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.write(blob, 0, BLOB / 2);
      out.flush();
      await(() -> metric(cluster.node(1), "flotilla_datachannel_received_bytes") > 0, "bytes reach node-1");
      cluster.node(0).kill9();
    }
    // node-1 must not have taken the half body as a chunk: the session is still at 0
    await(() -> {
      var status = holder.get(location);
      return status.statusCode() == 204 && status.headers().firstValue("Range").orElse("").equals("0-0")
          || status.statusCode() == 204 && status.headers().firstValue("Range").isEmpty();
    }, "the upload session is still empty on node-1");
    Digest d = Digest.sha256(blob);
    var put = holder.send("PUT", location + (location.contains("?") ? "&" : "?") + "digest=" + d, blob,
        Map.of("Content-Type", "application/octet-stream"));
    expect(put, 201);
    assertArrayEquals(blob, holder.get("/v2/" + repo + "/blobs/" + d).body());
  }

  /** A repository whose owners among node-0..2 are exactly {@code primary}, then {@code second}. */
  private static String repoWithOwners(String primary, String second, String prefix) {
    for (int i = 0; ; i++) {
      String repo = prefix + i;
      List<String> nodes = new ArrayList<>(List.of("node-0", "node-1", "node-2"));
      nodes.sort(Comparator.comparing((String n) -> Placement.score(n, repo), Long::compareUnsigned).reversed());
      if (nodes.get(0).equals(primary) && nodes.get(1).equals(second)) {
        return repo;
      }
    }
  }

  private static void patch(OciClient c, String location, byte[] blob, int from, int to) {
    var r = c.send("PATCH", location, Arrays.copyOfRange(blob, from, to), Map.of("Content-Type",
        "application/octet-stream", "Content-Range", from + "-" + (to - 1)));
    expect(r, 202);
  }

  private static int port(NodeProcess node) {
    return Integer.parseInt(node.url().substring(node.url().lastIndexOf(':') + 1));
  }

  /** The value of the first sample of metric {@code name} on the node's /metrics. */
  private static long metric(NodeProcess node, String name) {
    String text = OciClient.text(new OciClient(node.url()).get("/metrics"));
    for (String line : text.split("\n")) {
      if (line.startsWith(name) && (line.charAt(name.length()) == ' ' || line.charAt(name.length()) == '_'
          || line.charAt(name.length()) == '{')) {
        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no metric " + name + " on " + node.url());
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting: " + what);
      }
      Thread.sleep(200);
    }
  }
}
