package io.flotilla.crash;

import static io.flotilla.crash.CrashChecks.assertHeader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upload sessions outlive the process: after a graceful stop and after a {@code kill -9} in the
 * middle of a chunk, a client resumes from the acknowledged offset and gets a correct blob.
 */
class ResumableUploadIT {
  private static final String REPO = "resume/app";

  @TempDir
  Path tmp;

  private static NodeProcess start(Path data) throws Exception {
    return NodeProcess.start(data, TestNode.freePort(), TestNode.freePort(), Map.of());
  }

  private static HttpResponse<byte[]> patch(OciClient c, String location, byte[] all, int from, int to) {
    byte[] chunk = Arrays.copyOfRange(all, from, to);
    return c.send("PATCH", location, chunk, Map.of("Content-Type", "application/octet-stream",
        "Content-Range", from + "-" + (to - 1)));
  }

  @Test
  void chunkedUploadResumesAfterGracefulRestart() throws Exception {
    Path data = tmp.resolve("data");
    byte[] blob = CrashChecks.content(3 * 1024 * 1024 + 12345, 42);
    int c1 = 1024 * 1024;
    int c2 = 2 * 1024 * 1024 + 1000;
    String location;
    String id;
    try (NodeProcess node = start(data)) {
      OciClient c = new OciClient(node.url());
      HttpResponse<byte[]> post = c.send("POST", "/v2/" + REPO + "/blobs/uploads/", null, Map.of());
      OciClient.expect(post, 202);
      location = post.headers().firstValue("Location").orElseThrow();
      id = post.headers().firstValue("Docker-Upload-UUID").orElseThrow();
      HttpResponse<byte[]> p1 = patch(c, location, blob, 0, c1);
      OciClient.expect(p1, 202);
      assertHeader(p1, "Range", "0-" + (c1 - 1));
      HttpResponse<byte[]> p2 = patch(c, location, blob, c1, c2);
      OciClient.expect(p2, 202);
      assertHeader(p2, "Range", "0-" + (c2 - 1));

      int exit = node.terminate();
      String out = node.output();
      assertEquals(143, exit, "exit status after SIGTERM; output:\n" + out);
      assertTrue(out.contains("shutting down gracefully"), out);
      assertFalse(out.contains("did not complete cleanly"), out);
    }
    assertTrue(Files.isRegularFile(data.resolve("uploads").resolve(id).resolve("state.json")));

    try (NodeProcess node = start(data)) {
      OciClient c = new OciClient(node.url());
      HttpResponse<byte[]> status = c.get(location);
      OciClient.expect(status, 204);
      assertHeader(status, "Range", "0-" + (c2 - 1));
      assertHeader(status, "Docker-Upload-UUID", id);
      assertHeader(status, "Location", location);

      // Out of order after the restart: a gap, a rewind, and an overlap are all refused with the offset.
      for (int start : new int[] {c2 + 10, 0, c2 - 1}) {
        HttpResponse<byte[]> bad = patch(c, location, blob, start, Math.min(blob.length, start + 1000));
        OciClient.expect(bad, 416);
        assertHeader(bad, "Range", "0-" + (c2 - 1));
        assertTrue(OciClient.text(bad).contains("RANGE_INVALID"), OciClient.text(bad));
      }
      HttpResponse<byte[]> still = c.get(location);
      OciClient.expect(still, 204);
      assertHeader(still, "Range", "0-" + (c2 - 1));

      HttpResponse<byte[]> p3 = patch(c, location, blob, c2, blob.length);
      OciClient.expect(p3, 202);
      assertHeader(p3, "Range", "0-" + (blob.length - 1));
      Digest digest = Digest.sha256(blob);
      HttpResponse<byte[]> put = c.send("PUT", location + "?digest=" + digest, null, Map.of());
      OciClient.expect(put, 201);
      assertHeader(put, "Docker-Content-Digest", digest.toString());

      HttpResponse<byte[]> get = c.get("/v2/" + REPO + "/blobs/" + digest);
      OciClient.expect(get, 200);
      assertArrayEquals(blob, get.body());
      OciClient.expect(c.get(location), 404);
      CrashChecks.verifyBlobFiles(data);
    }
  }

  /** A body that sends {@code first} bytes, then blocks until released, then fails. */
  private static final class StallingBody extends InputStream {
    private final byte[] first;
    private final CountDownLatch release = new CountDownLatch(1);
    private int pos;

    StallingBody(byte[] first) {
      this.first = first;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (pos < first.length) {
        int n = Math.min(len, first.length - pos);
        System.arraycopy(first, pos, b, off, n);
        pos += n;
        return n;
      }
      try {
        release.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("stalled body released");
    }
  }

