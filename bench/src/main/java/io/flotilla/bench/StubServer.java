package io.flotilla.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A trivial in-memory fake registry on 127.0.0.1, used only to check that the load generator is
 * not the bottleneck: {@code java -jar flotilla-bench.jar stub-server PORT SECONDS}, then run the
 * driver with {@code --figures manifest,images,catalog}. It stores manifests and counts blob bytes
 * but keeps no blobs (so figure 3, pull, is not supported). It exits by itself after SECONDS.
 */
final class StubServer {

  private StubServer() {}

  static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 120;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Map<String, Buffer> manifests = new HashMap<>();
    Map<String, Long> uploads = new HashMap<>();
    TreeSet<String> repos = new TreeSet<>();
    long[] ids = {0};
    vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port)
            .setTcpNoDelay(true))
        .requestHandler(req -> req.body().onSuccess(body -> handle(req, body, manifests, uploads,
            repos, ids)))
        .listen()
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    System.err.println("stub registry on 127.0.0.1:" + port + " for " + seconds + " s");
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    vertx.close();
  }

  private static void handle(HttpServerRequest req, Buffer body, Map<String, Buffer> manifests,
      Map<String, Long> uploads, TreeSet<String> repos, long[] ids) {
    String path = req.path();
    HttpMethod m = req.method();
    var resp = req.response();
    if (path.equals("/v2/")) {
      resp.end("{}");
      return;
    }
    if (path.equals("/v2/_catalog")) {
      int n = Integer.parseInt(req.getParam("n", "100"));
      String last = req.getParam("last", "");
      JsonArray page = new JsonArray();
      String lastOut = null;
      for (String r : repos.tailSet(last, false)) {
        if (page.size() == n) {
          resp.putHeader("Link", "</v2/_catalog?last=" + lastOut + "&n=" + n + ">; rel=\"next\"");
          break;
        }
        page.add(r);
        lastOut = r;
      }
      resp.putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("repositories", page).encode());
      return;
    }
    int up = path.indexOf("/blobs/uploads/");
    if (up > 0) {
      String id = path.substring(up + "/blobs/uploads/".length());
      if (m == HttpMethod.POST) {
        String nid = Long.toString(++ids[0]);
        uploads.put(nid, 0L);
        resp.setStatusCode(202).putHeader("Location", path + nid).putHeader("Range", "0-0").end();
      } else if (m == HttpMethod.PATCH && uploads.containsKey(id)) {
        long total = uploads.merge(id, (long) body.length(), Long::sum);
        resp.setStatusCode(202).putHeader("Location", path).putHeader("Range", "0-" + (total - 1))
            .end();
      } else if (m == HttpMethod.PUT && uploads.remove(id) != null) {
        resp.setStatusCode(201).putHeader("Location", "/v2/blob").end();
      } else {
        resp.setStatusCode(404).end();
      }
      return;
    }
    int mi = path.indexOf("/manifests/");
    if (mi > 0 && path.startsWith("/v2/")) {
      if (m == HttpMethod.PUT) {
        manifests.put(path, body);
        repos.add(path.substring(4, mi));
        resp.setStatusCode(201).end();
      } else if (m == HttpMethod.GET && manifests.containsKey(path)) {
        resp.putHeader("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            .end(manifests.get(path));
      } else {
        resp.setStatusCode(404).end();
      }
      return;
    }
    resp.setStatusCode(404).end();
  }
}
