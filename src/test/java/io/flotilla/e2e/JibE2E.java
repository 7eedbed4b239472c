package io.flotilla.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.JibContainerBuilder;
import com.google.cloud.tools.jib.api.LogEvent;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import com.google.cloud.tools.jib.api.buildplan.ImageFormat;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end with Jib core as the client: builds images from scratch (and on top of an image in
 * this registry, which makes Jib use cross-repository mounts), pushes them over plain HTTP, and
 * checks what the registry then serves.
 */
class JibE2E {
  static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final String ACCEPT = DOCKER_MANIFEST + ", " + OCI_MANIFEST;

  @TempDir
  static Path tmp;

  static TestNode node;
  static OciClient client;
  static byte[] runScript;
  static byte[] data;
  static JibContainer first;

  @BeforeAll
  static void start() {
    node = TestNode.start(tmp.resolve("data"));
    client = new OciClient(node.url());
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  /** The first image (e2e/jib:1.0, Docker format, FROM scratch), pushed once for the whole class. */
  static synchronized JibContainer firstImage() throws Exception {
    if (first == null) {
      Path app = Files.createDirectories(tmp.resolve("app"));
      runScript = "#!/bin/sh\necho hello from flotilla e2e\n".getBytes(StandardCharsets.UTF_8);
      data = new byte[96 * 1024];
      new Random(42).nextBytes(data);
      Path run = Files.write(app.resolve("run.sh"), runScript);
      Path bin = Files.write(app.resolve("data.bin"), data);
      JibContainerBuilder builder = Jib.fromScratch()
          .addLayer(List.of(run, bin), AbsoluteUnixPath.get("/app"))
          .setEntrypoint("/app/run.sh")
          .setFormat(ImageFormat.Docker);
      first = builder.containerize(containerizer(node.hostPort() + "/e2e/jib:1.0"));
    }
    return first;
  }

  static Containerizer containerizer(String image) throws Exception {
    return Containerizer.to(RegistryImage.named(image))
        .setAllowInsecureRegistries(true)
        .setBaseImageLayersCache(tmp.resolve("jib-cache").resolve("base"))
        .setApplicationLayersCache(tmp.resolve("jib-cache").resolve("app"))
        .setToolName("flotilla-e2e")
        .addEventHandler(LogEvent.class, e -> {
          if (e.getLevel() == LogEvent.Level.ERROR || e.getLevel() == LogEvent.Level.WARN) {
            System.out.println("[jib " + e.getLevel() + "] " + e.getMessage());
          }
        });
  }

  @Test
  void jibImageFromScratchIsServedAsPushed() throws Exception {
    JibContainer c = firstImage();
    assertTrue(c.isImagePushed());

    HttpResponse<byte[]> m = client.get("/v2/e2e/jib/manifests/1.0", Map.of("Accept", ACCEPT));
    OciClient.expect(m, 200);
    String digest = c.getDigest().toString();
    assertEquals(digest, m.headers().firstValue("Docker-Content-Digest").orElse(null));
    assertEquals(digest, OciLayout.sha256(m.body()), "served manifest bytes do not hash to the digest");
    assertEquals(DOCKER_MANIFEST, m.headers().firstValue("Content-Type").orElse(null));

    // The same manifest by digest.
    HttpResponse<byte[]> byDigest = client.get("/v2/e2e/jib/manifests/" + digest, Map.of("Accept", ACCEPT));
    OciClient.expect(byDigest, 200);
    assertArrayEquals(m.body(), byDigest.body());

    JsonNode manifest = OciLayout.parse(m.body());
    JsonNode configDesc = manifest.path("config");
    assertEquals(c.getImageId().toString(), configDesc.path("digest").asText(), "config digest is Jib's image id");
    byte[] config = fetchBlob("e2e/jib", configDesc);
    JsonNode configJson = OciLayout.parse(config);
    assertEquals("/app/run.sh", configJson.path("config").path("Entrypoint").path(0).asText());

    JsonNode layers = manifest.path("layers");
    assertEquals(1, layers.size(), "one application layer: " + manifest);
    assertEquals(layers.size(), configJson.path("rootfs").path("diff_ids").size());
    byte[] layer = fetchBlob("e2e/jib", layers.get(0));
    byte[] tar = OciLayout.gunzip(layer);
    assertEquals(configJson.path("rootfs").path("diff_ids").path(0).asText(), OciLayout.sha256(tar),
        "diff_id is the digest of the uncompressed layer");
    Map<String, byte[]> files = OciLayout.untar(tar);
    assertArrayEquals(runScript, files.get("app/run.sh"), "files in layer: " + files.keySet());
    assertArrayEquals(data, files.get("app/data.bin"), "files in layer: " + files.keySet());

    HttpResponse<byte[]> tags = client.get("/v2/e2e/jib/tags/list");
    OciClient.expect(tags, 200);
    assertTrue(SkopeoE2E.texts(OciLayout.parse(tags.body()).path("tags")).contains("1.0"), OciClient.text(tags));
  }

  @Test
  void skopeoCopiesJibImageOut() throws Exception {
    Skopeo.require();
    JibContainer c = firstImage();
    Path out = tmp.resolve("skopeo-out");
    Skopeo.runOk("copy", "--preserve-digests", "--src-tls-verify=false",
        "docker://" + node.hostPort() + "/e2e/jib:1.0", "dir:" + out);
    byte[] manifest = Files.readAllBytes(out.resolve("manifest.json"));
    assertEquals(c.getDigest().toString(), OciLayout.sha256(manifest));
    JsonNode m = OciLayout.parse(manifest);
    List<JsonNode> blobs = new ArrayList<>();
    blobs.add(m.path("config"));
    m.path("layers").forEach(blobs::add);
    for (JsonNode d : blobs) {
      String digest = d.path("digest").asText();
      byte[] copied = Files.readAllBytes(out.resolve(digest.substring("sha256:".length())));
      assertEquals(digest, OciLayout.sha256(copied));
      assertEquals(d.path("size").asLong(), copied.length);
    }
  }

  @Test
  void secondImageOnTopOfFirstMountsItsLayerAcrossRepositories() throws Exception {
    JibContainer base = firstImage();
    JsonNode baseManifest = OciLayout.parse(
        client.get("/v2/e2e/jib/manifests/" + base.getDigest(), Map.of("Accept", ACCEPT)).body());
    String baseLayer = baseManifest.path("layers").path(0).path("digest").asText();
    assertEquals(404, client.get("/v2/e2e/jib2/blobs/" + baseLayer).statusCode(), "layer is not in e2e/jib2 yet");

    Path extra = Files.createDirectories(tmp.resolve("extra"));
    Path cfg = Files.writeString(extra.resolve("app.conf"), "greeting=hello\n");
    double mountsBefore = mountCount();
    JibContainer second = Jib.from(RegistryImage.named(node.hostPort() + "/e2e/jib:1.0"))
        .addLayer(List.of(cfg), AbsoluteUnixPath.get("/etc/e2e"))
        .setFormat(ImageFormat.OCI)
        .containerize(containerizer(node.hostPort() + "/e2e/jib2:1.0"));
    double mounts = mountCount() - mountsBefore;
    assertEquals(1.0, mounts, "Jib should have mounted the base layer from e2e/jib (POST ?mount=&from= -> 201)");

    HttpResponse<byte[]> m = client.get("/v2/e2e/jib2/manifests/1.0", Map.of("Accept", ACCEPT));
    OciClient.expect(m, 200);
    assertEquals(second.getDigest().toString(), m.headers().firstValue("Docker-Content-Digest").orElse(null));
    assertEquals(OCI_MANIFEST, m.headers().firstValue("Content-Type").orElse(null));
    JsonNode manifest = OciLayout.parse(m.body());
    JsonNode layers = manifest.path("layers");
    assertEquals(2, layers.size(), "base layer + new layer: " + manifest);
    assertEquals(baseLayer, layers.get(0).path("digest").asText(), "base layer reused, same digest");
    for (JsonNode d : layers) {
      fetchBlob("e2e/jib2", d);
    }
    fetchBlob("e2e/jib2", manifest.path("config"));
    Map<String, byte[]> added = OciLayout.untar(OciLayout.gunzip(fetchBlob("e2e/jib2", layers.get(1))));
    assertArrayEquals("greeting=hello\n".getBytes(StandardCharsets.UTF_8), added.get("etc/e2e/app.conf"),
        "files: " + added.keySet());

    // Both images remain pullable.
    OciClient.expect(client.get("/v2/e2e/jib/manifests/1.0", Map.of("Accept", ACCEPT)), 200);
    fetchBlob("e2e/jib", layers.get(0));
  }

  /** GETs a blob, checks status, size and digest, and returns it. */
  static byte[] fetchBlob(String repo, JsonNode descriptor) {
    String digest = descriptor.path("digest").asText();
    assertNotNull(digest);
    HttpResponse<byte[]> r = client.get("/v2/" + repo + "/blobs/" + digest);
    OciClient.expect(r, 200);
    assertEquals(descriptor.path("size").asLong(), r.body().length, "size of " + digest);
    assertEquals(digest, OciLayout.sha256(r.body()), "content of " + digest);
    assertEquals(digest, r.headers().firstValue("Docker-Content-Digest").orElse(null));
    return r.body();
  }

  private static final Pattern REQUESTS = Pattern.compile("^flotilla_http_requests_total\\{([^}]*)\\}\\s+(\\S+)$");

  /** POSTs to /blobs/uploads/ answered 201: successful mounts (Jib never uses monolithic POST uploads). */
  static double mountCount() {
    HttpResponse<byte[]> r = client.get("/metrics");
    OciClient.expect(r, 200);
    double sum = 0;
    for (String line : OciClient.text(r).split("\n")) {
      Matcher m = REQUESTS.matcher(line.trim());
      if (m.matches() && m.group(1).contains("route=\"uploads\"") && m.group(1).contains("method=\"POST\"")
          && m.group(1).contains("status=\"201\"")) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }
}
