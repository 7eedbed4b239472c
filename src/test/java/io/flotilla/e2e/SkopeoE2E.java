package io.flotilla.e2e;

import static io.flotilla.e2e.OciLayout.JSON;
import static io.flotilla.e2e.OciLayout.OCI_CONFIG;
import static io.flotilla.e2e.OciLayout.OCI_EMPTY;
import static io.flotilla.e2e.OciLayout.OCI_INDEX;
import static io.flotilla.e2e.OciLayout.OCI_LAYER_GZIP;
import static io.flotilla.e2e.OciLayout.OCI_MANIFEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.e2e.OciLayout.Desc;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end with the real skopeo client: OCI layouts written by the test are pushed with
 * {@code skopeo copy}, pulled back, and compared byte for byte; the registry's view is checked
 * over raw HTTP. Covers a multi-layer image, a multi-arch index and an artifact with a subject
 * (referrers API), plus skopeo's conversion to Docker schema 2 manifests and lists.
 */
class SkopeoE2E {
  static final String SBOM_TYPE = "application/vnd.example.sbom.v1";
  static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
  static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  static final String EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

  @TempDir
  static Path tmp;

  static TestNode node;
  static OciClient client;
  static String registry;

  /** An image written into a layout: its manifest, config and layer descriptors. */
  record Image(Desc manifest, byte[] manifestBytes, Desc config, List<Desc> layers) {}

