package io.flotilla.content;

import static io.flotilla.content.UpstreamTesting.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.e2e.Skopeo;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.RequestContext;
import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import io.flotilla.testing.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync engine between two Flotilla nodes in this JVM: an upstream that images are pushed into,
 * and a target whose storage and blob path the sync writes through, read back over the target's
 * HTTP API and with skopeo; a webhook on the target receives the events of the sync's writes.
 */
class RepositorySyncIT {
  private static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
  @TempDir
  static Path dir;
  static TestNode upstreamNode;
  static TestNode target;
  static OciClient up;
  static OciClient down;
  static UpstreamRegistry upstream;
  static RepositorySync sync;
  static WebhookReceiver receiver;

  /** An image pushed upstream: its manifest, config and layers, and the bytes of every blob. */
  record Image(Digest digest, byte[] body, Map<Digest, byte[]> blobs, List<Digest> layers) {}

  @BeforeAll
  static void start() throws Exception {
    receiver = new WebhookReceiver();
    upstreamNode = TestNode.start(dir.resolve("upstream"));
    target = TestNode.start(dir.resolve("target"), Map.of("events.allowPrivateWebhookTargets", "true"));
    up = new OciClient(upstreamNode.url());
    down = new OciClient(target.url());
    OciClient.expect(down.send("POST", "/api/v1/webhooks", ("{\"name\":\"sync\",\"url\":\"" + receiver.url("/sync")
        + "\",\"repositories\":\"mirror/moving\",\"backoff\":\"100ms\"}").getBytes(StandardCharsets.UTF_8),
        Map.of("Content-Type", "application/json")), 201);
    upstream = new UpstreamRegistry(target.node().vertx(), UpstreamConfig.of(upstreamNode.url())
        .withRetries(2, Duration.ofMillis(50), Duration.ofSeconds(1)));
    sync = new RepositorySync(target.node().vertx(), upstream, target.node().storage(), target.node().blobTransfer());
  }

  @AfterAll
  static void stop() throws Exception {
    if (upstream != null) {
      await(upstream.close());
    }
    if (target != null) {
      target.close();
    }
    if (upstreamNode != null) {
      upstreamNode.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private static SyncOutcome run(SyncSpec spec, SyncProgress progress) throws Exception {
    return await(sync.run(spec, sync.context("sync-test"), progress));
  }

  /** Pushes an image of these layers (and a config naming the architecture) under {@code reference}. */
  private static Image push(String repo, String reference, String arch, byte[]... layers) {
    Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"},\"ref\":\""
        + reference + "\"}").getBytes(StandardCharsets.UTF_8);
    Digest configDigest = up.pushBlob(repo, config);
    blobs.put(configDigest, config);
    List<String> descriptors = new ArrayList<>();
    List<Digest> layerDigests = new ArrayList<>();
    for (byte[] layer : layers) {
      Digest d = up.pushBlob(repo, layer);
      blobs.put(d, layer);
      layerDigests.add(d);
      descriptors.add(Images.descriptor(OCI_LAYER, d, layer.length));
    }
    byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
        + ",\"layers\":[" + String.join(",", descriptors) + "]}").getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.sha256(body);
    OciClient.expect(up.putManifest(repo, reference.equals("-") ? digest.toString() : reference,
        MediaTypes.OCI_MANIFEST, body), 201);
    return new Image(digest, body, blobs, layerDigests);
  }

