package io.flotilla.e2e;

import static io.flotilla.e2e.OciLayout.OCI_MANIFEST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.config.ClusterConfig;
import io.flotilla.config.HttpConfig;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's container image that {@code mvn package} builds with Jib ({@code target/flotilla-image.tar},
 * an OCI archive; {@code FLOTILLA_IMAGE} names it): its config as a container runtime reads it, the
 * packaged jar inside it, and a push of the image into a real Flotilla node and a pull back, byte
 * for byte, with the real skopeo client. When the build made no image (no mmdebstrap outside CI)
 * the tests are skipped, and under {@code CI=true} they fail instead.
 */
class ContainerImageE2E {
  private static final Duration COPY_TIMEOUT = Duration.ofMinutes(5);

  @TempDir
  static Path tmp;

  static Path archive;
  static OciLayout image;
  static JsonNode manifest;
  static JsonNode config;

  @BeforeAll
  static void load() {
    archive = imageArchive();
    Skopeo.require();
    // The archive as a plain OCI layout, unchanged (skopeo refuses to alter a digest here).
    Path layout = tmp.resolve("image");
    Skopeo.run(COPY_TIMEOUT, "copy", "--preserve-digests", "oci-archive:" + archive, "oci:" + layout + ":built").assertOk();
    image = OciLayout.open(layout);
    manifest = OciLayout.parse(image.read(image.entry("built").path("digest").asText()));
    config = OciLayout.parse(image.read(manifest.path("config").path("digest").asText()));
  }

