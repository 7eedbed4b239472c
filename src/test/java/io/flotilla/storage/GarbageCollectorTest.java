package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Online garbage collection through the admin API, on an in-process node: what a dry run reports,
 * what a real run deletes, what the grace delay protects, and stale upload sessions. The race
 * tests drive a real interleaving on in-process storage: the test holds one repository's lock, so
 * a run marks the repositories before it and then waits there while the test pushes.
 */
class GarbageCollectorTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  /** An image pushed by this test: manifest bytes and every blob's content. */
  record Image(String repo, String tag, Digest manifest, byte[] manifestBody, Map<Digest, byte[]> blobs) {
    Digest config() {
      return blobs.keySet().iterator().next();
    }
  }

  private static Image push(OciClient c, String repo, String tag, long seed, List<byte[]> layers) {
    Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + seed + "}").getBytes(StandardCharsets.UTF_8);
    blobs.put(c.pushBlob(repo, config), config);
    StringBuilder descriptors = new StringBuilder();
    for (byte[] layer : layers) {
      Digest d = c.pushBlob(repo, layer);
      blobs.put(d, layer);
      if (descriptors.length() > 0) {
        descriptors.append(',');
      }
      descriptors.append(Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", d, layer.length));
    }
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", Digest.sha256(config), config.length)
        + ",\"layers\":[" + descriptors + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(c.putManifest(repo, tag, MediaTypes.OCI_MANIFEST, manifest), 201);
    return new Image(repo, tag, Digest.sha256(manifest), manifest, blobs);
  }

  private static void assertPullable(OciClient c, Image img) {
    HttpResponse<byte[]> m = c.get("/v2/" + img.repo() + "/manifests/" + img.tag(), Map.of("Accept", MediaTypes.OCI_MANIFEST));
    OciClient.expect(m, 200);
    assertArrayEquals(img.manifestBody(), m.body(), "manifest bytes of " + img.repo() + ":" + img.tag());
    for (var e : img.blobs().entrySet()) {
      HttpResponse<byte[]> b = c.get("/v2/" + img.repo() + "/blobs/" + e.getKey());
      OciClient.expect(b, 200);
      assertArrayEquals(e.getValue(), b.body(), "blob " + e.getKey());
      assertEquals(e.getKey(), Digest.sha256(b.body()));
    }
  }

  private static JsonNode gc(OciClient c, boolean dryRun) throws IOException {
    HttpResponse<byte[]> r = c.send("POST", "/api/v1/storage/gc?dryRun=" + dryRun, null, Map.of());
    OciClient.expect(r, 200);
    JsonNode report = JSON.readTree(r.body());
    assertEquals(dryRun, report.get("dryRun").asBoolean(), report.toString());
    return report;
  }

  private static JsonNode usage(OciClient c) throws IOException {
    HttpResponse<byte[]> r = c.get("/api/v1/storage/usage");
    OciClient.expect(r, 200);
    return JSON.readTree(r.body());
  }

  private static JsonNode repoUsage(JsonNode usage, String name) {
    for (JsonNode r : usage.get("repositories")) {
      if (r.get("name").asText().equals(name)) {
        return r;
      }
    }
    return null;
  }

  private static Set<String> strings(JsonNode array) {
    Set<String> out = new TreeSet<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private Path blobFile(Digest d) {
    return dir.resolve("blobs").resolve(d.algorithm().id()).resolve(d.hex().substring(0, 2)).resolve(d.hex());
  }

  /** Every blob file on disk with its size. */
  private Map<String, Long> blobFilesOnDisk() throws IOException {
    Map<String, Long> out = new LinkedHashMap<>();
    Path root = dir.resolve("blobs");
    if (!Files.isDirectory(root)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(root.relativize(p).getName(0) + ":" + p.getFileName(), Files.size(p));
      }
    }
    return out;
  }

  @Test
  void collectsUnreferencedBlobsOnlyAndDryRunChangesNothing() throws IOException {
    try (TestNode node = TestNode.start(dir, Map.of("storage.gcGrace", "0s"))) {
      OciClient c = new OciClient(node.url());
      byte[] shared = Images.random(3000, 1);
      Image a = push(c, "gc/a", "v1", 10, List.of(Images.random(2000, 11), shared, Images.random(2500, 12)));
      Image b = push(c, "gc/b", "v1", 20, List.of(shared, Images.random(1500, 21)));
      byte[] orphanBytes = Images.random(4096, 99);
      Digest orphan = c.pushBlob("gc/a", orphanBytes);
      Digest sharedDigest = Digest.sha256(shared);

      HttpResponse<byte[]> del = c.send("DELETE", "/v2/gc/a/manifests/" + a.manifest(), null, Map.of());
      OciClient.expect(del, 202);
      OciClient.expect(c.get("/v2/gc/a/manifests/" + a.manifest()), 404);
      OciClient.expect(c.get("/v2/gc/a/manifests/v1"), 404);

      Set<String> expectedGone = new TreeSet<>();
      expectedGone.add(orphan.toString());
      expectedGone.add(a.manifest().toString());
      a.blobs().keySet().stream().filter(d -> !d.equals(sharedDigest)).forEach(d -> expectedGone.add(d.toString()));
      Set<String> mustStay = new TreeSet<>();
      mustStay.add(b.manifest().toString());
      b.blobs().keySet().forEach(d -> mustStay.add(d.toString()));
      assertTrue(mustStay.contains(sharedDigest.toString()));
      long expectedFreed = orphanBytes.length + a.manifestBody().length;
      for (var e : a.blobs().entrySet()) {
        if (!e.getKey().equals(sharedDigest)) {
          expectedFreed += e.getValue().length;
        }
      }

      JsonNode usageBefore = usage(c);
      Map<String, Long> filesBefore = blobFilesOnDisk();
      assertEquals(filesBefore.size(), usageBefore.get("storedBlobs").asLong(), usageBefore.toString());
      assertEquals(filesBefore.values().stream().mapToLong(Long::longValue).sum(), usageBefore.get("storedBytes").asLong());

      // Dry run: the exact set that would go, and nothing changes.
      JsonNode dry = gc(c, true);
      assertEquals(expectedGone, strings(dry.get("deletedDigests")), dry.toString());
      assertEquals(expectedGone.size(), dry.get("blobsDeleted").asInt());
      assertEquals(expectedFreed, dry.get("bytesFreed").asLong());
      // gc/a links: config, two exclusive layers, the shared layer and the orphan; none referenced.
      assertEquals(5, dry.get("linksRemoved").asInt(), dry.toString());
      assertEquals(filesBefore, blobFilesOnDisk(), "a dry run deletes no file");
      for (String d : expectedGone) {
        assertTrue(Files.exists(blobFile(Digest.parse(d))), d);
      }
      assertEquals(usageBefore, usage(c), "a dry run changes no accounting");
      OciClient.expect(c.send("HEAD", "/v2/gc/a/blobs/" + orphan, null, Map.of()), 200);
      OciClient.expect(c.send("HEAD", "/v2/gc/a/blobs/" + sharedDigest, null, Map.of()), 200);
      assertPullable(c, b);

      // The real run deletes exactly that.
      JsonNode real = gc(c, false);
      assertEquals(expectedGone, strings(real.get("deletedDigests")), real.toString());
      assertEquals(expectedGone.size(), real.get("blobsDeleted").asInt());
      assertEquals(expectedFreed, real.get("bytesFreed").asLong());
      assertEquals(5, real.get("linksRemoved").asInt());
      for (String d : expectedGone) {
        assertFalse(Files.exists(blobFile(Digest.parse(d))), "deleted from disk: " + d);
      }
      for (String d : mustStay) {
        assertTrue(Files.exists(blobFile(Digest.parse(d))), "kept on disk: " + d);
      }
      Map<String, Long> filesAfter = blobFilesOnDisk();
      assertEquals(filesBefore.size() - expectedGone.size(), filesAfter.size());
      assertPullable(c, b);
      OciClient.expect(c.send("HEAD", "/v2/gc/a/blobs/" + orphan, null, Map.of()), 404);
      OciClient.expect(c.send("HEAD", "/v2/gc/a/blobs/" + sharedDigest, null, Map.of()), 404);
      OciClient.expect(c.send("HEAD", "/v2/gc/b/blobs/" + sharedDigest, null, Map.of()), 200);

      JsonNode usageAfter = usage(c);
      assertEquals(usageBefore.get("storedBlobs").asLong() - expectedGone.size(), usageAfter.get("storedBlobs").asLong(),
          usageAfter.toString());
      assertEquals(usageBefore.get("storedBytes").asLong() - expectedFreed, usageAfter.get("storedBytes").asLong());
      assertEquals(filesAfter.values().stream().mapToLong(Long::longValue).sum(), usageAfter.get("storedBytes").asLong());
      JsonNode repoB = repoUsage(usageAfter, "gc/b");
      assertEquals(repoUsage(usageBefore, "gc/b"), repoB, "gc/b untouched");
      long bBytes = b.manifestBody().length + b.blobs().values().stream().mapToLong(x -> x.length).sum();
      assertEquals(bBytes, repoB.get("bytes").asLong());
      assertEquals(b.blobs().size(), repoB.get("blobs").asInt());
      assertEquals(1, repoB.get("manifests").asInt());
      assertEquals(1, repoB.get("tags").asInt());
      JsonNode repoA = repoUsage(usageAfter, "gc/a");
      if (repoA != null) {
        assertEquals(0, repoA.get("bytes").asLong(), repoA.toString());
        assertEquals(0, repoA.get("blobs").asInt());
        assertEquals(0, repoA.get("manifests").asInt());
      }

      // A second run finds nothing more.
      JsonNode again = gc(c, false);
      assertEquals(0, again.get("blobsDeleted").asInt(), again.toString());
      assertEquals(0, again.get("linksRemoved").asInt());

      // The collected image can be pushed again from scratch and is whole.
      Image a2 = push(c, "gc/a", "v1", 10, List.of(Images.random(2000, 11), shared, Images.random(2500, 12)));
      assertEquals(a.manifest(), a2.manifest());
      assertPullable(c, a2);
      assertPullable(c, b);
    }
    // What survived is what a restarted node serves.
    try (TestNode node = TestNode.start(dir, Map.of("storage.gcGrace", "0s"))) {
      OciClient c = new OciClient(node.url());
      JsonNode u = usage(c);
      Map<String, Long> files = blobFilesOnDisk();
      assertEquals(files.size(), u.get("storedBlobs").asLong());
      assertEquals(files.values().stream().mapToLong(Long::longValue).sum(), u.get("storedBytes").asLong());
      JsonNode none = gc(c, false);
      assertEquals(0, none.get("blobsDeleted").asInt(), "nothing referenced is collected after a restart: " + none);
    }
  }

  @Test
  void defaultGraceProtectsFreshContent() throws IOException {
    try (TestNode node = TestNode.start(dir)) {
      OciClient c = new OciClient(node.url());
      Image a = push(c, "grace/a", "v1", 30, List.of(Images.random(2000, 31)));
      Image b = push(c, "grace/b", "v1", 40, List.of(Images.random(2000, 41)));
      Digest orphan = c.pushBlob("grace/a", Images.random(1000, 42));
      OciClient.expect(c.send("DELETE", "/v2/grace/a/manifests/" + a.manifest(), null, Map.of()), 202);
      // An open upload session is far from its expiry too.
      HttpResponse<byte[]> post = c.send("POST", "/v2/grace/a/blobs/uploads/", null, Map.of());
      OciClient.expect(post, 202);
      String location = post.headers().firstValue("Location").orElseThrow();

      Map<String, Long> filesBefore = blobFilesOnDisk();
      JsonNode usageBefore = usage(c);
      for (boolean dry : new boolean[] {true, false}) {
        JsonNode report = gc(c, dry);
        assertEquals(0, report.get("blobsDeleted").asInt(), report.toString());
        assertEquals(0, report.get("bytesFreed").asLong());
        assertEquals(0, report.get("linksRemoved").asInt());
        assertEquals(0, report.get("uploadsRemoved").asInt());
        assertEquals(Set.of(), strings(report.get("deletedDigests")));
      }
      assertEquals(filesBefore, blobFilesOnDisk());
      assertEquals(usageBefore, usage(c));
      assertTrue(Files.exists(blobFile(orphan)));
      assertTrue(Files.exists(blobFile(a.manifest())));
      OciClient.expect(c.send("HEAD", "/v2/grace/a/blobs/" + orphan, null, Map.of()), 200);
      OciClient.expect(c.send("HEAD", "/v2/grace/a/blobs/" + a.config(), null, Map.of()), 200);
      assertPullable(c, b);
      OciClient.expect(c.get(location), 204);
    }
  }

  @Test
  void staleUploadSessionsAreRemoved() throws IOException {
    try (TestNode node = TestNode.start(dir, Map.of("storage.uploadExpiry", "0s"))) {
      OciClient c = new OciClient(node.url());
      HttpResponse<byte[]> post = c.send("POST", "/v2/up/app/blobs/uploads/", null, Map.of());
      OciClient.expect(post, 202);
      String location = post.headers().firstValue("Location").orElseThrow();
      String id = post.headers().firstValue("Docker-Upload-UUID").orElseThrow();
      HttpResponse<byte[]> patch = c.send("PATCH", location, Images.random(1000, 5),
          Map.of("Content-Type", "application/octet-stream", "Content-Range", "0-999"));
      OciClient.expect(patch, 202);
      Path sessionDir = dir.resolve("uploads").resolve(id);
      assertTrue(Files.isDirectory(sessionDir));

      JsonNode dry = gc(c, true);
      assertEquals(1, dry.get("uploadsRemoved").asInt(), dry.toString());
      HttpResponse<byte[]> still = c.get(location);
      OciClient.expect(still, 204);
      assertEquals("0-999", still.headers().firstValue("Range").orElse(null));
      assertTrue(Files.isDirectory(sessionDir), "a dry run keeps the session");

      JsonNode real = gc(c, false);
      assertEquals(1, real.get("uploadsRemoved").asInt(), real.toString());
      assertEquals(0, real.get("blobsDeleted").asInt(), "the default grace still protects blobs");
      HttpResponse<byte[]> gone = c.get(location);
      OciClient.expect(gone, 404);
      assertEquals("BLOB_UPLOAD_UNKNOWN", JSON.readTree(gone.body()).get("errors").get(0).get("code").asText());
      assertFalse(Files.exists(sessionDir), "session files deleted");
      HttpResponse<byte[]> late = c.send("PATCH", location, Images.random(10, 6),
          Map.of("Content-Type", "application/octet-stream", "Content-Range", "1000-1009"));
      OciClient.expect(late, 404);
      assertEquals("BLOB_UPLOAD_UNKNOWN", JSON.readTree(late.body()).get("errors").get(0).get("code").asText());
      assertEquals(0, gc(c, false).get("uploadsRemoved").asInt());
    }
    // Removed for good: a restarted node does not bring it back.
    try (TestNode node = TestNode.start(dir)) {
      assertEquals(List.of(), listDir(dir.resolve("uploads")));
    }
  }

  /**
   * Runs {@code gc} while the test holds {@code held}'s lock: the run marks every repository named
   * before it, then waits; {@code whileWaiting} runs then; the lock is released and the run's
   * report returned.
   */
  private static GcReport duringRun(StorageFixture f, RepositoryName held, Supplier<GcReport> gc, Runnable whileWaiting)
      throws Exception {
    CountDownLatch locked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> f.metadata.withLock(held, () -> {
      locked.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    assertTrue(locked.await(60, TimeUnit.SECONDS));
    CompletableFuture<GcReport> run;
    try {
      run = CompletableFuture.supplyAsync(gc);
      java.util.concurrent.locks.ReentrantLock lock = f.metadata.repo(held).lock;
      Await.until("the run waits for " + held, Duration.ofSeconds(60), lock::hasQueuedThreads);
      whileWaiting.run();
    } finally {
      release.countDown();
    }
    holder.get(60, TimeUnit.SECONDS);
    return run.get(60, TimeUnit.SECONDS);
  }

  /** An image manifest over one config and one layer already in {@code repo}; returns its digest. */
  private static Digest putImage(StorageFixture f, RepositoryName repo, byte[] config, byte[] layer) {
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", Digest.sha256(config), config.length)
        + ",\"layers\":[" + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.sha256(layer), layer.length)
        + "]}").getBytes(StandardCharsets.UTF_8);
    f.onVertx(() -> f.registry.putManifest(StorageFixture.CTX,
        new PutManifest(repo.value(), "v1", MediaTypes.OCI_MANIFEST, manifest)));
    return Digest.sha256(manifest);
  }

  @Test
  void chunkedUploadFinishedWhileARunIsUnderWayKeepsItsBlob() throws Exception {
    try (StorageFixture f = new StorageFixture(dir, Duration.ofHours(1))) {
      RepositoryName late = RepositoryName.of("a/late");
      RepositoryName held = RepositoryName.of("m/held");
      f.push(held, Images.random(100, 1));
      byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
      f.push(late, config);
      byte[] layer = Images.random(5000, 2);
      Digest d = Digest.sha256(layer);
      UploadSession s = f.startChunked(late, layer);
      // Its last PATCH was two hours ago, longer ago than the grace delay.
      Files.setLastModifiedTime(s.dataFile(), FileTime.fromMillis(System.currentTimeMillis() - Duration.ofHours(2).toMillis()));

      GcReport report = duringRun(f, held, () -> f.await(f.registry.collectGarbage(StorageFixture.CTX, false)),
          () -> assertEquals(layer.length, f.finish(late, s, d).size()));

      assertEquals(List.of(), report.deletedDigests(), report.toString());
      assertTrue(Files.exists(f.blobs.path(d)), "the committed blob is still stored");
      putImage(f, late, config, layer);
      assertArrayEquals(layer, f.blobs.read(d));
    }
  }

  @Test
  void blobLinkedWhileARunIsUnderWayIsKeptWhateverTheClocksSay() throws Exception {
    try (StorageFixture f = new StorageFixture(dir, Duration.ofHours(1))) {
      RepositoryName target = RepositoryName.of("a/target");
      RepositoryName held = RepositoryName.of("m/held");
      RepositoryName source = RepositoryName.of("s/source");
      f.push(held, Images.random(100, 3));
      byte[] config = "{\"architecture\":\"arm64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
      byte[] layer = Images.random(4000, 4);
      Digest d = f.push(source, layer);
      // The collector's clock is two hours ahead of the writers' (a clock step, a skewed file
      // server): every blob and link looks older than the grace delay to it.
      long ahead = System.currentTimeMillis() + Duration.ofHours(2).toMillis();
      GarbageCollector gc = new GarbageCollector(f.metadata, f.blobs, f.uploads, f.config, () -> ahead);

      GcReport report = duringRun(f, held, () -> gc.run(false), () -> {
        try {
          f.push(target, config);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        assertTrue(f.onVertx(() -> f.registry.mountBlob(StorageFixture.CTX, target.value(), d.toString(), source.value())),
            "mounted");
      });

      assertFalse(report.deletedDigests().contains(d.toString()), report.toString());
      assertTrue(Files.exists(f.blobs.path(d)), "the mounted blob is still stored");
      assertEquals(layer.length, f.metadata.blobSize(target, d));
      putImage(f, target, config, layer);
      assertArrayEquals(layer, f.blobs.read(d));
    }
  }

  private static List<String> listDir(Path p) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(p)) {
      s.forEach(x -> out.add(x.getFileName().toString()));
    }
    return out;
  }
}