  /** Pushes an SBOM-like artifact (empty config, one layer of {@code payload}) that refers to {@code subject}. */
  private static Image pushReferrer(String repo, Image subject, byte[] payload) {
    byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    Digest emptyDigest = up.pushBlob(repo, empty);
    Digest payloadDigest = up.pushBlob(repo, payload);
    byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":"
        + "\"application/vnd.example.sbom\",\"config\":" + Images.descriptor(MediaTypes.OCI_EMPTY, emptyDigest, 2)
        + ",\"layers\":[" + Images.descriptor("application/spdx+json", payloadDigest, payload.length)
        + "],\"subject\":" + Images.descriptor(MediaTypes.OCI_MANIFEST, subject.digest(), subject.body().length)
        + "}").getBytes(StandardCharsets.UTF_8);
    Digest digest = Digest.sha256(body);
    OciClient.expect(up.putManifest(repo, digest.toString(), MediaTypes.OCI_MANIFEST, body), 201);
    return new Image(digest, body, Map.of(emptyDigest, empty, payloadDigest, payload), List.of(payloadDigest));
  }

  /** Changes a byte of a blob in the upstream's files: same length, other bytes. */
  private static void corrupt(Digest blob) throws Exception {
    Path file = dir.resolve("upstream").resolve("blobs").resolve("sha256").resolve(blob.hex().substring(0, 2))
        .resolve(blob.hex());
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(file, bytes);
  }

  private static String child(Image image, String arch) {
    return "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + image.digest() + "\",\"size\":"
        + image.body().length + ",\"platform\":{\"architecture\":\"" + arch + "\",\"os\":\"linux\"}}";
  }

  private static Digest tagged(OciClient client, String repo, String tag) {
    var r = client.send("HEAD", "/v2/" + repo + "/manifests/" + tag, null,
        Map.of("Accept", UpstreamRegistry.MANIFEST_ACCEPT));
    OciClient.expect(r, 200);
    return Digest.parse(r.headers().firstValue("Docker-Content-Digest").orElseThrow());
  }

  @Test
  void copiesTheSelectedTagsWholeAndVerifiedAndNothingTheSecondTime() throws Exception {
    String repo = "lib/app";
    byte[] shared = Images.random(3000, 1);
    Image a = push(repo, "v1.0", "amd64", shared, Images.random(2000, 2));
    Image b = push(repo, "v1.1", "amd64", shared, Images.random(2500, 3));
    OciClient.expect(up.putManifest(repo, "latest", MediaTypes.OCI_MANIFEST, b.body()), 201);
    push(repo, "v1.2-rc", "amd64", Images.random(1500, 4));
    push(repo, "dev", "amd64", Images.random(1600, 5));
    Image amd = push(repo, "-", "amd64", Images.random(1700, 6), shared);
    Image arm = push(repo, "-", "arm64", Images.random(1800, 7));
    byte[] index = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + child(amd, "amd64") + "," + child(arm, "arm64") + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(up.putManifest(repo, "multi", MediaTypes.OCI_INDEX, index), 201);
    Image sbom = pushReferrer(repo, a, Images.random(900, 8));

    Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    for (Image i : List.of(a, b, amd, arm, sbom)) {
      blobs.putAll(i.blobs());
    }
    long bytes = blobs.values().stream().mapToLong(x -> x.length).sum();

    SyncSpec spec = new SyncSpec(RepositoryName.of(repo), RepositoryName.of("mirror/app"),
        List.of("v1.*", "multi", "latest"), List.of("*-rc"), false);
    SyncProgress progress = new SyncProgress();
    SyncOutcome first = run(spec, progress);
    assertEquals(List.of(), first.failures());
    assertEquals(List.of("latest", "multi", "v1.0", "v1.1"), first.tagsAdded());
    Map<String, Digest> expected = Map.of("latest", b.digest(), "multi", Digest.sha256(index), "v1.0", a.digest(),
        "v1.1", b.digest());
    assertEquals(expected, first.tags());
    expected.forEach((tag, digest) -> assertEquals(tagged(up, repo, tag), tagged(down, "mirror/app", tag)));
    assertEquals(6, first.manifestsCopied()); // a, b, the index and its two children, the SBOM
    assertEquals(blobs.size(), first.blobsCopied()); // the shared layer once
    assertEquals(0, first.blobsSkipped());
    assertEquals(bytes, first.bytesCopied());
    for (var blob : blobs.entrySet()) {
      var got = down.get("/v2/mirror/app/blobs/" + blob.getKey());
      OciClient.expect(got, 200);
      assertEquals(blob.getKey(), Digest.sha256(got.body()));
      assertArrayEquals(blob.getValue(), got.body());
    }
    for (String excluded : List.of("v1.2-rc", "dev")) {
      OciClient.expect(down.get("/v2/mirror/app/manifests/" + excluded), 404);
    }
    var referrers = down.get("/v2/mirror/app/referrers/" + a.digest());
    OciClient.expect(referrers, 200);
    assertTrue(OciClient.text(referrers).contains(sbom.digest().toString()), OciClient.text(referrers));

    List<StageReport> stages = progress.snapshot();
    stages.forEach(s -> assertEquals(SyncState.COMPLETED, s.state(), s.toString()));
    assertEquals(new StageReport(SyncProgress.TAGS, stages.get(0).message(), SyncState.COMPLETED, 4, 4, 0, 0),
        stages.get(0));
    assertEquals(6, stages.get(1).done());
    assertEquals(6, stages.get(1).total());
    StageReport blobStage = stages.get(2);
    assertEquals(List.of((long) blobs.size(), (long) blobs.size(), bytes, bytes),
        List.of(blobStage.done(), blobStage.total(), blobStage.bytesDone(), blobStage.bytesTotal()));

    SyncProgress again = new SyncProgress();
    SyncOutcome second = run(spec, again);
    assertEquals(List.of(), second.failures());
    assertEquals(List.of("latest", "multi", "v1.0", "v1.1"), second.tagsUnchanged());
    assertEquals(List.of(), second.tagsAdded());
    assertEquals(List.of(0, 0, 0L), List.of(second.manifestsCopied(), second.blobsCopied(), second.bytesCopied()));
    assertEquals(expected, second.tags());
    assertEquals(0, again.stage(SyncProgress.BLOBS).total());

    // a real client reads what the sync stored: the index as it was upstream, an image pulled and verified
    String ref = "docker://" + target.hostPort() + "/mirror/app:";
    assertEquals(new String(index, StandardCharsets.UTF_8),
        Skopeo.runOk("inspect", "--raw", "--tls-verify=false", ref + "multi").stdout().trim());
    Path copied = dir.resolve("skopeo-v1.0");
    Skopeo.runOk("copy", "--src-tls-verify=false", ref + "v1.0", "dir:" + copied);
    assertArrayEquals(a.body(), Files.readAllBytes(copied.resolve("manifest.json")));
    for (Digest layer : a.layers()) {
      assertArrayEquals(a.blobs().get(layer), Files.readAllBytes(copied.resolve(layer.hex())));
    }
  }

  @Test
  void mirrorRemovesTagsUpstreamDroppedWhileAdditiveKeepsThem() throws Exception {
    String repo = "lib/moving";
    Image t1 = push(repo, "t1", "amd64", Images.random(1000, 21));
    Image t2 = push(repo, "t2", "amd64", Images.random(1000, 22));
    push(repo, "t3", "amd64", Images.random(1000, 23));
    SyncSpec mirror = SyncSpec.of(RepositoryName.of(repo), RepositoryName.of("mirror/moving")).mirroring(true);
    SyncSpec additive = SyncSpec.of(RepositoryName.of(repo), RepositoryName.of("copy/moving"));
    assertEquals(List.of("t1", "t2", "t3"), run(mirror, new SyncProgress()).tagsAdded());
    assertEquals(List.of("t1", "t2", "t3"), run(additive, new SyncProgress()).tagsAdded());

    OciClient.expect(up.send("DELETE", "/v2/" + repo + "/manifests/t2", null, Map.of()), 202);
    Image moved = push(repo, "t3", "amd64", Images.random(1000, 24));

    SyncOutcome mirrored = run(mirror, new SyncProgress());
    assertEquals(List.of(), mirrored.failures());
    assertEquals(List.of("t2"), mirrored.tagsRemoved());
    assertEquals(List.of("t3"), mirrored.tagsUpdated());
    assertEquals(List.of("t1"), mirrored.tagsUnchanged());
    assertEquals(Map.of("t1", t1.digest(), "t3", moved.digest()), mirrored.tags());
    OciClient.expect(down.get("/v2/mirror/moving/manifests/t2"), 404);

    SyncOutcome added = run(additive, new SyncProgress());
    assertEquals(List.of(), added.failures());
    assertEquals(List.of(), added.tagsRemoved());
    assertEquals(List.of("t3"), added.tagsUpdated());
    assertEquals(Map.of("t1", t1.digest(), "t2", t2.digest(), "t3", moved.digest()), added.tags());
    assertEquals(t2.digest(), tagged(down, "copy/moving", "t2"));

    // the sync's writes are reported like a client's: pushes of blobs and tagged manifests, the tag delete
    Await.until("the sync's push and delete events", Duration.ofSeconds(30), () -> {
      List<JsonNode> events = receiver.received("/sync").stream().flatMap(r -> r.events().stream()).toList();
      boolean pushed = events.stream().anyMatch(e -> "push".equals(e.path("action").asText())
          && "t1".equals(e.at("/target/tag").asText()) && t1.digest().toString().equals(e.at("/target/digest").asText())
          && "flotilla".equals(e.at("/actor/name").asText()) && "SYNC".equals(e.at("/request/method").asText()));
      boolean deleted = events.stream().anyMatch(e -> "delete".equals(e.path("action").asText())
          && "t2".equals(e.at("/target/tag").asText()));
      return pushed && deleted && events.stream().allMatch(e -> "mirror/moving".equals(e.at("/target/repository")
          .asText()) && !"pull".equals(e.path("action").asText()));
    });
  }

  @Test
  void aCorruptBlobFailsOnlyItsTagOrReferrerAndIsNotStored() throws Exception {
    String repo = "lib/bad";
    Image good1 = push(repo, "good1", "amd64", Images.random(1200, 31));
    Image good2 = push(repo, "good2", "amd64", Images.random(1300, 32), Images.random(1400, 33));
    Image bad = push(repo, "bad", "amd64", Images.random(5000, 34));
    Image badSbom = pushReferrer(repo, good1, Images.random(700, 35));
    Digest corrupt = bad.layers().get(0);
    Digest corruptSbom = badSbom.layers().get(0);
    corrupt(corrupt);
    corrupt(corruptSbom);

    SyncProgress progress = new SyncProgress();
    SyncOutcome outcome = run(SyncSpec.of(RepositoryName.of(repo), RepositoryName.of("mirror/bad")), progress);
    assertEquals(List.of("good1", "good2"), outcome.tagsAdded());
    assertEquals(Map.of("good1", good1.digest(), "good2", good2.digest()), outcome.tags());
    assertEquals(List.of("referrer " + badSbom.digest() + " of tag good1", "tag bad"),
        outcome.failures().stream().map(SyncFailure::subject).sorted().toList(), outcome.failures().toString());
    for (SyncFailure failure : outcome.failures()) {
      Digest blob = failure.subject().equals("tag bad") ? corrupt : corruptSbom;
      assertTrue(failure.reason().contains("DIGEST_MISMATCH") && failure.reason().contains(blob.toString()),
          failure.reason());
    }
    OciClient.expect(down.get("/v2/mirror/bad/manifests/bad"), 404);
    OciClient.expect(down.get("/v2/mirror/bad/manifests/" + badSbom.digest()), 404);
    for (Digest blob : List.of(corrupt, corruptSbom)) {
      OciException unknown = assertThrows(OciException.class, () -> await(target.node().storage()
          .statBlob(RequestContext.internal("test"), "mirror/bad", blob.toString())));
      assertEquals(OciError.BLOB_UNKNOWN, unknown.error());
    }
    assertNotEquals(0, outcome.blobsCopied());
    // the failed transfers are done but give back the bytes they had streamed; the tags count as done
    StageReport blobs = progress.stage(SyncProgress.BLOBS);
    assertEquals(List.of(blobs.total(), outcome.bytesCopied() + 5000 + 700, outcome.bytesCopied()),
        List.of(blobs.done(), blobs.bytesTotal(), blobs.bytesDone()));
    assertEquals(List.of(3L, 3L), List.of(progress.stage(SyncProgress.TAGS).done(),
        progress.stage(SyncProgress.TAGS).total()));
  }
}