  @BeforeAll
  static void start() {
    node = TestNode.start(tmp.resolve("data"));
    client = new OciClient(node.url());
    registry = node.hostPort();
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void multiLayerImageRoundTripsByteForByte() {
    Skopeo.require();
    OciLayout in = OciLayout.create(tmp.resolve("multi-src"));
    Image img = writeImage(in, "amd64", null, 3, 1);
    in.writeIndex(Map.of("v1", img.manifest()));
    String ref = "docker://" + registry + "/e2e/multi:v1";

    Skopeo.runOk("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:" + in.root() + ":v1", ref);

    // The registry serves exactly the manifest that was pushed, under the tag.
    HttpResponse<byte[]> m = client.get("/v2/e2e/multi/manifests/v1", Map.of("Accept", OCI_MANIFEST));
    OciClient.expect(m, 200);
    assertEquals(img.manifest().digest(), m.headers().firstValue("Docker-Content-Digest").orElse(null));
    assertEquals(OCI_MANIFEST, m.headers().firstValue("Content-Type").orElse(null));
    assertArrayEquals(img.manifestBytes(), m.body(), "manifest bytes served differ from the pushed ones");
    for (Desc d : blobsOf(img)) {
      HttpResponse<byte[]> b = client.get("/v2/e2e/multi/blobs/" + d.digest());
      OciClient.expect(b, 200);
      assertArrayEquals(in.read(d.digest()), b.body(), "blob " + d.digest());
    }
    HttpResponse<byte[]> tags = client.get("/v2/e2e/multi/tags/list");
    OciClient.expect(tags, 200);
    JsonNode tagList = OciLayout.parse(tags.body());
    assertEquals("e2e/multi", tagList.path("name").asText());
    assertTrue(texts(tagList.path("tags")).contains("v1"), "tags/list: " + OciClient.text(tags));

    // skopeo's own view.
    JsonNode inspect = OciLayout.parse(Skopeo.runOk("inspect", "--tls-verify=false", ref).stdout()
        .getBytes(StandardCharsets.UTF_8));
    assertEquals(img.manifest().digest(), inspect.path("Digest").asText());
    assertEquals(img.layers().stream().map(Desc::digest).toList(), texts(inspect.path("Layers")));
    assertEquals("amd64", inspect.path("Architecture").asText());
    assertEquals("linux", inspect.path("Os").asText());
    String raw = Skopeo.runOk("inspect", "--raw", "--tls-verify=false", ref).stdout();
    assertEquals(new String(img.manifestBytes(), StandardCharsets.UTF_8), raw.strip());

    // Pull it back out: every blob identical.
    OciLayout out = OciLayout.open(tmp.resolve("multi-out"));
    Skopeo.runOk("copy", "--preserve-digests", "--src-tls-verify=false", ref, "oci:" + out.root() + ":v1");
    assertSameBlobs(in, out);
    JsonNode entry = out.entry("v1");
    assertNotNull(entry, "pulled layout has no v1: " + out.index());
    assertEquals(img.manifest().digest(), entry.path("digest").asText());
    assertEquals(OCI_MANIFEST, entry.path("mediaType").asText());
    assertEquals(img.manifest().size(), entry.path("size").asLong());

    // Registry to registry, into another repository of the same registry (skopeo may mount blobs).
    String copyRef = "docker://" + registry + "/e2e/multi-copy:v1";
    Skopeo.runOk("copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", ref, copyRef);
    HttpResponse<byte[]> copied = client.get("/v2/e2e/multi-copy/manifests/v1", Map.of("Accept", OCI_MANIFEST));
    OciClient.expect(copied, 200);
    assertArrayEquals(img.manifestBytes(), copied.body());
    for (Desc d : blobsOf(img)) {
      HttpResponse<byte[]> b = client.get("/v2/e2e/multi-copy/blobs/" + d.digest());
      OciClient.expect(b, 200);
      assertArrayEquals(in.read(d.digest()), b.body(), "blob " + d.digest() + " in e2e/multi-copy");
    }
  }

  @Test
  void multiArchIndexRoundTripsByteForByte() {
    Skopeo.require();
    OciLayout in = OciLayout.create(tmp.resolve("multiarch-src"));
    Image amd = writeImage(in, "amd64", null, 1, 10);
    Image arm = writeImage(in, "arm64", "v8", 1, 20);
    ObjectNode index = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX);
    ArrayNode manifests = index.putArray("manifests");
    manifests.add(amd.manifest().json().set("platform",
        JSON.createObjectNode().put("architecture", "amd64").put("os", "linux")));
    manifests.add(arm.manifest().json().set("platform",
        JSON.createObjectNode().put("architecture", "arm64").put("os", "linux").put("variant", "v8")));
    Desc idx = in.json(OCI_INDEX, index);
    byte[] indexBytes = in.read(idx.digest());
    in.writeIndex(Map.of("v1", idx));
    String ref = "docker://" + registry + "/e2e/multiarch:v1";

    Skopeo.runOk("copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "oci:" + in.root() + ":v1", ref);

    HttpResponse<byte[]> m = client.get("/v2/e2e/multiarch/manifests/v1", Map.of("Accept", OCI_INDEX));
    OciClient.expect(m, 200);
    assertEquals(OCI_INDEX, m.headers().firstValue("Content-Type").orElse(null));
    assertEquals(idx.digest(), m.headers().firstValue("Docker-Content-Digest").orElse(null));
    assertArrayEquals(indexBytes, m.body(), "index bytes served differ from the pushed ones");
    for (Image child : List.of(amd, arm)) {
      HttpResponse<byte[]> c = client.get("/v2/e2e/multiarch/manifests/" + child.manifest().digest(),
          Map.of("Accept", OCI_MANIFEST));
      OciClient.expect(c, 200);
      assertArrayEquals(child.manifestBytes(), c.body());
    }

    // skopeo resolves the platform-specific image through the index.
    JsonNode armView = OciLayout.parse(Skopeo.runOk("inspect", "--tls-verify=false", "--override-os", "linux",
        "--override-arch", "arm64", "--override-variant", "v8", ref).stdout().getBytes(StandardCharsets.UTF_8));
    assertEquals("arm64", armView.path("Architecture").asText());
    assertEquals(arm.layers().stream().map(Desc::digest).toList(), texts(armView.path("Layers")));

    OciLayout out = OciLayout.open(tmp.resolve("multiarch-out"));
    Skopeo.runOk("copy", "--all", "--preserve-digests", "--src-tls-verify=false", ref, "oci:" + out.root() + ":v1");
    assertSameBlobs(in, out);
    JsonNode entry = out.entry("v1");
    assertNotNull(entry, "pulled layout has no v1: " + out.index());
    assertEquals(idx.digest(), entry.path("digest").asText());
    assertEquals(OCI_INDEX, entry.path("mediaType").asText());
    assertArrayEquals(indexBytes, out.read(idx.digest()));
  }

  @Test
  void skopeoConvertsToDockerSchema2ListAndPullsItBack() throws Exception {
    Skopeo.require();
    OciLayout in = OciLayout.create(tmp.resolve("docker-src"));
    Image amd = writeImage(in, "amd64", null, 2, 30);
    Image arm = writeImage(in, "arm64", "v8", 1, 40);
    ObjectNode index = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX);
    index.putArray("manifests")
        .add(amd.manifest().json().set("platform", JSON.createObjectNode().put("architecture", "amd64").put("os", "linux")))
        .add(arm.manifest().json().set("platform",
            JSON.createObjectNode().put("architecture", "arm64").put("os", "linux").put("variant", "v8")));
    in.writeIndex(Map.of("v1", in.json(OCI_INDEX, index)));
    String ref = "docker://" + registry + "/e2e/docker:v1";
    Path digestFile = tmp.resolve("docker.digest");

    // skopeo rewrites every manifest to Docker schema 2 (a manifest list and two v2s2 manifests).
    Skopeo.runOk("copy", "--all", "--format", "v2s2", "--dest-tls-verify=false", "--digestfile", digestFile.toString(),
        "oci:" + in.root() + ":v1", ref);
    String listDigest = java.nio.file.Files.readString(digestFile).strip();

    HttpResponse<byte[]> list = client.get("/v2/e2e/docker/manifests/v1", Map.of("Accept", DOCKER_LIST));
    OciClient.expect(list, 200);
    assertEquals(DOCKER_LIST, list.headers().firstValue("Content-Type").orElse(null));
    assertEquals(listDigest, list.headers().firstValue("Docker-Content-Digest").orElse(null));
    assertEquals(listDigest, OciLayout.sha256(list.body()));
    JsonNode children = OciLayout.parse(list.body()).path("manifests");
    assertEquals(2, children.size(), OciClient.text(list));
    for (JsonNode child : children) {
      assertEquals(DOCKER_MANIFEST, child.path("mediaType").asText());
      HttpResponse<byte[]> m = client.get("/v2/e2e/docker/manifests/" + child.path("digest").asText(),
          Map.of("Accept", DOCKER_MANIFEST));
      OciClient.expect(m, 200);
      assertEquals(DOCKER_MANIFEST, m.headers().firstValue("Content-Type").orElse(null));
      assertEquals(child.path("digest").asText(), OciLayout.sha256(m.body()));
    }

    // Pulled back (dir: keeps manifests as they are): the list skopeo receives is the one it pushed.
    Path out = tmp.resolve("docker-out");
    Skopeo.runOk("copy", "--all", "--preserve-digests", "--src-tls-verify=false", ref, "dir:" + out);
    assertArrayEquals(list.body(), java.nio.file.Files.readAllBytes(out.resolve("manifest.json")));
    // Layer blobs are unchanged by the format conversion.
    for (Desc layer : amd.layers()) {
      assertArrayEquals(in.read(layer.digest()), java.nio.file.Files.readAllBytes(out.resolve(layer.digest().substring(7))));
    }
  }

