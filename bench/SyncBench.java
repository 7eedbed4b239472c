// The two halves of bench/sync.sh that need Flotilla's classes. A benchmark tool, not a test. Run
// against the built jar (single-file source program, so the bench project needs no compile-time
// dependency on the server):
//
//   java -cp target/flotilla.jar bench/SyncBench.java populate URL REPO TAGS LAYERS LAYER_BYTES SEED
//       pushes TAGS images (tags t0000..) into URL/REPO: each an OCI image manifest with a small
//       config and LAYERS random layers of LAYER_BYTES (monolithic POST ?digest= uploads)
//   java -cp target/flotilla.jar bench/SyncBench.java sync URL REPO DATA_DIR
//       starts a Flotilla node in this JVM on DATA_DIR (HTTP on a free loopback port, a cluster of
//       one), syncs every tag of URL/REPO into its repository REPO with content.RepositorySync, and
//       prints {"seconds","bytes","manifests","blobs","failures"} (seconds: the sync alone, not the
//       node's start)

import io.flotilla.boot.Node;
import io.flotilla.config.ConfigLoader;
import io.flotilla.content.RepositorySync;
import io.flotilla.content.SyncOutcome;
import io.flotilla.content.SyncProgress;
import io.flotilla.content.SyncSpec;
import io.flotilla.content.UpstreamConfig;
import io.flotilla.content.UpstreamRegistry;
import io.flotilla.oci.RepositoryName;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

public class SyncBench {
  static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "populate" -> populate(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
          Integer.parseInt(args[5]), Long.parseLong(args[6]));
      case "sync" -> sync(args[1], args[2], args[3]);
      default -> throw new IllegalArgumentException("populate or sync");
    }
  }

  static void populate(String url, String repo, int tags, int layers, int layerBytes, long seed) throws Exception {
    Random rnd = new Random(seed);
    for (int t = 0; t < tags; t++) {
      StringBuilder layerList = new StringBuilder();
      for (int l = 0; l < layers; l++) {
        byte[] layer = new byte[layerBytes];
        rnd.nextBytes(layer);
        String d = push(url, repo, layer);
        layerList.append(l == 0 ? "" : ",").append(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", d,
            layer.length));
      }
      byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + rnd.nextLong() + "}")
          .getBytes(StandardCharsets.UTF_8);
      String c = push(url, repo, config);
      byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST + "\",\"config\":"
          + descriptor("application/vnd.oci.image.config.v1+json", c, config.length) + ",\"layers\":["
          + layerList + "]}").getBytes(StandardCharsets.UTF_8);
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v2/" + repo + "/manifests/"
          + String.format("t%04d", t))).header("Content-Type", MANIFEST)
          .PUT(HttpRequest.BodyPublishers.ofByteArray(manifest)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 201) {
        throw new IllegalStateException("manifest PUT: " + r.statusCode() + " " + r.body());
      }
    }
  }

  static String push(String url, String repo, byte[] blob) throws Exception {
    String digest = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
    HttpResponse<String> start = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v2/" + repo + "/blobs/uploads/"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    if (start.statusCode() != 202) {
      throw new IllegalStateException("upload start: " + start.statusCode());
    }
    String location = start.headers().firstValue("Location").orElseThrow();
    URI put = URI.create(url).resolve(location + (location.contains("?") ? "&" : "?") + "digest=" + digest);
    HttpResponse<String> done = HTTP.send(HttpRequest.newBuilder(put).header("Content-Type", "application/octet-stream")
        .PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(), HttpResponse.BodyHandlers.ofString());
    if (done.statusCode() != 201) {
      throw new IllegalStateException("upload: " + done.statusCode() + " " + done.body());
    }
    return digest;
  }

  static String descriptor(String mediaType, String digest, long size) {
    return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
  }

  static void sync(String url, String repo, String dataDir) throws Exception {
    Map<String, String> values = new HashMap<>();
    values.put("node.name", "sync-bench");
    values.put("http.host", "127.0.0.1");
    values.put("http.port", "0");
    values.put("http.accessLog", "false");
    values.put("storage.dataDir", dataDir);
    values.put("cluster.name", "sync-bench-" + UUID.randomUUID());
    values.put("cluster.host", "127.0.0.1");
    values.put("cluster.port", Integer.toString(freePort()));
    values.put("cluster.dataPort", "0");
    values.put("events.enabled", "false");
    Node node = Node.start(ConfigLoader.build(values)).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    try {
      UpstreamRegistry upstream = new UpstreamRegistry(node.vertx(), UpstreamConfig.of(url));
      RepositorySync sync = new RepositorySync(node.vertx(), upstream, node.storage(), node.blobTransfer());
      RepositoryName name = RepositoryName.of(repo);
      long started = System.nanoTime();
      SyncOutcome out = sync.run(SyncSpec.of(name, name), sync.context("bench"), new SyncProgress())
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.MINUTES);
      double seconds = (System.nanoTime() - started) / 1e9;
      System.out.printf("{\"seconds\":%.3f,\"bytes\":%d,\"manifests\":%d,\"blobs\":%d,\"failures\":%d}%n", seconds,
          out.bytesCopied(), out.manifestsCopied(), out.blobsCopied(), out.failures().size());
      upstream.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      node.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    System.exit(0);
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
