// The half of bench/sync.sh that needs Flotilla's classes: it fills the upstream. A benchmark tool, not a test. Run
// against the built jar (single-file source program, so the bench project needs no compile-time
// dependency on the server):
//
//   java -cp target/flotilla.jar bench/SyncBench.java populate URL REPO TAGS LAYERS LAYER_BYTES SEED
//       pushes TAGS images (tags t0000..) into URL/REPO: each an OCI image manifest with a small
//       config and LAYERS random layers of LAYER_BYTES (monolithic POST ?digest= uploads)

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;

public class SyncBench {
  static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "populate" -> populate(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
          Integer.parseInt(args[5]), Long.parseLong(args[6]));
      default -> throw new IllegalArgumentException("populate");
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
}