  @Test
  void artifactWithSubjectIsListedByReferrersApi() {
    Skopeo.require();
    // The subject: the same image as the multi-layer test (deterministic bytes), pushed again.
    OciLayout imageLayout = OciLayout.create(tmp.resolve("subject-src"));
    Image img = writeImage(imageLayout, "amd64", null, 3, 1);
    imageLayout.writeIndex(Map.of("v1", img.manifest()));
    Skopeo.runOk("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:" + imageLayout.root() + ":v1",
        "docker://" + registry + "/e2e/multi:v1");

    OciLayout in = OciLayout.create(tmp.resolve("sbom-src"));
    Desc empty = in.blob(OCI_EMPTY, "{}".getBytes(StandardCharsets.UTF_8));
    assertEquals(EMPTY_DIGEST, empty.digest());
    Desc sbom = in.blob("application/spdx+json",
        "{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"e2e-multi\",\"packages\":[]}".getBytes(StandardCharsets.UTF_8));
    ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
        .put("artifactType", SBOM_TYPE);
    manifest.set("config", empty.json());
    manifest.putArray("layers").add(sbom.json());
    manifest.set("subject", img.manifest().json());
    manifest.putObject("annotations").put("org.opencontainers.image.created", "2024-01-01T00:00:00Z");
    Desc artifact = in.json(OCI_MANIFEST, manifest);
    byte[] artifactBytes = in.read(artifact.digest());
    in.writeIndex(Map.of("sbom", artifact));
    String ref = "docker://" + registry + "/e2e/multi:sbom";

    Skopeo.runOk("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:" + in.root() + ":sbom", ref);

    HttpResponse<byte[]> stored = client.get("/v2/e2e/multi/manifests/sbom", Map.of("Accept", OCI_MANIFEST));
    OciClient.expect(stored, 200);
    assertEquals(artifact.digest(), stored.headers().firstValue("Docker-Content-Digest").orElse(null));
    assertArrayEquals(artifactBytes, stored.body());

    // Referrers of the image: exactly the artifact.
    String referrers = "/v2/e2e/multi/referrers/" + img.manifest().digest();
    HttpResponse<byte[]> all = client.get(referrers);
    OciClient.expect(all, 200);
    assertEquals(OCI_INDEX, all.headers().firstValue("Content-Type").orElse(null));
    JsonNode body = OciLayout.parse(all.body());
    assertEquals(2, body.path("schemaVersion").asInt());
    assertEquals(OCI_INDEX, body.path("mediaType").asText());
    assertOnlyReferrer(body, artifact);
    assertEquals("2024-01-01T00:00:00Z",
        body.path("manifests").path(0).path("annotations").path("org.opencontainers.image.created").asText(null),
        "referrer descriptors carry the manifest's annotations: " + body);

    HttpResponse<byte[]> filtered = client.get(referrers + "?artifactType=" + SBOM_TYPE);
    OciClient.expect(filtered, 200);
    assertEquals("artifactType", filtered.headers().firstValue("OCI-Filters-Applied").orElse(null));
    assertOnlyReferrer(OciLayout.parse(filtered.body()), artifact);

    HttpResponse<byte[]> other = client.get(referrers + "?artifactType=application/vnd.example.signature.v1");
    OciClient.expect(other, 200);
    assertEquals("artifactType", other.headers().firstValue("OCI-Filters-Applied").orElse(null));
    JsonNode none = OciLayout.parse(other.body());
    assertTrue(none.path("manifests").isArray() && none.path("manifests").isEmpty(), "expected no referrers: " + none);

    // A digest nothing refers to: an empty list, not a 404.
    HttpResponse<byte[]> unrelated = client.get("/v2/e2e/multi/referrers/" + img.config().digest());
    OciClient.expect(unrelated, 200);
    JsonNode noneForConfig = OciLayout.parse(unrelated.body());
    assertTrue(noneForConfig.path("manifests").isArray() && noneForConfig.path("manifests").isEmpty(),
        "expected no referrers: " + noneForConfig);

    // A re-push of the same artifact over raw HTTP reports the subject.
    HttpResponse<byte[]> put = client.putManifest("e2e/multi", "sbom", OCI_MANIFEST, artifactBytes);
    OciClient.expect(put, 201);
    assertEquals(img.manifest().digest(), put.headers().firstValue("OCI-Subject").orElse(null));
    assertEquals(artifact.digest(), put.headers().firstValue("Docker-Content-Digest").orElse(null));

    // Pull the artifact back out with skopeo: same bytes.
    OciLayout out = OciLayout.open(tmp.resolve("sbom-out"));
    Skopeo.runOk("copy", "--preserve-digests", "--dest-oci-accept-uncompressed-layers", "--src-tls-verify=false",
        ref, "oci:" + out.root() + ":sbom");
    assertSameBlobs(in, out);
    assertEquals(artifact.digest(), out.entry("sbom").path("digest").asText());
  }

