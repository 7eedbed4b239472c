// Loads a node's data directory with many repositories and manifests through the storage API (not
// HTTP), for bench/scale.sh: REPOS repositories, each with MANIFESTS image manifests (tags v0..),
// all sharing one config and one layer blob (mounted into each repository from a seed). A benchmark
// tool, not a test. Run against the built jar:
//
//   java -cp target/flotilla.jar bench/ScaleLoad.java DATA_DIR REPOS MANIFESTS [IN_FLIGHT] [FROM]
//
// FROM (default 0) starts at that repository: it completes a load that was cut short (puts are
// idempotent, so repositories already loaded may be loaded again).
//
// Single-file source program so the bench project needs no compile-time dependency on the server.
import io.flotilla.boot.Node;
import io.flotilla.config.ConfigLoader;
import io.flotilla.oci.Digest;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.vertx.core.Future;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class ScaleLoad {
  static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

  public static void main(String[] args) throws Exception {
    String dataDir = args[0];
    int repos = Integer.parseInt(args[1]);
    int perRepo = Integer.parseInt(args[2]);
    int inFlight = args.length > 3 ? Integer.parseInt(args[3]) : 32;
    int from = args.length > 4 ? Integer.parseInt(args[4]) : 0; // resume a cut-short load: repositories from..repos-1
    Map<String, String> values = new HashMap<>();
    values.put("node.name", "scale");
    values.put("http.host", "127.0.0.1");
    values.put("http.port", "0");
    values.put("http.accessLog", "false");
    values.put("storage.dataDir", dataDir);
    values.put("storage.gcInterval", "0");
    values.put("cluster.host", "127.0.0.1");
    values.put("cluster.port", Integer.toString(freePort()));
    values.put("cluster.name", "scale-load-" + ProcessHandle.current().pid());
    values.put("events.enabled", "false");
    Node node = Node.start(ConfigLoader.build(values)).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    String base = "http://127.0.0.1:" + node.httpPort();
    byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
    byte[] layer = new byte[4096];
    new java.util.Random(1).nextBytes(layer);
    Digest c = push(base, "seed/base", config);
    Digest l = push(base, "seed/base", layer);
    RegistryStorage storage = node.storage();
    RequestContext ctx = RequestContext.internal("scale-load");
    Semaphore slots = new Semaphore(inFlight);
    AtomicLong done = new AtomicLong();
    long started = System.nanoTime();
    long[] lastReport = {started};
    CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
    java.util.List<CompletableFuture<?>> pending = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int r = from; r < repos; r++) {
      slots.acquire();
      String repo = String.format("scale%03d/repo-%07d", r % 997, r);
      Future<?> chain = storage.mountBlob(ctx, repo, c.toString(), "seed/base")
          .compose(x -> storage.mountBlob(ctx, repo, l.toString(), "seed/base"));
      for (int m = 0; m < perRepo; m++) {
        String tag = "v" + m;
        byte[] body = manifest(c, config.length, l, layer.length, repo + ":" + tag);
        chain = chain.compose(x -> storage.putManifest(ctx, new PutManifest(repo, tag, OCI_MANIFEST, body))
            .onSuccess(p -> done.incrementAndGet()));
      }
      CompletableFuture<?> f = chain.toCompletionStage().toCompletableFuture();
      f.whenComplete((x, err) -> {
        slots.release();
        if (err != null) {
          System.err.println("load failed in " + repo + ": " + err);
          System.exit(1);
        }
      });
      long now = System.nanoTime();
      if (now - lastReport[0] > 10_000_000_000L) {
        lastReport[0] = now;
        System.err.printf("[scale-load] %d repositories started, %d manifests, %.0f manifests/s%n", r + 1, done.get(),
            done.get() / ((now - started) / 1e9));
      }
      pending.add(f);
      pending.removeIf(CompletableFuture::isDone);
    }
    CompletableFuture.allOf(pending.toArray(new CompletableFuture[0])).get(1, TimeUnit.HOURS);
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("{\"repositories\":%d,\"manifests\":%d,\"seconds\":%.1f,\"manifests_per_s\":%.0f}%n", repos,
        done.get(), seconds, done.get() / seconds);
    node.stop().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    System.exit(0);
  }

  static byte[] manifest(Digest config, int configSize, Digest layer, int layerSize, String name) {
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
        + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + config + "\",\"size\":" + configSize
        + "},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layer
        + "\",\"size\":" + layerSize + "}],\"annotations\":{\"scale.name\":\"" + name + "\"}}")
        .getBytes(StandardCharsets.UTF_8);
  }

  static Digest push(String base, String repo, byte[] content) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Digest d = Digest.sha256(content);
    var post = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/blobs/uploads/"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
    String location = post.headers().firstValue("Location").orElseThrow();
    var put = http.send(HttpRequest.newBuilder(URI.create(base + location + (location.contains("?") ? "&" : "?")
        + "digest=" + d)).PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build(),
        HttpResponse.BodyHandlers.discarding());
    if (put.statusCode() != 201) {
      throw new IllegalStateException("seed push answered " + put.statusCode());
    }
    return d;
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
