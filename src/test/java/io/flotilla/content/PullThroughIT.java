package io.flotilla.content;

import static io.flotilla.content.UpstreamTesting.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.e2e.Skopeo;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import io.flotilla.testing.WebhookReceiver;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On-demand pull-through between two Flotilla nodes in this JVM: the downstream serves
 * {@code cache/x} from the upstream's {@code lib/x} (skopeo pulls through it, then again with the
 * upstream gone), and serves {@code cache/big} and {@code cache/cut} from a scripted upstream that
 * counts its requests and can die in the middle of a blob.
 */
class PullThroughIT {
  private static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
  private static final RequestContext INTERNAL = RequestContext.internal("pull-through-it");
  @TempDir
  static Path dir;
  static TestNode upstreamNode;
  static TestNode downstream;
  static FaultServer fault;
  static OciClient up;
  static OciClient down;
  static UpstreamRegistry upstream;
  static UpstreamRegistry faultUpstream;
  static WebhookReceiver receiver;
  static final Map<String, PullThroughSource> SOURCES = new ConcurrentHashMap<>();

  record Image(Digest digest, byte[] body, Map<Digest, byte[]> blobs) {}

  @BeforeAll
  static void start() throws Exception {
    receiver = new WebhookReceiver();
    upstreamNode = TestNode.start(dir.resolve("upstream"));
    downstream = TestNode.start(dir.resolve("downstream"), Map.of("events.allowPrivateWebhookTargets", "true"));
    fault = new FaultServer();
    up = new OciClient(upstreamNode.url());
    down = new OciClient(downstream.url(), Duration.ofSeconds(60));
    OciClient.expect(down.send("POST", "/api/v1/webhooks", ("{\"name\":\"cache\",\"url\":\""
        + receiver.url("/cache") + "\",\"repositories\":\"cache/x\",\"backoff\":\"100ms\"}")
        .getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json")), 201);
    upstream = new UpstreamRegistry(downstream.node().vertx(), UpstreamConfig.of(upstreamNode.url())
        .withRetries(2, Duration.ofMillis(50), Duration.ofSeconds(1)));
    faultUpstream = new UpstreamRegistry(downstream.node().vertx(), UpstreamConfig.of(fault.url())
        .withRetries(1, Duration.ofMillis(50), Duration.ofSeconds(1)));
    SOURCES.put("cache/x", new PullThroughSource(upstream, RepositoryName.of("lib/x"),
        new TagFilter(List.of(), List.of("*-rc"))));
    SOURCES.put("cache/big", new PullThroughSource(faultUpstream, RepositoryName.of("lib/big"),
        new TagFilter(List.of(), List.of())));
    SOURCES.put("cache/cut", new PullThroughSource(faultUpstream, RepositoryName.of("lib/cut"),
        new TagFilter(List.of(), List.of())));
    downstream.node().pullThroughSources(repo -> Optional.ofNullable(SOURCES.get(repo)));
  }

  @AfterAll
  static void stop() throws Exception {
    if (upstream != null) {
      await(upstream.close());
      await(faultUpstream.close());
    }
    if (downstream != null) {
      downstream.close();
    }
    if (upstreamNode != null) {
      upstreamNode.close();
    }
    if (fault != null) {
      fault.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private static Image push(String repo, String reference, byte[]... layers) {
    Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"},\"ref\":\""
        + reference + "\"}").getBytes(StandardCharsets.UTF_8);
    Digest configDigest = up.pushBlob(repo, config);
    blobs.put(configDigest, config);
    List<String> descriptors = new ArrayList<>();
    for (byte[] layer : layers) {
      Digest d = up.pushBlob(repo, layer);
      blobs.put(d, layer);
      descriptors.add(Images.descriptor(OCI_LAYER, d, layer.length));
    }
    byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
        + ",\"layers\":[" + String.join(",", descriptors) + "]}").getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.sha256(body);
    OciClient.expect(up.putManifest(repo, reference.equals("-") ? digest.toString() : reference,
        MediaTypes.OCI_MANIFEST, body), 201);
    return new Image(digest, body, blobs);
  }

  /** Copies {@code cache/x:<tag>} out of the downstream with skopeo and checks every file against the image. */
  private static void skopeoPull(String tag, Image image, Path into) throws Exception {
    Skopeo.runOk("copy", "--src-tls-verify=false", "docker://" + downstream.hostPort() + "/cache/x:" + tag,
        "dir:" + into);
    assertArrayEquals(image.body(), Files.readAllBytes(into.resolve("manifest.json")));
    for (var e : image.blobs().entrySet()) {
      assertArrayEquals(e.getValue(), Files.readAllBytes(into.resolve(e.getKey().hex())), "blob " + e.getKey());
    }
  }

  private static boolean storedManifest(String repo, String reference) {
    try {
      await(downstream.node().storage().getManifest(INTERNAL, repo, reference));
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static boolean storedBlob(String repo, Digest digest) {
    try {
      await(downstream.node().storage().statBlob(INTERNAL, repo, digest.toString()));
      return true;
    } catch (OciException e) {
      assertTrue(e.error() == OciError.BLOB_UNKNOWN || e.error() == OciError.NAME_UNKNOWN, e.toString());
      return false;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void skopeoPullsThroughThenTheDownstreamServesItAlone() throws Exception {
    Skopeo.require();
    Image v1 = push("lib/x", "1.0", Images.random(3 * 1024 * 1024, 11), Images.random(70_000, 12));
    Image rc = push("lib/x", "2.0-rc", Images.random(50_000, 13));
    Image untagged = push("lib/x", "-", Images.random(40_000, 14));
    assertTrue(!storedManifest("cache/x", "1.0"));

    skopeoPull("1.0", v1, dir.resolve("first"));

    // stored in the background, through the ordinary manifest put, once its blobs are there
    Await.until("cache/x:1.0 stored", Duration.ofSeconds(30), () -> storedManifest("cache/x", "1.0"));
    ManifestContent stored = await(downstream.node().storage().getManifest(INTERNAL, "cache/x", "1.0"));
    assertEquals(v1.digest().toString(), stored.digest());
    for (Digest d : v1.blobs().keySet()) {
      assertTrue(storedBlob("cache/x", d), "blob " + d);
    }

    // the client's pull is reported as a pull; what was stored as the node's pushes, naming the upstream
    Await.until("pull and push events", Duration.ofSeconds(30), () -> {
      List<JsonNode> events = receiver.received("/cache").stream().flatMap(r -> r.events().stream()).toList();
      boolean pulled = events.stream().anyMatch(e -> "pull".equals(e.path("action").asText())
          && "1.0".equals(e.at("/target/tag").asText()) && !"flotilla".equals(e.at("/actor/name").asText()));
      boolean pushed = events.stream().anyMatch(e -> "push".equals(e.path("action").asText())
          && "1.0".equals(e.at("/target/tag").asText()) && v1.digest().toString().equals(e.at("/target/digest").asText())
          && "flotilla".equals(e.at("/actor/name").asText()) && "SYNC".equals(e.at("/request/method").asText()));
      return pulled && pushed;
    });

    // a tag the remote's filter excludes is not served (nor fetched)
    var excluded = down.get("/v2/cache/x/manifests/2.0-rc");
    assertEquals(404, excluded.statusCode());
    assertTrue(OciClient.text(excluded).contains("MANIFEST_UNKNOWN"), OciClient.text(excluded));
    assertTrue(!storedManifest("cache/x", "2.0-rc"));
    assertTrue(!storedManifest("cache/x", rc.digest().toString()));

    // by digest: served, then stored by digest (no tag)
    var byDigest = down.get("/v2/cache/x/manifests/" + untagged.digest(),
        Map.of("Accept", MediaTypes.OCI_MANIFEST));
    assertEquals(200, byDigest.statusCode(), OciClient.text(byDigest));
    assertArrayEquals(untagged.body(), byDigest.body());
    Await.until("the untagged manifest stored", Duration.ofSeconds(30), () -> storedManifest("cache/x", untagged.digest().toString()));

    // tag lists are local: only what was pulled through
    var tags = down.get("/v2/cache/x/tags/list");
    assertEquals(200, tags.statusCode());
    assertEquals("{\"name\":\"cache/x\",\"tags\":[\"1.0\"]}", OciClient.text(tags).replace(" ", ""));

    // the upstream gone: the downstream serves what it stored
    upstreamNode.close();
    upstreamNode = null;
    skopeoPull("1.0", v1, dir.resolve("second"));
    var missing = down.get("/v2/cache/x/manifests/3.0");
    assertTrue(missing.statusCode() >= 500 || missing.statusCode() == 404, "status " + missing.statusCode());
  }

  @Test
  void concurrentFirstPullsOfOneBlobFetchItOnce() throws Exception {
    byte[] bytes = Images.random(32 * 1024 * 1024, 21);
    Digest d = Digest.sha256(bytes);
    String path = "/v2/lib/big/blobs/" + d;
    CountDownLatch firstAsked = new CountDownLatch(1);
    fault.on(path, (x, n) -> {
      x.getResponseHeaders().add("Docker-Content-Digest", d.toString());
      x.sendResponseHeaders(200, bytes.length);
      OutputStream out = x.getResponseBody();
      int chunk = 1024 * 1024;
      for (int off = 0; off < bytes.length; off += chunk) {
        out.write(bytes, off, Math.min(chunk, bytes.length - off));
        out.flush();
        if (off == 0) {
          firstAsked.countDown();
        }
        sleep(15); // about half a second in all: the second pull comes while the first streams
      }
      out.close();
    });
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<HttpResponse<byte[]>> first = pool.submit(() -> down.get("/v2/cache/big/blobs/" + d));
      assertTrue(firstAsked.await(30, TimeUnit.SECONDS));
      Future<HttpResponse<byte[]>> second = pool.submit(() -> down.get("/v2/cache/big/blobs/" + d));
      for (var f : List.of(first, second)) {
        HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals(d, Digest.sha256(r.body()));
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, fault.seen(path).size(), "upstream GETs of the blob");
    assertTrue(storedBlob("cache/big", d));
    // and from now on served locally
    var third = down.get("/v2/cache/big/blobs/" + d, Map.of("Range", "bytes=10-19"));
    assertEquals(206, third.statusCode());
    assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 10, 20), third.body());
    assertEquals(1, fault.seen(path).size(), "upstream GETs of the blob");
  }

  @Test
  void anUpstreamThatDiesMidBlobFailsTheDownloadAndStoresNothing() throws Exception {
    byte[] bytes = Images.random(4 * 1024 * 1024, 31);
    Digest d = Digest.sha256(bytes);
    String path = "/v2/lib/cut/blobs/" + d;
    fault.on(path, (x, n) -> {
      x.sendResponseHeaders(200, bytes.length);
      OutputStream out = x.getResponseBody();
      if (n == 1) {
        out.write(bytes, 0, bytes.length / 2);
        out.flush();
        sleep(300);
        x.close(); // fewer bytes than announced: the connection is closed
        return;
      }
      out.write(bytes);
      out.close();
    });
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpRequest get = HttpRequest.newBuilder(URI.create(downstream.url() + "/v2/cache/cut/blobs/" + d))
        .timeout(Duration.ofSeconds(60)).build();
    // the response was started (headers, half the bytes) and is then cut: an error, never a short success
    assertThrows(IOException.class, () -> http.send(get, HttpResponse.BodyHandlers.ofByteArray()));
    Thread.sleep(500);
    assertTrue(!storedBlob("cache/cut", d), "a blob cut short must not be stored");

    HttpResponse<byte[]> again = http.send(get, HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, again.statusCode());
    assertArrayEquals(bytes, again.body());
    assertEquals(2, fault.seen(path).size());
    Await.until("the blob stored", Duration.ofSeconds(10), () -> storedBlob("cache/cut", d));
  }

  @Test
  void aBlobUnknownUpstreamIsUnknownHere() {
    Digest d = Digest.sha256("nowhere".getBytes(StandardCharsets.UTF_8));
    var r = down.get("/v2/cache/big/blobs/" + d);
    assertEquals(404, r.statusCode());
    assertTrue(OciClient.text(r).contains("BLOB_UNKNOWN"), OciClient.text(r));
    var head = down.send("HEAD", "/v2/cache/big/blobs/" + d, null, Map.of());
    assertEquals(404, head.statusCode());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