  // --- helpers ---------------------------------------------------------------------------------

  /**
   * Writes an image with {@code layerCount} gzip'd tar layers and a config whose
   * {@code rootfs.diff_ids} are the digests of the uncompressed tars. Deterministic for a seed.
   */
  static Image writeImage(OciLayout layout, String arch, String variant, int layerCount, long seed) {
    Random random = new Random(seed);
    List<Desc> layers = new ArrayList<>();
    ArrayNode diffIds = JSON.createArrayNode();
    ArrayNode history = JSON.createArrayNode();
    for (int i = 0; i < layerCount; i++) {
      byte[] noise = new byte[4096 + 1024 * i];
      random.nextBytes(noise);
      Map<String, byte[]> files = new LinkedHashMap<>();
      files.put("e2e/" + arch + "/layer-" + i + ".txt",
          ("layer " + i + " of seed " + seed + "\n").repeat(50).getBytes(StandardCharsets.UTF_8));
      files.put("e2e/" + arch + "/noise-" + i + ".bin", noise);
      byte[] tar = OciLayout.tar(files);
      diffIds.add(OciLayout.sha256(tar));
      layers.add(layout.blob(OCI_LAYER_GZIP, OciLayout.gzip(tar)));
      history.addObject().put("created", "1970-01-01T00:00:00Z").put("created_by", "e2e layer " + i);
    }
    ObjectNode config = JSON.createObjectNode().put("created", "1970-01-01T00:00:00Z")
        .put("architecture", arch).put("os", "linux");
    if (variant != null) {
      config.put("variant", variant);
    }
    config.putObject("config").putArray("Cmd").add("/bin/true");
    ObjectNode rootfs = config.putObject("rootfs").put("type", "layers");
    rootfs.set("diff_ids", diffIds);
    config.set("history", history);
    Desc configDesc = layout.json(OCI_CONFIG, config);

    ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
    manifest.set("config", configDesc.json());
    ArrayNode layerArray = manifest.putArray("layers");
    layers.forEach(l -> layerArray.add(l.json()));
    manifest.putObject("annotations").put("io.flotilla.e2e.seed", Long.toString(seed));
    Desc manifestDesc = layout.json(OCI_MANIFEST, manifest);
    return new Image(manifestDesc, layout.read(manifestDesc.digest()), configDesc, layers);
  }

