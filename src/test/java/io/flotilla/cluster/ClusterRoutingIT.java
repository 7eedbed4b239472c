package io.flotilla.cluster;

import static io.flotilla.e2e.OciLayout.JSON;
import static io.flotilla.e2e.OciLayout.OCI_CONFIG;
import static io.flotilla.e2e.OciLayout.OCI_EMPTY;
import static io.flotilla.e2e.OciLayout.OCI_INDEX;
import static io.flotilla.e2e.OciLayout.OCI_LAYER_GZIP;
import static io.flotilla.e2e.OciLayout.OCI_MANIFEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.e2e.OciLayout;
import io.flotilla.e2e.OciLayout.Desc;
import io.flotilla.e2e.Skopeo;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-node routing, end to end: three node processes on loopback (Hazelcast TCP-IP), each with
 * its own data folder. Content is written through one node and read through every node; a chunked
 * upload is spread over all three; a manifest is put through a different node than its blobs, and
 * the tag list, referrers API and catalog are read through a third.
 *
 * <p>Repository names are chosen with {@link Placement#score} (the pinned rendezvous hash) so that
 * the node a push goes through is <em>not</em> an owner of the repository (replication factor 2 of
 * 3 nodes) and the primaries differ between repositories: every write is routed, and each node is
 * the primary of some repository.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterRoutingIT {
  static final String[] NODE_NAMES = {"node-0", "node-1", "node-2"};

  @TempDir
  static Path dir;
  static final List<NodeProcess> nodes = new ArrayList<>();
  static final List<OciClient> clients = new ArrayList<>();
  /** Every repository a test tried to create (the catalog must list nothing else). */
  static final Set<String> attempted = new ConcurrentSkipListSet<>();
  /** Every repository that was created successfully (the catalog must list each exactly once). */
  static final Set<String> created = new ConcurrentSkipListSet<>();

  @RegisterExtension
  static final TestWatcher NODE_LOGS_ON_FAILURE = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (int i = 0; i < nodes.size(); i++) {
        try {
          String[] lines = nodes.get(i).output().split("\n");
          int from = Math.max(0, lines.length - 40);
          System.err.println("---- tail of " + NODE_NAMES[i] + " log after " + context.getDisplayName() + " ----\n"
              + String.join("\n", Arrays.asList(lines).subList(from, lines.length)));
        } catch (Exception ignored) {
          // diagnostics only
        }
      }
    }
  };

  static ProcessCluster cluster;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1");
    nodes.addAll(cluster.nodes());
    for (NodeProcess p : nodes) {
      clients.add(new OciClient(p.url()));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  // --- 1. skopeo push through one node, pull through every node ------------------------------

  @Test
  @Order(1)
  void skopeoPushThroughOneNodePullsThroughEveryNode() {
    Skopeo.require();
    for (int i = 0; i < 3; i++) {
      // Node i is not an owner; the primary is the next node.
      String repo = placed("routing/img-" + i, (i + 1) % 3, i);
      OciLayout in = OciLayout.create(dir.resolve("img-" + i + "-src"));
      Image img = writeImage(in, 3, 100 + i);
      in.writeIndex(Map.of("v1", img.manifest()));
      attempted.add(repo);
      Skopeo.runOk("copy", "--preserve-digests", "--dest-tls-verify=false", "oci:" + in.root() + ":v1",
          "docker://" + hostPort(i) + "/" + repo + ":v1");
      created.add(repo);

      for (int j = 0; j < 3; j++) {
        String via = " (pushed via " + NODE_NAMES[i] + ", read via " + NODE_NAMES[j] + ")";
        OciLayout out = OciLayout.open(dir.resolve("img-" + i + "-out-" + j));
        Skopeo.runOk("copy", "--preserve-digests", "--src-tls-verify=false",
            "docker://" + hostPort(j) + "/" + repo + ":v1", "oci:" + out.root() + ":v1");
        assertSameBlobs(in, out, via);
        JsonNode entry = out.entry("v1");
        assertNotNull(entry, "pulled layout has no v1" + via + ": " + out.index());
        assertEquals(img.manifest().digest(), entry.path("digest").asText(), "manifest digest" + via);
        assertEquals(img.manifest().size(), entry.path("size").asLong(), "manifest size" + via);
        assertArrayEquals(img.manifestBytes(), out.read(entry.path("digest").asText()), "manifest bytes" + via);

        HttpResponse<byte[]> m = clients.get(j).get("/v2/" + repo + "/manifests/v1", Map.of("Accept", OCI_MANIFEST));
        OciClient.expect(m, 200);
        assertEquals(img.manifest().digest(), m.headers().firstValue("Docker-Content-Digest").orElse(null),
            "Docker-Content-Digest" + via);
        assertEquals(OCI_MANIFEST, m.headers().firstValue("Content-Type").orElse(null), "Content-Type" + via);
        assertArrayEquals(img.manifestBytes(), m.body(), "raw manifest bytes" + via);
      }
    }
  }

  // --- 2. one chunked upload spread over the three nodes -------------------------------------

  @Test
  @Order(2)
  void chunkedUploadSpreadOverNodes() {
    // POSTed through node 0, which is not an owner; primary node 2.
    String repo = placed("routing/chunked", 2, 0);
    byte[] chunk1 = Images.random(1024 * 1024 + 17, 7);
    byte[] chunk2 = Images.random(512 * 1024 + 5, 8);
    byte[] whole = new byte[chunk1.length + chunk2.length];
    System.arraycopy(chunk1, 0, whole, 0, chunk1.length);
    System.arraycopy(chunk2, 0, whole, chunk1.length, chunk2.length);
    String digest = OciLayout.sha256(whole);
    attempted.add(repo);

    HttpResponse<byte[]> post = clients.get(0).send("POST", "/v2/" + repo + "/blobs/uploads/", null, Map.of());
    OciClient.expect(post, 202);
    String location = pathOf(header(post, "Location"));
    assertTrue(location.startsWith("/v2/" + repo + "/blobs/uploads/"), "Location: " + location);

    HttpResponse<byte[]> patch1 = clients.get(1).send("PATCH", location, chunk1, Map.of(
        "Content-Type", "application/octet-stream", "Content-Range", "0-" + (chunk1.length - 1)));
    OciClient.expect(patch1, 202);
    assertEquals("0-" + (chunk1.length - 1), header(patch1, "Range"), "Range after chunk 1 via node-1");
    location = pathOf(header(patch1, "Location"));

    HttpResponse<byte[]> status = clients.get(2).get(location);
    OciClient.expect(status, 204);
    assertEquals("0-" + (chunk1.length - 1), header(status, "Range"), "upload status via node-2");
    location = pathOf(header(status, "Location"));

    // Out of order (skips 10 bytes) through every node, so through at least two that do not hold
    // the session: 416 and the session's current range; the session is left as it was.
    byte[] stray = Images.random(100, 9);
    long wrongStart = chunk1.length + 10;
    for (int n = 0; n < 3; n++) {
      HttpResponse<byte[]> bad = clients.get(n).send("PATCH", location, stray, Map.of(
          "Content-Type", "application/octet-stream",
          "Content-Range", wrongStart + "-" + (wrongStart + stray.length - 1)));
      OciClient.expect(bad, 416);
      assertEquals("0-" + (chunk1.length - 1), header(bad, "Range"), "Range of the 416 via " + NODE_NAMES[n]);
    }

    HttpResponse<byte[]> patch2 = clients.get(2).send("PATCH", location, chunk2, Map.of(
        "Content-Type", "application/octet-stream",
        "Content-Range", chunk1.length + "-" + (whole.length - 1)));
    OciClient.expect(patch2, 202);
    assertEquals("0-" + (whole.length - 1), header(patch2, "Range"), "Range after chunk 2 via node-2");
    location = pathOf(header(patch2, "Location"));

    HttpResponse<byte[]> put = clients.get(1).send("PUT",
        location + (location.contains("?") ? "&" : "?") + "digest=" + digest, null, Map.of());
    OciClient.expect(put, 201);
    assertEquals(digest, header(put, "Docker-Content-Digest"));
    assertEquals("/v2/" + repo + "/blobs/" + digest, pathOf(header(put, "Location")));
    created.add(repo);

    // The finished session is gone, whichever node is asked.
    OciClient.expect(clients.get(0).get(location), 404);

    for (int n = 0; n < 3; n++) {
      String via = " via " + NODE_NAMES[n];
      HttpResponse<byte[]> get = clients.get(n).get("/v2/" + repo + "/blobs/" + digest);
      OciClient.expect(get, 200);
      assertEquals(digest, header(get, "Docker-Content-Digest"), "GET Docker-Content-Digest" + via);
      assertArrayEquals(whole, get.body(), "blob bytes" + via);
      HttpResponse<byte[]> head = clients.get(n).send("HEAD", "/v2/" + repo + "/blobs/" + digest, null, Map.of());
      OciClient.expect(head, 200);
      assertEquals(Long.toString(whole.length), header(head, "Content-Length"), "HEAD Content-Length" + via);
      assertEquals(digest, header(head, "Docker-Content-Digest"), "HEAD Docker-Content-Digest" + via);
    }
  }

  // --- 3. blobs via node 2, manifest via node 1, listings via node 0 -------------------------

  @Test
  @Order(3)
  void manifestAndBlobsThroughDifferentNodesReferrersThroughAThird() throws Exception {
    // Primary node 0; node 1 (the manifest's way in) is not an owner.
    String repo = placed("routing/split", 0, 1);
    OciClient blobsVia = clients.get(2);
    OciClient manifestVia = clients.get(1);
    OciClient readVia = clients.get(0);
    attempted.add(repo);

    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}")
        .getBytes(StandardCharsets.UTF_8);
    byte[] layer1 = Images.random(300 * 1024, 31);
    byte[] layer2 = Images.random(2048, 32);
    String configDigest = blobsVia.pushBlob(repo, config).toString();
    String l1 = blobsVia.pushBlob(repo, layer1).toString();
    String l2 = blobsVia.pushBlob(repo, layer2).toString();
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor(OCI_CONFIG, io.flotilla.oci.Digest.parse(configDigest), config.length)
        + ",\"layers\":[" + Images.descriptor(OCI_LAYER_GZIP, io.flotilla.oci.Digest.parse(l1), layer1.length) + ","
        + Images.descriptor(OCI_LAYER_GZIP, io.flotilla.oci.Digest.parse(l2), layer2.length) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    String manifestDigest = OciLayout.sha256(manifest);
    HttpResponse<byte[]> put = manifestVia.putManifest(repo, "release", OCI_MANIFEST, manifest);
    OciClient.expect(put, 201);
    assertEquals(manifestDigest, header(put, "Docker-Content-Digest"));
    created.add(repo);

    HttpResponse<byte[]> tags = readVia.get("/v2/" + repo + "/tags/list");
    OciClient.expect(tags, 200);
    JsonNode tagList = OciLayout.parse(tags.body());
    assertEquals(repo, tagList.path("name").asText(), OciClient.text(tags));
    assertEquals(List.of("release"), texts(tagList.path("tags")), OciClient.text(tags));
    HttpResponse<byte[]> got = readVia.get("/v2/" + repo + "/manifests/release", Map.of("Accept", OCI_MANIFEST));
    OciClient.expect(got, 200);
    assertEquals(manifestDigest, header(got, "Docker-Content-Digest"));
    assertArrayEquals(manifest, got.body());

    // An artifact with the manifest as its subject, entirely through node 2, pushed by digest.
    String artifactType = "application/vnd.example.sbom.v1";
    byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    byte[] sbom = "{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"routing\",\"packages\":[]}".getBytes(StandardCharsets.UTF_8);
    String emptyDigest = blobsVia.pushBlob(repo, empty).toString();
    String sbomDigest = blobsVia.pushBlob(repo, sbom).toString();
    ObjectNode art = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST)
        .put("artifactType", artifactType);
    art.set("config", new Desc(OCI_EMPTY, emptyDigest, empty.length).json());
    art.putArray("layers").add(new Desc("application/spdx+json", sbomDigest, sbom.length).json());
    art.set("subject", new Desc(OCI_MANIFEST, manifestDigest, manifest.length).json());
    byte[] artifact = OciLayout.bytes(art);
    String artifactDigest = OciLayout.sha256(artifact);
    HttpResponse<byte[]> putArtifact = blobsVia.putManifest(repo, artifactDigest, OCI_MANIFEST, artifact);
    OciClient.expect(putArtifact, 201);
    assertEquals(manifestDigest, header(putArtifact, "OCI-Subject"));
    assertEquals(artifactDigest, header(putArtifact, "Docker-Content-Digest"));

    for (int n = 0; n < 3; n++) {
      String via = " via " + NODE_NAMES[n];
      HttpResponse<byte[]> referrers = clients.get(n).get("/v2/" + repo + "/referrers/" + manifestDigest);
      OciClient.expect(referrers, 200);
      assertEquals(OCI_INDEX, header(referrers, "Content-Type"), "referrers Content-Type" + via);
      JsonNode index = OciLayout.parse(referrers.body());
      assertEquals(2, index.path("schemaVersion").asInt(), "referrers" + via + ": " + index);
      JsonNode list = index.path("manifests");
      assertEquals(1, list.size(), "referrers" + via + ": " + index);
      assertEquals(artifactDigest, list.get(0).path("digest").asText(), "referrer digest" + via);
      assertEquals(artifact.length, list.get(0).path("size").asLong(), "referrer size" + via);
      assertEquals(OCI_MANIFEST, list.get(0).path("mediaType").asText(), "referrer mediaType" + via);
      assertEquals(artifactType, list.get(0).path("artifactType").asText(), "referrer artifactType" + via);
    }
  }

  // --- 4. the catalog, through every node ------------------------------------------------------

  @Test
  @Order(4)
  void catalogThroughEveryNodeListsEachRepositoryOnce() throws Exception {
    assertFalse(created.isEmpty(), "no repository was created by the earlier tests of this class");
    for (int n = 0; n < 3; n++) {
      for (int pageSize : new int[] {100, 2}) {
        String via = " via " + NODE_NAMES[n] + " n=" + pageSize;
        List<String> listed = listAll(clients.get(n), pageSize);
        assertEquals(new HashSet<>(listed).size(), listed.size(), "duplicates in the catalog" + via + ": " + listed);
        assertEquals(new ArrayList<>(new TreeSet<>(listed)), listed, "catalog not in order" + via);
        assertTrue(listed.containsAll(created), "catalog" + via + " is missing some of " + created + ": " + listed);
        assertTrue(attempted.containsAll(listed), "catalog" + via + " lists a repository never pushed: " + listed);
      }
    }
  }

  // --- helpers ---------------------------------------------------------------------------------

  static String hostPort(int node) {
    return URI.create(nodes.get(node).url()).getAuthority();
  }

  /**
   * The first of {@code base}, {@code base-1}, {@code base-2}... whose primary (highest
   * rendezvous score) is {@code primary} and whose lowest-scoring node, the one that owns no copy
   * with replication factor 2, is {@code notOwner}.
   */
  static String placed(String base, int primary, int notOwner) {
    for (int k = 0; k < 10_000; k++) {
      String name = k == 0 ? base : base + "-" + k;
      Integer[] rank = {0, 1, 2};
      Arrays.sort(rank, (a, b) -> Long.compareUnsigned(Placement.score(NODE_NAMES[b], name),
          Placement.score(NODE_NAMES[a], name)));
      if (rank[0] == primary && rank[2] == notOwner) {
        return name;
      }
    }
    throw new IllegalStateException("no name for " + base);
  }

  /** Path and query of a Location header, absolute or not, to send to any node. */
  static String pathOf(String location) {
    URI u = URI.create(location);
    if (u.getScheme() == null) {
      return location;
    }
    return u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
  }

  static String header(HttpResponse<byte[]> r, String name) {
    return r.headers().firstValue(name).orElseThrow(() -> new AssertionError("no " + name + " header on "
        + r.statusCode() + " for " + r.request().method() + " " + r.request().uri() + ": " + r.headers().map()));
  }

  static List<String> listAll(OciClient client, int n) throws Exception {
    List<String> seen = new ArrayList<>();
    String next = "/v2/_catalog?n=" + n;
    while (next != null) {
      var r = client.get(next);
      OciClient.expect(r, 200);
      assertTrue(r.headers().firstValue("Flotilla-Catalog-Incomplete").isEmpty(), "no node is missing");
      JsonNode page = JSON.readTree(r.body()).get("repositories");
      assertTrue(page.size() <= n, "page larger than n=" + n + ": " + page);
      page.forEach(x -> seen.add(x.asText()));
      String link = r.headers().firstValue("Link").orElse(null);
      next = link == null ? null : pathOf(link.substring(link.indexOf('<') + 1, link.indexOf('>')));
    }
    return seen;
  }

  /** An image written into a layout: its manifest, config and layer descriptors. */
  record Image(Desc manifest, byte[] manifestBytes, Desc config, List<Desc> layers) {}

  /**
   * Writes an image of {@code layerCount} gzip'd tar layers (the first one about 1.5 MB of noise,
   * so it crosses nodes in many frames) and a config with the matching {@code rootfs.diff_ids}.
   */
  static Image writeImage(OciLayout layout, int layerCount, long seed) {
    Random random = new Random(seed);
    List<Desc> layers = new ArrayList<>();
    ArrayNode diffIds = JSON.createArrayNode();
    for (int i = 0; i < layerCount; i++) {
      byte[] noise = new byte[i == 0 ? 1536 * 1024 : 4096 + 1024 * i];
      random.nextBytes(noise);
      Map<String, byte[]> files = new LinkedHashMap<>();
      files.put("routing/layer-" + i + ".txt",
          ("layer " + i + " of seed " + seed + "\n").repeat(50).getBytes(StandardCharsets.UTF_8));
      files.put("routing/noise-" + i + ".bin", noise);
      byte[] tar = OciLayout.tar(files);
      diffIds.add(OciLayout.sha256(tar));
      layers.add(layout.blob(OCI_LAYER_GZIP, OciLayout.gzip(tar)));
    }
    ObjectNode config = JSON.createObjectNode().put("created", "1970-01-01T00:00:00Z")
        .put("architecture", "amd64").put("os", "linux");
    config.putObject("config").putArray("Cmd").add("/bin/true");
    config.putObject("rootfs").put("type", "layers").set("diff_ids", diffIds);
    Desc configDesc = layout.json(OCI_CONFIG, config);
    ObjectNode manifest = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_MANIFEST);
    manifest.set("config", configDesc.json());
    ArrayNode layerArray = manifest.putArray("layers");
    layers.forEach(l -> layerArray.add(l.json()));
    manifest.putObject("annotations").put("io.flotilla.routing.seed", Long.toString(seed));
    Desc manifestDesc = layout.json(OCI_MANIFEST, manifest);
    return new Image(manifestDesc, layout.read(manifestDesc.digest()), configDesc, layers);
  }

  /** Both layouts hold the same blobs (manifest included), each byte-identical. */
  static void assertSameBlobs(OciLayout expected, OciLayout actual, String via) {
    Map<String, byte[]> want = expected.blobs();
    Map<String, byte[]> got = actual.blobs();
    assertEquals(want.keySet(), got.keySet(), "blob digests" + via);
    for (Map.Entry<String, byte[]> e : got.entrySet()) {
      assertEquals(e.getKey(), OciLayout.sha256(e.getValue()), "blob file content does not match its name" + via);
      assertArrayEquals(want.get(e.getKey()), e.getValue(), "blob " + e.getKey() + via);
    }
  }

  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(x -> out.add(x.asText()));
    return out;
  }
}
