package io.flotilla.http;

import static io.flotilla.testing.OciClient.expect;
import static io.flotilla.testing.OciClient.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distribution API end to end over HTTP against an in-process node. */
class RegistryApiIT {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir
  static Path dir;
  static TestNode node;
  static OciClient client;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir.resolve("data"));
    client = new OciClient(node.url());
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  static String header(HttpResponse<?> r, String name) {
    return r.headers().firstValue(name).orElse(null);
  }

  static JsonNode json(HttpResponse<byte[]> r) throws Exception {
    return JSON.readTree(r.body());
  }

  @Test
  void baseEndpoint() {
    var r = client.get("/v2/");
    expect(r, 200);
    assertEquals("registry/2.0", header(r, "Docker-Distribution-API-Version"));
  }

  @Test
  void monolithicPushAndPull() {
    byte[] blob = Images.random(300_000, 1);
    Digest d = Digest.sha256(blob);
    var post = client.send("POST", "/v2/api/mono/blobs/uploads/?digest=" + d, blob, Map.of());
    expect(post, 201);
    assertEquals("/v2/api/mono/blobs/" + d, header(post, "Location"));
    assertEquals(d.toString(), header(post, "Docker-Content-Digest"));
    var get = client.get("/v2/api/mono/blobs/" + d);
    expect(get, 200);
    assertArrayEquals(blob, get.body());
    assertEquals(d.toString(), header(get, "Docker-Content-Digest"));
    var head = client.send("HEAD", "/v2/api/mono/blobs/" + d, null, Map.of());
    expect(head, 200);
    assertEquals(Integer.toString(blob.length), header(head, "Content-Length"));
  }

  @Test
  void concurrentUploadsAllVerify() throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    try {
      List<java.util.concurrent.Future<String>> results = new ArrayList<>();
      for (int w = 0; w < 8; w++) {
        int worker = w;
        results.add(pool.submit(() -> {
          java.util.Random random = new java.util.Random(worker);
          for (int i = 0; i < 25; i++) {
            byte[] blob = new byte[1 + random.nextInt(600_000)];
            random.nextBytes(blob);
            Digest d = Digest.sha256(blob);
            var r = client.send("POST", "/v2/api/concurrent/blobs/uploads/?digest=" + d, blob, Map.of());
            if (r.statusCode() != 201) {
              return r.statusCode() + " " + text(r);
            }
          }
          return "ok";
        }));
      }
      for (var f : results) {
        assertEquals("ok", f.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void sha512Upload() {
    byte[] blob = Images.random(5000, 2);
    Digest d = Digest.of(DigestAlgorithm.SHA512, blob);
    expect(client.send("POST", "/v2/api/sha512/blobs/uploads/?digest=" + d, blob, Map.of()), 201);
    var post = client.send("POST", "/v2/api/sha512/blobs/uploads/", null, Map.of());
    expect(post, 202);
    byte[] other = Images.random(7000, 3);
    Digest d2 = Digest.of(DigestAlgorithm.SHA512, other);
    expect(client.send("PATCH", header(post, "Location"), other, Map.of()), 202);
    expect(client.send("PUT", header(post, "Location") + "?digest=" + d2, null, Map.of()), 201);
    assertArrayEquals(blob, client.get("/v2/api/sha512/blobs/" + d).body());
    assertArrayEquals(other, client.get("/v2/api/sha512/blobs/" + d2).body());
  }

  @Test
  void chunkedUploadWithStatusAndOutOfOrderChunk() {
    byte[] blob = Images.random(200, 4);
    Digest d = Digest.sha256(blob);
    var post = client.send("POST", "/v2/api/chunked/blobs/uploads/", null, Map.of());
    expect(post, 202);
    String location = header(post, "Location");
    assertEquals("0-0", header(post, "Range"));
    assertTrue(location.endsWith(header(post, "Docker-Upload-UUID")));
    var p1 = client.send("PATCH", location, Arrays.copyOfRange(blob, 0, 100),
        Map.of("Content-Range", "0-99", "Content-Type", "application/octet-stream"));
    expect(p1, 202);
    assertEquals("0-99", header(p1, "Range"));
    var status = client.get(location);
    expect(status, 204);
    assertEquals("0-99", header(status, "Range"));
    var bad = client.send("PATCH", location, Arrays.copyOfRange(blob, 50, 150), Map.of("Content-Range", "50-149"));
    expect(bad, 416);
    assertEquals("0-99", header(bad, "Range"));
    var p2 = client.send("PATCH", location, Arrays.copyOfRange(blob, 100, 200), Map.of("Content-Range", "100-199"));
    expect(p2, 202);
    assertEquals("0-199", header(p2, "Range"));
    var put = client.send("PUT", location + "?digest=" + d, null, Map.of());
    expect(put, 201);
    assertArrayEquals(blob, client.get("/v2/api/chunked/blobs/" + d).body());
  }

  @Test
  void finishWithLastChunkInPut() {
    byte[] blob = Images.random(1000, 5);
    Digest d = Digest.sha256(blob);
    var post = client.send("POST", "/v2/api/putchunk/blobs/uploads/", null, Map.of());
    expect(client.send("PATCH", header(post, "Location"), Arrays.copyOfRange(blob, 0, 600), Map.of()), 202);
    expect(client.send("PUT", header(post, "Location") + "?digest=" + d, Arrays.copyOfRange(blob, 600, 1000),
        Map.of("Content-Range", "600-999")), 201);
    assertArrayEquals(blob, client.get("/v2/api/putchunk/blobs/" + d).body());
  }

  @Test
  void wrongDigestStoresNothingAndCancelForgetsSession() {
    byte[] blob = Images.random(1000, 6);
    Digest wrong = Digest.sha256(new byte[] {1});
    var post = client.send("POST", "/v2/api/wrong/blobs/uploads/", null, Map.of());
    String location = header(post, "Location");
    expect(client.send("PATCH", location, blob, Map.of()), 202);
    var put = client.send("PUT", location + "?digest=" + wrong, null, Map.of());
    expect(put, 400);
    assertTrue(text(put).contains("DIGEST_INVALID"));
    expect(client.get("/v2/api/wrong/blobs/" + Digest.sha256(blob)), 404);
    var post2 = client.send("POST", "/v2/api/wrong/blobs/uploads/", null, Map.of());
    expect(client.send("DELETE", header(post2, "Location"), null, Map.of()), 204);
    var gone = client.get(header(post2, "Location"));
    expect(gone, 404);
    assertTrue(text(gone).contains("BLOB_UPLOAD_UNKNOWN"));
  }

  @Test
  void rangeRequests() {
    byte[] blob = Images.random(1000, 7);
    Digest d = client.pushBlob("api/range", blob);
    var part = client.get("/v2/api/range/blobs/" + d, Map.of("Range", "bytes=10-19"));
    expect(part, 206);
    assertArrayEquals(Arrays.copyOfRange(blob, 10, 20), part.body());
    assertEquals("bytes 10-19/1000", header(part, "Content-Range"));
    var tail = client.get("/v2/api/range/blobs/" + d, Map.of("Range", "bytes=-10"));
    assertArrayEquals(Arrays.copyOfRange(blob, 990, 1000), tail.body());
    var bad = client.get("/v2/api/range/blobs/" + d, Map.of("Range", "bytes=5000-"));
    expect(bad, 416);
    assertEquals("bytes */1000", header(bad, "Content-Range"));
  }

  @Test
  void crossRepositoryMount() {
    byte[] blob = Images.random(2000, 8);
    Digest d = client.pushBlob("api/mount-src", blob);
    expect(client.get("/v2/api/mount-dst/blobs/" + d), 404);
    var mount = client.send("POST", "/v2/api/mount-dst/blobs/uploads/?mount=" + d + "&from=api/mount-src", null, Map.of());
    expect(mount, 201);
    assertEquals("/v2/api/mount-dst/blobs/" + d, header(mount, "Location"));
    assertArrayEquals(blob, client.get("/v2/api/mount-dst/blobs/" + d).body());
    Digest unknown = Digest.sha256(new byte[] {9, 9});
    var fallback = client.send("POST", "/v2/api/mount-dst/blobs/uploads/?mount=" + unknown + "&from=api/mount-src", null, Map.of());
    expect(fallback, 202);
    assertTrue(header(fallback, "Location").startsWith("/v2/api/mount-dst/blobs/uploads/"));
  }

  @Test
  void manifestsByTagAndDigestWithNegotiationAndEtag() {
    var img = Images.push(client, "api/manifests", "v1", 2, 10);
    var get = client.get("/v2/api/manifests/manifests/v1", Map.of("Accept", MediaTypes.OCI_MANIFEST));
    expect(get, 200);
    assertArrayEquals(img.body(), get.body());
    assertEquals(MediaTypes.OCI_MANIFEST, header(get, "Content-Type"));
    assertEquals(img.manifest().toString(), header(get, "Docker-Content-Digest"));
    String etag = header(get, "ETag");
    var head = client.send("HEAD", "/v2/api/manifests/manifests/v1", null, Map.of());
    expect(head, 200);
    assertEquals(Integer.toString(img.body().length), header(head, "Content-Length"));
    assertEquals(0, head.body().length);
    var byDigest = client.get("/v2/api/manifests/manifests/" + img.manifest());
    assertArrayEquals(img.body(), byDigest.body());
    expect(client.get("/v2/api/manifests/manifests/v1", Map.of("If-None-Match", etag)), 304);
    var notAccepted = client.get("/v2/api/manifests/manifests/v1", Map.of("Accept", MediaTypes.DOCKER_MANIFEST));
    expect(notAccepted, 404);
    assertTrue(text(notAccepted).contains("MANIFEST_UNKNOWN"));
    expect(client.get("/v2/api/manifests/manifests/v1", Map.of("Accept", "*/*")), 200);
    expect(client.putManifest("api/manifests", img.manifest().toString(), MediaTypes.OCI_MANIFEST, img.body()), 201);
    expect(client.get("/v2/api/manifests/manifests/nope"), 404);
  }

  @Test
  void unknownPathsOutsideV2AnswerJson() {
    for (String path : new String[] {"/api/v1/nope", "/nope", "/api/v1/cluster/nope"}) {
      var r = client.get(path);
      expect(r, 404);
      assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), path);
      assertTrue(text(r).contains("\"NOT_FOUND\""), path + ": " + text(r));
    }
  }

  @Test
  void dockerManifestAndIndexes() {
    byte[] config = "{\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
    Digest c = client.pushBlob("api/docker", config);
    byte[] layer = Images.random(500, 11);
    Digest l = client.pushBlob("api/docker", layer);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.docker.container.image.v1+json", c, config.length) + ",\"layers\":["
        + Images.descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", l, layer.length) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    var put = client.putManifest("api/docker", "amd64", MediaTypes.DOCKER_MANIFEST, manifest);
    expect(put, 201);
    Digest md = Digest.sha256(manifest);
    byte[] list = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST_LIST + "\",\"manifests\":[{\"mediaType\":\""
        + MediaTypes.DOCKER_MANIFEST + "\",\"digest\":\"" + md + "\",\"size\":" + manifest.length
        + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}").getBytes(StandardCharsets.UTF_8);
    expect(client.putManifest("api/docker", "multi", MediaTypes.DOCKER_MANIFEST_LIST, list), 201);
    var get = client.get("/v2/api/docker/manifests/multi", Map.of("Accept", MediaTypes.DOCKER_MANIFEST_LIST + ", " + MediaTypes.DOCKER_MANIFEST));
    assertEquals(MediaTypes.DOCKER_MANIFEST_LIST, header(get, "Content-Type"));
    assertArrayEquals(list, get.body());
    byte[] missingChild = new String(list, StandardCharsets.UTF_8).replace(md.toString(), Digest.sha256(new byte[] {4}).toString())
        .getBytes(StandardCharsets.UTF_8);
    var bad = client.putManifest("api/docker", "broken", MediaTypes.DOCKER_MANIFEST_LIST, missingChild);
    expect(bad, 400);
    assertTrue(text(bad).contains("MANIFEST_BLOB_UNKNOWN"));
  }

  @Test
  void referrers() throws Exception {
    var img = Images.push(client, "api/refs", "v1", 1, 20);
    Digest empty = client.pushBlob("api/refs", "{}".getBytes(StandardCharsets.UTF_8));
    List<Digest> artifacts = new ArrayList<>();
    for (String type : new String[] {"application/vnd.example.sbom", "application/vnd.example.sig"}) {
      byte[] art = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\"" + type
          + "\",\"config\":" + Images.descriptor(MediaTypes.OCI_EMPTY, empty, 2) + ",\"layers\":[],\"subject\":"
          + Images.descriptor(MediaTypes.OCI_MANIFEST, img.manifest(), img.body().length)
          + ",\"annotations\":{\"org.example\":\"" + type + "\"}}").getBytes(StandardCharsets.UTF_8);
      var put = client.putManifest("api/refs", Digest.sha256(art).toString(), MediaTypes.OCI_MANIFEST, art);
      expect(put, 201);
      assertEquals(img.manifest().toString(), header(put, "OCI-Subject"));
      artifacts.add(Digest.sha256(art));
    }
    var all = client.get("/v2/api/refs/referrers/" + img.manifest());
    expect(all, 200);
    assertEquals(MediaTypes.OCI_INDEX, header(all, "Content-Type"));
    assertEquals(2, json(all).get("manifests").size());
    assertEquals(null, header(all, "OCI-Filters-Applied"));
    var filtered = client.get("/v2/api/refs/referrers/" + img.manifest() + "?artifactType=application/vnd.example.sig");
    assertEquals("artifactType", header(filtered, "OCI-Filters-Applied"));
    JsonNode only = json(filtered).get("manifests");
    assertEquals(1, only.size());
    assertEquals("application/vnd.example.sig", only.get(0).get("artifactType").asText());
    assertEquals("application/vnd.example.sig", only.get(0).get("annotations").get("org.example").asText());
    var none = client.get("/v2/api/refs/referrers/" + Digest.sha256(new byte[] {7}));
    expect(none, 200);
    assertEquals(0, json(none).get("manifests").size());
    expect(client.send("DELETE", "/v2/api/refs/manifests/" + artifacts.get(0), null, Map.of()), 202);
    assertEquals(1, json(client.get("/v2/api/refs/referrers/" + img.manifest())).get("manifests").size());
  }

  @Test
  void tagPagingFollowsLinks() throws Exception {
    var img = Images.push(client, "api/tags", "t00", 1, 30);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      String tag = String.format("t%02d", i);
      expected.add(tag);
      expect(client.putManifest("api/tags", tag, MediaTypes.OCI_MANIFEST, img.body()), 201);
    }
    List<String> seen = new ArrayList<>();
    String next = "/v2/api/tags/tags/list?n=3";
    int pages = 0;
    while (next != null) {
      var r = client.get(next);
      expect(r, 200);
      json(r).get("tags").forEach(t -> seen.add(t.asText()));
      String link = header(r, "Link");
      next = link == null ? null : link.substring(1, link.indexOf('>'));
      pages++;
    }
    assertEquals(expected, seen);
    assertEquals(4, pages);
    assertEquals(0, json(client.get("/v2/api/tags/tags/list?n=0")).get("tags").size());
  }

  @Test
  void catalogPagingFollowsLinks() throws Exception {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      String name = String.format("cat/r%02d", i);
      names.add(name);
      client.pushBlob(name, new byte[] {(byte) i});
    }
    List<String> seen = new ArrayList<>();
    String next = "/v2/_catalog?n=5";
    while (next != null) {
      var r = client.get(next);
      json(r).get("repositories").forEach(t -> {
        if (t.asText().startsWith("cat/")) {
          seen.add(t.asText());
        }
      });
      String link = header(r, "Link");
      next = link == null ? null : link.substring(1, link.indexOf('>'));
    }
    assertEquals(names, seen);
  }

  @Test
  void deletes() {
    var img = Images.push(client, "api/del", "v1", 1, 40);
    expect(client.putManifest("api/del", "v2", MediaTypes.OCI_MANIFEST, img.body()), 201);
    expect(client.send("DELETE", "/v2/api/del/manifests/v1", null, Map.of()), 202);
    expect(client.get("/v2/api/del/manifests/v1"), 404);
    expect(client.get("/v2/api/del/manifests/v2"), 200);
    expect(client.send("DELETE", "/v2/api/del/manifests/" + img.manifest(), null, Map.of()), 202);
    expect(client.get("/v2/api/del/manifests/v2"), 404);
    expect(client.get("/v2/api/del/manifests/" + img.manifest()), 404);
    expect(client.send("DELETE", "/v2/api/del/manifests/" + img.manifest(), null, Map.of()), 404);
    Digest layer = img.layers().get(0);
    expect(client.send("DELETE", "/v2/api/del/blobs/" + layer, null, Map.of()), 202);
    expect(client.get("/v2/api/del/blobs/" + layer), 404);
  }

  @Test
  void operations() throws Exception {
    expect(client.get("/health/live"), 200);
    expect(client.get("/health/ready"), 200);
    Images.push(client, "api/ops", "v1", 1, 50);
    String metrics = text(client.get("/metrics"));
    assertTrue(metrics.contains("flotilla_http_requests_total{method=\"PUT\",route=\"manifest\",status=\"201\"}"), metrics);
    assertTrue(metrics.contains("flotilla_storage_used_bytes"));
    assertTrue(metrics.contains("flotilla_http_requests_total{method=\"GET\",route=\"health\",status=\"200\"}"), metrics);
    assertTrue(metrics.contains("flotilla_http_received_bytes_total"));
    assertTrue(metrics.contains("jvm_memory_used_bytes"));
    JsonNode usage = json(client.get("/api/v1/storage/usage?repository=api/ops"));
    assertEquals(1, usage.get("repositories").size());
    assertEquals(1, usage.get("repositories").get(0).get("manifests").asInt());
    assertTrue(usage.get("repositories").get(0).get("bytes").asLong() > 1000);
    assertTrue(usage.get("storedBytes").asLong() > 0);
  }

  @Test
  void deletesCanBeDisabled() {
    try (TestNode readOnly = TestNode.start(dir.resolve("nodelete"), Map.of("storage.deleteEnabled", "false"))) {
      OciClient c = new OciClient(readOnly.url());
      var img = Images.push(c, "x/y", "v1", 1, 60);
      var r = c.send("DELETE", "/v2/x/y/manifests/" + img.manifest(), null, Map.of());
      expect(r, 405);
      assertTrue(text(r).contains("UNSUPPORTED"));
      expect(c.send("DELETE", "/v2/x/y/blobs/" + img.config(), null, Map.of()), 405);
      expect(c.get("/v2/x/y/manifests/v1"), 200);
      assertFalse(text(c.get("/v2/_catalog")).isEmpty());
    }
  }
}