  static List<Desc> blobsOf(Image img) {
    List<Desc> all = new ArrayList<>(img.layers());
    all.add(img.config());
    return all;
  }

  /** Both layouts hold the same blobs, each byte-identical and named by its real digest. */
  static void assertSameBlobs(OciLayout expected, OciLayout actual) {
    Map<String, byte[]> want = expected.blobs();
    Map<String, byte[]> got = actual.blobs();
    assertEquals(want.keySet(), got.keySet(), "blob digests of " + actual.root());
    for (Map.Entry<String, byte[]> e : got.entrySet()) {
      assertEquals(e.getKey(), OciLayout.sha256(e.getValue()), "blob file content does not match its name");
      assertArrayEquals(want.get(e.getKey()), e.getValue(), "blob " + e.getKey());
    }
  }

  static void assertOnlyReferrer(JsonNode index, Desc artifact) {
    JsonNode manifests = index.path("manifests");
    assertEquals(1, manifests.size(), "referrers: " + index);
    JsonNode d = manifests.get(0);
    assertEquals(OCI_MANIFEST, d.path("mediaType").asText());
    assertEquals(artifact.digest(), d.path("digest").asText());
    assertEquals(artifact.size(), d.path("size").asLong());
    assertEquals(SBOM_TYPE, d.path("artifactType").asText());
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