  /** One upload that will be caught by the kill in the middle of its second chunk. */
  private record Stalled(String location, byte[] blob, int acked, StallingBody body, CompletableFuture<?> request,
      Path dataFile) {}

  private static Stalled stall(OciClient c, HttpClient http, String base, Path data, byte[] blob, int acked)
      throws Exception {
    HttpResponse<byte[]> post = c.send("POST", "/v2/" + REPO + "/blobs/uploads/", null, Map.of());
    OciClient.expect(post, 202);
    String location = post.headers().firstValue("Location").orElseThrow();
    String id = post.headers().firstValue("Docker-Upload-UUID").orElseThrow();
    OciClient.expect(patch(c, location, blob, 0, acked), 202);
    StallingBody body = new StallingBody(Arrays.copyOfRange(blob, acked, acked + 512 * 1024));
    // Chunked (no Content-Length, no Content-Range): the stream is cut by the kill.
    CompletableFuture<?> f = http.sendAsync(HttpRequest.newBuilder(URI.create(base + location))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/octet-stream")
        .method("PATCH", HttpRequest.BodyPublishers.ofInputStream(() -> body)).build(),
        HttpResponse.BodyHandlers.discarding());
    return new Stalled(location, blob, acked, body, f, data.resolve("uploads").resolve(id).resolve("data"));
  }

  @Test
  void uploadsCutByKill9ResumeFromTheAcknowledgedOffset() throws Exception {
    Path data = tmp.resolve("data");
    int size = 2 * 1024 * 1024 + 777;
    int acked = 1024 * 1024;
    Stalled s256;
    Stalled s512;
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    try (NodeProcess node = start(data)) {
      OciClient c = new OciClient(node.url());
      s256 = stall(c, http, node.url(), data, CrashChecks.content(size, 7), acked);
      s512 = stall(c, http, node.url(), data, CrashChecks.content(size, 8), acked);
      // Wait until part of each unacknowledged chunk has reached the data files, then kill.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (Files.size(s256.dataFile()) <= acked || Files.size(s512.dataFile()) <= acked) {
        assertTrue(System.nanoTime() < deadline, "the stalled chunks never reached the disk");
        Thread.sleep(20);
      }
      node.kill9();
    }
    for (Stalled s : new Stalled[] {s256, s512}) {
      s.body().release.countDown();
      assertTrue(Files.size(s.dataFile()) > acked, "unacknowledged bytes are on disk after the kill");
    }

    try (NodeProcess node = start(data)) {
      OciClient c = new OciClient(node.url());
      for (Stalled s : new Stalled[] {s256, s512}) {
        HttpResponse<byte[]> status = c.get(s.location());
        OciClient.expect(status, 204);
        assertHeader(status, "Range", "0-" + (acked - 1));
        OciClient.expect(patch(c, s.location(), s.blob(), acked + 1, size), 416);
        HttpResponse<byte[]> rest = patch(c, s.location(), s.blob(), acked, size);
        OciClient.expect(rest, 202);
        assertHeader(rest, "Range", "0-" + (size - 1));
      }
      Digest d256 = Digest.of(DigestAlgorithm.SHA256, s256.blob());
      Digest d512 = Digest.of(DigestAlgorithm.SHA512, s512.blob());
      OciClient.expect(c.send("PUT", s256.location() + "?digest=" + d256, null, Map.of()), 201);
      OciClient.expect(c.send("PUT", s512.location() + "?digest=" + d512, null, Map.of()), 201);
      for (Object[] pair : new Object[][] {{d256, s256.blob()}, {d512, s512.blob()}}) {
        Digest d = (Digest) pair[0];
        byte[] expected = (byte[]) pair[1];
        HttpResponse<byte[]> get = c.get("/v2/" + REPO + "/blobs/" + d);
        OciClient.expect(get, 200);
        assertArrayEquals(expected, get.body(), "served bytes of " + d.algorithm().id());
        Path file = CrashChecks.blobFile(data, d);
        assertEquals(expected.length, Files.size(file), "stored file size of " + d.algorithm().id() + " blob " + d);
      }
      CrashChecks.BlobWalk walk = CrashChecks.verifyBlobFiles(data);
      var usage = CrashChecks.JSON.readTree(c.get("/api/v1/storage/usage").body());
      assertEquals(walk.bytes(), usage.get("storedBytes").asLong(), "usage counts the bytes stored: " + usage);
    }
  }
}