  /** The image archive the build wrote; skips (or, with CI=true, fails) when there is none. */
  static Path imageArchive() {
    String env = System.getenv("FLOTILLA_IMAGE");
    Path p = env != null && !env.isBlank() ? Path.of(env) : Path.of("target", "flotilla-image.tar");
    if (Files.isRegularFile(p)) {
      return p;
    }
    String why = "no container image at " + p + " (the build skips it without mmdebstrap; see docs/deployment.md)";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(why + ", and CI=true requires it");
    }
    Assumptions.abort(why);
    return p;
  }

  @Test
  void configRunsTheJarAsANonRootUserWithTheReadmeFlags() {
    JsonNode c = config.path("config");
    assertEquals(List.of("java", "-jar", "/app/flotilla.jar"), strings(c.path("Entrypoint")), "entrypoint");
    assertTrue(c.path("Cmd").isMissingNode() || c.path("Cmd").isNull() || c.path("Cmd").isEmpty(),
        "no Cmd: arguments after the entrypoint would be the node's own; was " + c.path("Cmd"));
    String user = c.path("User").asText("");
    assertFalse(user.isEmpty(), "the image must name a user (an empty User runs as root)");
    String uid = user.split(":", 2)[0];
    assertTrue(uid.matches("[0-9]+") && Integer.parseInt(uid) != 0, "a numeric non-root user, was '" + user + "'");
    if (user.contains(":")) {
      assertTrue(Integer.parseInt(user.split(":", 2)[1]) != 0, "a non-root group, was '" + user + "'");
    }
    Map<String, String> env = env(c);
    // The README's flags, through the variable the java launcher reads (operators may replace it).
    assertEquals("-Xmx192m -XX:+UseParallelGC", env.get("JDK_JAVA_OPTIONS"), "JVM flags");
    assertEquals("/data", env.get("FLOTILLA_DATA_DIR"), "data folder");
    assertEquals("0.0.0.0", env.get("FLOTILLA_HTTP_HOST"), "HTTP on every interface of the container");
    assertTrue(env.getOrDefault("PATH", "").contains("/usr/bin"), "java is found on the PATH: " + env.get("PATH"));
    assertEquals("amd64", config.path("architecture").asText(), "the jar carries RocksDB for Linux x86-64 only");
    assertEquals("linux", config.path("os").asText());
  }

  @Test
  void dataIsAVolumeAndTheNodesPortsAreExposed() {
    JsonNode c = config.path("config");
    assertEquals(Set.of("/data"), names(c.path("Volumes")), "volumes");
    Set<String> expected = new TreeSet<>(List.of(
        HttpConfig.DEFAULT.port() + "/tcp",          // http.port
        ClusterConfig.DEFAULT.port() + "/tcp",       // cluster.port (Hazelcast)
        "5801/tcp"));                                // cluster.dataPort, the node-to-node data channel
    assertEquals(expected, names(c.path("ExposedPorts")), "exposed ports");
  }

  @Test
  void imageCarriesThePackagedJarAndAWritableDataFolder() throws IOException {
    byte[] jar = Files.readAllBytes(NodeProcess.jar());
    byte[] found = null;
    boolean dataWritable = false;
    for (JsonNode layer : manifest.path("layers")) {
      byte[] tar = OciLayout.gunzip(image.read(layer.path("digest").asText()));
      byte[] inLayer = OciLayout.untar(tar).get("app/flotilla.jar");
      if (inLayer != null) {
        found = inLayer;
      }
      dataWritable |= otherWritableDirectory(tar, "data");
    }
    assertNotNull(found, "no layer holds /app/flotilla.jar");
    assertEquals(OciLayout.sha256(jar), OciLayout.sha256(found), "the image holds the jar this build packaged");
    assertTrue(dataWritable, "/data must be writable by the image's non-root user (a new volume copies its mode)");
  }

  @Test
  void imagePushedIntoFlotillaPullsBackByteForByte() {
    Skopeo.require();
    try (TestNode node = TestNode.start(tmp.resolve("registry-data"))) {
      String ref = "docker://" + node.hostPort() + "/flotilla/node:image-e2e";
      Skopeo.run(COPY_TIMEOUT, "copy", "--preserve-digests", "--dest-tls-verify=false",
          "oci-archive:" + archive, ref).assertOk();

      // The registry serves the very manifest the build wrote, under the tag and under its digest.
      String manifestDigest = image.entry("built").path("digest").asText();
      OciClient client = new OciClient(node.url());
      HttpResponse<byte[]> served = client.get("/v2/flotilla/node/manifests/image-e2e", Map.of("Accept", OCI_MANIFEST));
      OciClient.expect(served, 200);
      assertArrayEquals(image.read(manifestDigest), served.body(), "manifest bytes");
      assertEquals(manifestDigest, served.headers().firstValue("Docker-Content-Digest").orElse(null));

      Path pulled = tmp.resolve("pulled");
      Skopeo.run(COPY_TIMEOUT, "copy", "--preserve-digests", "--src-tls-verify=false", ref,
          "oci:" + pulled + ":image-e2e").assertOk();
      OciLayout back = OciLayout.open(pulled);
      assertEquals(manifestDigest, back.entry("image-e2e").path("digest").asText(), "manifest digest after the pull");
      List<String> digests = new ArrayList<>();
      digests.add(manifestDigest);
      digests.add(manifest.path("config").path("digest").asText());
      manifest.path("layers").forEach(l -> digests.add(l.path("digest").asText()));
      for (String d : digests) {
        byte[] original = image.read(d);
        byte[] copy = back.read(d);
        assertEquals(original.length, copy.length, d + " size");
        assertArrayEquals(original, copy, d + " bytes");
        assertEquals(d, OciLayout.sha256(copy), d + " digest of the pulled bytes");
      }
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static Set<String> names(JsonNode object) {
    Set<String> out = new TreeSet<>();
    object.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static Map<String, String> env(JsonNode config) {
    Map<String, String> out = new java.util.HashMap<>();
    for (JsonNode e : config.path("Env")) {
      String kv = e.asText();
      int eq = kv.indexOf('=');
      out.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return out;
  }

  /** Whether the tar holds the directory {@code name} with write permission for every user. */
  private static boolean otherWritableDirectory(byte[] tar, String name) {
    int pos = 0;
    while (pos + 512 <= tar.length && tar[pos] != 0) {
      String entry = cString(tar, pos, 100);
      String sizeField = cString(tar, pos + 124, 12).trim();
      long size = sizeField.isEmpty() ? 0 : Long.parseLong(sizeField, 8);
      char type = (char) tar[pos + 156];
      String normalised = entry.replaceFirst("^\\./", "").replaceFirst("^/", "").replaceFirst("/$", "");
      if (type == '5' && normalised.equals(name)) {
        int mode = Integer.parseInt(cString(tar, pos + 100, 8).trim(), 8);
        return (mode & 0002) != 0;
      }
      pos += 512 + (int) ((size + 511) / 512 * 512);
    }
    return false;
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, java.nio.charset.StandardCharsets.US_ASCII);
  }
}
