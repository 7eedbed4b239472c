package io.flotilla.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the container image without a container engine: its layers are unpacked into a root file
 * system, and the image's entrypoint starts there with the image's environment, working directory
 * and user, in a chroot with its own mount and PID namespaces and a read-only root (as the
 * Kubernetes example runs it), a fresh {@code /tmp} and a data folder owned by root but writable
 * through the image's folder mode, like a new volume. The node must get ready, take a push, and
 * stop gracefully on SIGTERM (exit code 143, as the jar does). Needs root (chroot and mounts):
 * skipped otherwise, failed under {@code CI=true}.
 */
class ContainerImageRunE2E {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);

  @TempDir
  static Path tmp;

  @Test
  void entrypointServesAsTheImagesUserAndStopsCleanly() throws Exception {
    Path archive = ContainerImageE2E.imageArchive();
    requireRoot();
    Skopeo.require();
    Path layout = tmp.resolve("layout");
    Skopeo.run(Duration.ofMinutes(5), "copy", "--preserve-digests", "oci-archive:" + archive, "oci:" + layout + ":run").assertOk();
    OciLayout image = OciLayout.open(layout);
    JsonNode manifest = OciLayout.parse(image.read(image.entry("run").path("digest").asText()));
    JsonNode config = OciLayout.parse(image.read(manifest.path("config").path("digest").asText())).path("config");

    Path root = tmp.resolve("rootfs");
    Files.createDirectories(root);
    for (JsonNode layer : manifest.path("layers")) {
      run(Duration.ofMinutes(3), "tar", "-xzf", image.blobPath(layer.path("digest").asText()).toString(), "-C", root.toString());
    }
    Path data = tmp.resolve("data"); // stands for a new volume: it takes the image's /data mode
    Files.createDirectories(data);
    run(Duration.ofSeconds(10), "chmod", "--reference=" + root.resolve("data"), data.toString());

    int httpPort = TestNode.freePort();
    List<String> envs = new ArrayList<>();
    config.path("Env").forEach(e -> envs.add(e.asText()));
    envs.addAll(List.of("FLOTILLA_HTTP_PORT=" + httpPort, "FLOTILLA_CLUSTER_PORT=" + TestNode.freePort(),
        "FLOTILLA_NODE_NAME=image-run", "FLOTILLA_CLUSTER_NAME=image-run-" + httpPort, "FLOTILLA_STORAGE_GC_INTERVAL=0"));
    List<String> entrypoint = new ArrayList<>();
    config.path("Entrypoint").forEach(e -> entrypoint.add(e.asText()));
    String workdir = config.path("WorkingDir").asText("/");
    String r = root.toString();
    // The root is bound read-only onto itself; /proc, /tmp and /data are mounted in the new namespace.
    String script = "set -e; mount --bind " + q(r) + " " + q(r) + "; mount -o remount,bind,ro " + q(r) + "; "
        + "mount -t proc proc " + q(r + "/proc") + "; mount -t tmpfs tmpfs " + q(r + "/tmp") + "; "
        + "mount --bind " + q(data.toString()) + " " + q(r + "/data") + "; "
        + "exec chroot --userspec=" + config.path("User").asText() + " " + q(r) + " env -i "
        + String.join(" ", envs.stream().map(ContainerImageRunE2E::q).toList())
        + " sh -c " + q("cd " + workdir + " && exec " + String.join(" ", entrypoint.stream().map(ContainerImageRunE2E::q).toList()));
    Path log = tmp.resolve("node.log");
    Process unshare = new ProcessBuilder("unshare", "--mount", "--pid", "--fork", "--kill-child", "bash", "-c", script)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      awaitReady(unshare, httpPort, log);
      String output = Files.readString(log);
      assertTrue(output.contains("Picked up JDK_JAVA_OPTIONS: -Xmx192m -XX:+UseParallelGC"), "the JVM flags apply:\n" + output);
      assertTrue(output.contains("with data in /data"), "the node keeps its data in /data:\n" + output);

      OciClient client = new OciClient("http://127.0.0.1:" + httpPort);
      byte[] blob = "pushed into the node that runs from the image".getBytes(StandardCharsets.UTF_8);
      client.pushBlob("image/run", blob);
      HttpResponse<byte[]> back = client.get("/v2/image/run/blobs/" + OciLayout.sha256(blob));
      OciClient.expect(back, 200);
      assertEquals(new String(blob, StandardCharsets.UTF_8), new String(back.body(), StandardCharsets.UTF_8));
      try (var files = Files.walk(data)) {
        assertTrue(files.anyMatch(p -> p.toString().endsWith(OciLayout.sha256(blob).substring(7))),
            "the blob is stored in the data volume");
      }
      long owner = (Integer) Files.getAttribute(data.resolve("metadata"), "unix:uid");
      assertEquals(Long.parseLong(config.path("User").asText().split(":")[0]), owner, "files belong to the image's user");

      ProcessHandle java = unshare.descendants().filter(p -> p.info().command().orElse("").endsWith("/java")).findFirst()
          .orElseThrow(() -> new AssertionError("no java process under " + unshare.pid()));
      run(Duration.ofSeconds(10), "kill", "-TERM", Long.toString(java.pid()));
      assertTrue(unshare.waitFor(90, TimeUnit.SECONDS), "the node did not stop on SIGTERM:\n" + Files.readString(log));
      String stopped = Files.readString(log);
      assertEquals(143, unshare.exitValue(), "SIGTERM exit code (128 + 15 after the shutdown hook ran):\n" + stopped);
      assertTrue(stopped.contains("shutting down gracefully"), "a graceful stop:\n" + stopped);
    } finally {
      unshare.destroyForcibly(); // --kill-child takes the node with it
      unshare.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static void requireRoot() throws IOException, InterruptedException {
    Process id = new ProcessBuilder("id", "-u").start();
    String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    id.waitFor();
    if ("0".equals(uid)) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("running the image needs root (chroot, mounts), and CI=true requires this test");
    }
    Assumptions.abort("not root: cannot chroot into the image");
  }

  private static void awaitReady(Process p, int port, Path log) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        fail("the image's entrypoint exited " + p.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    fail("not ready within " + READY_TIMEOUT + ":\n" + Files.readString(log));
  }

  private static void run(Duration timeout, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      fail(String.join(" ", cmd) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
  }

  /** Single-quoted for sh. */
  private static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
