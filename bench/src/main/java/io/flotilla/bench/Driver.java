package io.flotilla.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Runs the six figures against one registry and prints a JSON object to stdout.
 *
 * <p>All HTTP traffic runs on a single Vert.x event loop ({@link #ctx}); the main thread only
 * sequences the phases and takes wall-clock times around them. Every response status is checked;
 * any unexpected status, short body or digest mismatch aborts the whole run with a non-zero exit.
 */
final class Driver {

  static final long MIB = 1024L * 1024L;
  /** A request that sees no byte for this long fails (so no phase can hang forever). */
  static final long IDLE_TIMEOUT_MS = 60_000;
  /** Upper bound for one await() on the main thread. */
  static final long PHASE_TIMEOUT_MIN = 30;
  static final int WRITE_CHUNK = 128 * 1024;
  static final int MAX_CATALOG_PAGES = 100_000;

  static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
  static final String MANIFEST_ACCEPT =
      "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json";
  static final String OCTET = "application/octet-stream";
  static final Pattern LINK_NEXT = Pattern.compile("<([^>]*)>\\s*;\\s*rel=\"?next\"?");

  private final Options o;
  private final URI base;
  private Vertx vertx;
  private HttpClientAgent client;
  private Context ctx;
  private final AtomicLong connectionsOpened = new AtomicLong();
  private boolean warnedNoRange;

  Driver(Options o) {
    this.o = o;
    this.base = URI.create(o.url + "/");
  }

  int run() throws Exception {
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2)
        .setInternalBlockingPoolSize(2));
    HttpClientOptions httpOpts = new HttpClientOptions()
        .setKeepAlive(true)
        .setKeepAliveTimeout(300)
        .setPipelining(false)
        .setTcpNoDelay(true)
        .setMaxHeaderSize(64 * 1024);
    int poolSize = Math.max(o.connections, o.imageConcurrency);
    client = vertx.httpClientBuilder()
        .with(httpOpts)
        .with(new PoolOptions().setHttp1MaxSize(poolSize))
        .withConnectHandler(c -> connectionsOpened.incrementAndGet())
        .build();
    ctx = vertx.getOrCreateContext();

    JsonObject result = new JsonObject()
        .put("name", o.name)
        .put("url", o.url)
        .put("params", params());
    JsonObject figs = new JsonObject();
    result.put("figures", figs);
    long started = System.nanoTime();
    try {
      log("checking GET /v2/");
      await(() -> send(HttpMethod.GET, url("/v2/"), Map.of(), null)
          .compose(r -> expect("GET /v2/", r, 200)).compose(HttpClientResponse::body));
      largeBlobFigures(figs);
      if (o.figures.contains("manifest")) figs.put("manifest_get", manifestFigure());
      if (o.figures.contains("images")) figs.put("image_push", imagesFigure());
      if (o.figures.contains("catalog")) figs.put("catalog", catalogFigure());
    } finally {
      try {
        client.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // best effort
      }
    }
    result.put("total_seconds", round((System.nanoTime() - started) / 1e9));
    String json = result.encodePrettily();
    if (o.out != null) {
      Files.writeString(o.out, json + "\n");
    }
    System.out.println(json);
    log("done in " + result.getDouble("total_seconds") + " s");
    return 0;
  }

  private JsonObject params() {
    return new JsonObject()
        .put("blob_mb", o.blobMb).put("reps", o.reps).put("warmup_reps", o.warmupReps)
        .put("pull_reps", o.pullReps).put("chunk_mb", o.chunkMb).put("images", o.images)
        .put("image_concurrency", o.imageConcurrency).put("image_warmup", o.imageWarmup).put("duration_s", o.durationS)
        .put("warmup_s", o.warmupS).put("connections", o.connections)
        .put("catalog_runs", o.catalogRuns).put("catalog_n", o.catalogN)
        .put("prefix", o.prefix).put("figures", new JsonArray(new ArrayList<>(o.figures)));
  }

  // ---------------------------------------------------------------- figures 1-3: large blobs

  private void largeBlobFigures(JsonObject figs) throws Exception {
    boolean mono = o.figures.contains("mono");
    boolean chunked = o.figures.contains("chunked");
    if (!mono && !chunked) return;
    long size = o.blobMb * MIB;
    String repo = o.prefix + "/large";
    log("writing " + o.blobMb + " MiB random blob file to " + o.tmpDir);
    List<BlobFile.Blob> pushed = new ArrayList<>();
    try (BlobFile bf = new BlobFile(o.tmpDir, size)) {
      int k = 0;
      if (mono) {
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < o.warmupReps + o.reps; i++) {
          BlobFile.Blob b = bf.blob(k++);
          long t0 = System.nanoTime();
          await(() -> pushMonolithic(repo, b));
          double s = (System.nanoTime() - t0) / 1e9;
          pushed.add(b);
          boolean warm = i < o.warmupReps;
          log(String.format(Locale.ROOT, "monolithic push %d%s: %.1f MiB/s (%.2f s)",
              i + 1, warm ? " (warm-up)" : "", size / (double) MIB / s, s));
          if (!warm) samples.add(size / (double) MIB / s);
        }
        figs.put("mono_push", rateFigure(samples));
      }
      if (chunked) {
        long chunk = o.chunkMb * MIB;
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < o.warmupReps + o.reps; i++) {
          BlobFile.Blob b = bf.blob(k++);
          long t0 = System.nanoTime();
          int patches = await(() -> pushChunked(repo, b, chunk));
          double s = (System.nanoTime() - t0) / 1e9;
          pushed.add(b);
          boolean warm = i < o.warmupReps;
          log(String.format(Locale.ROOT, "chunked push %d%s: %.1f MiB/s (%.2f s, %d PATCHes)",
              i + 1, warm ? " (warm-up)" : "", size / (double) MIB / s, s, patches));
          if (!warm) samples.add(size / (double) MIB / s);
        }
        figs.put("chunked_push", rateFigure(samples).put("chunk_mb", o.chunkMb));
      }
      if (o.figures.contains("pull")) {
        BlobFile.Blob b = pushed.get(0);
        String blobUrl = url("/v2/" + repo + "/blobs/" + b.digest);
        int warm = Math.max(1, o.warmupReps);
        for (int i = 0; i < warm; i++) {
          boolean verify = i == 0;
          long t0 = System.nanoTime();
          await(() -> pull(blobUrl, size, verify ? b.digest : null, 0));
          double s = (System.nanoTime() - t0) / 1e9;
          log(String.format(Locale.ROOT, "pull warm-up %d%s: %.1f MiB/s", i + 1,
              verify ? " (sha256 verified)" : "", size / (double) MIB / s));
        }
        List<Double> samples = new ArrayList<>();
        for (int i = 0; i < o.pullReps; i++) {
          long t0 = System.nanoTime();
          await(() -> pull(blobUrl, size, null, 0));
          double s = (System.nanoTime() - t0) / 1e9;
          log(String.format(Locale.ROOT, "pull %d: %.1f MiB/s (%.2f s)", i + 1,
              size / (double) MIB / s, s));
          samples.add(size / (double) MIB / s);
        }
        figs.put("pull", rateFigure(samples));
      }
    }
    // Give the large repository a manifest too, so every repository is a "real" one for the
    // catalog whatever rule a registry uses to list repositories.
    byte[] config = configJson(repo, pushed.get(0).digest).getBytes(StandardCharsets.UTF_8);
    String configDigest = BlobFile.digestOf(config);
    await(() -> pushSmallBlob(repo, config, configDigest));
    StringBuilder layers = new StringBuilder();
    for (BlobFile.Blob b : pushed) {
      if (layers.length() > 0) layers.append(',');
      layers.append(descriptor(OCI_LAYER, b.digest, b.size()));
    }
    byte[] manifest = manifestJson(configDigest, config.length, layers.toString());
    await(() -> putManifest(repo, "latest", manifest));
    log("pushed manifest " + repo + ":latest with " + pushed.size() + " large layers");
  }

  private Future<Void> pushMonolithic(String repo, BlobFile.Blob b) {
    String what = "monolithic PUT " + repo + " " + b.digest;
    return startUpload(repo)
        .compose(loc -> client.request(req(HttpMethod.PUT, withDigest(loc, b.digest)))
            .compose(req -> {
              req.putHeader("Content-Type", OCTET);
              return stream(req, b, 0, b.size());
            }))
        .compose(r -> expect(what, r, 201))
        .compose(r -> checkDigestHeader(what, r, b.digest))
        .compose(HttpClientResponse::body)
        .mapEmpty();
  }

  /** Returns the number of PATCH requests. */
  private Future<Integer> pushChunked(String repo, BlobFile.Blob b, long chunk) {
    String what = "chunked upload " + repo + " " + b.digest;
    int[] patches = {0};
    return startUpload(repo)
        .compose(loc -> patchFrom(what, loc, b, 0, chunk, patches))
        .compose(loc -> send(HttpMethod.PUT, withDigest(loc, b.digest), Map.of(), null))
        .compose(r -> expect("final PUT of " + what, r, 201))
        .compose(r -> checkDigestHeader(what, r, b.digest))
        .compose(HttpClientResponse::body)
        .map(x -> patches[0]);
  }

  private Future<String> patchFrom(String what, String loc, BlobFile.Blob b, long off, long chunk,
      int[] patches) {
    if (off >= b.size()) return Future.succeededFuture(loc);
    long end = Math.min(b.size(), off + chunk);
    String range = off + "-" + (end - 1);
    return client.request(req(HttpMethod.PATCH, loc))
        .compose(req -> {
          req.putHeader("Content-Type", OCTET);
          req.putHeader("Content-Range", range);
          return stream(req, b, off, end);
        })
        .compose(r -> expect("PATCH " + range + " of " + what, r, 202))
        .compose(r -> {
          patches[0]++;
          String got = r.getHeader("Range");
          if (got == null) {
            if (!warnedNoRange) {
              warnedNoRange = true;
              log("warning: PATCH response has no Range header");
            }
          } else {
            long last = Long.parseLong(got.substring(got.lastIndexOf('-') + 1).trim());
            if (last != end - 1) {
              return r.body().compose(x -> Future.failedFuture(new BenchException(
                  "PATCH " + range + " of " + what + ": server reports Range " + got)));
            }
          }
          String next = r.getHeader("Location");
          return r.body().map(x -> resolve(next, "PATCH " + range + " of " + what));
        })
        .compose(next -> patchFrom(what, next, b, end, chunk, patches));
  }

  /** Streams bytes [from, to) of the blob as the request body, with back-pressure. */
  private Future<HttpClientResponse> stream(HttpClientRequest req, BlobFile.Blob b, long from,
      long to) {
    req.putHeader("Content-Length", Long.toString(to - from));
    req.exceptionHandler(t -> { /* surfaced through req.response() */ });
    if (from >= to) {
      req.end();
      return req.response();
    }
    long[] pos = {from};
    @SuppressWarnings("unchecked")
    Handler<Void>[] step = new Handler[1];
    step[0] = v -> {
      try {
        while (pos[0] < to) {
          if (req.writeQueueFull()) {
            req.drainHandler(step[0]);
            return;
          }
          Buffer chunk = b.read(pos[0], (int) Math.min(WRITE_CHUNK, to - pos[0]));
          pos[0] += chunk.length();
          if (pos[0] >= to) {
            req.end(chunk);
          } else {
            req.write(chunk);
          }
        }
      } catch (IOException e) {
        req.reset(0, e);
      }
    };
    step[0].handle(null);
    return req.response();
  }

  private Future<Long> pull(String blobUrl, long size, String verifyDigest, int redirects) {
    return client.request(req(HttpMethod.GET, blobUrl))
        .compose(HttpClientRequest::send)
        .compose(r -> {
          int sc = r.statusCode();
          if ((sc == 301 || sc == 302 || sc == 303 || sc == 307 || sc == 308) && redirects < 3) {
            String loc = r.getHeader("Location");
            return r.body().compose(x -> pull(resolve(loc, "GET " + blobUrl), size, verifyDigest,
                redirects + 1));
          }
          if (sc != 200) {
            return expect("GET " + blobUrl, r, 200).map(x -> 0L);
          }
          String cl = r.getHeader("Content-Length");
          if (cl != null && Long.parseLong(cl.trim()) != size) {
            return r.body().compose(x -> Future.failedFuture(new BenchException(
                "GET " + blobUrl + ": Content-Length " + cl + ", expected " + size)));
          }
          long[] n = {0};
          MessageDigest md = verifyDigest == null ? null : BlobFile.sha256();
          r.handler(buf -> {
            n[0] += buf.length();
            if (md != null) md.update(((BufferInternal) buf).getByteBuf().nioBuffer());
          });
          return r.end().compose(v -> {
            if (n[0] != size) {
              return Future.failedFuture(new BenchException(
                  "GET " + blobUrl + ": read " + n[0] + " bytes, expected " + size));
            }
            if (md != null) {
              String got = "sha256:" + HexFormat.of().formatHex(md.digest());
              if (!got.equals(verifyDigest)) {
                return Future.failedFuture(new BenchException(
                    "GET " + blobUrl + ": content digest " + got + " != " + verifyDigest));
              }
            }
            return Future.succeededFuture(n[0]);
          });
        });
  }

  // ---------------------------------------------------------------- small blobs and manifests

  private Future<String> startUpload(String repo) {
    String u = url("/v2/" + repo + "/blobs/uploads/");
    return send(HttpMethod.POST, u, Map.of(), null)
        .compose(r -> expect("POST " + u, r, 202))
        .compose(r -> {
          String loc = r.getHeader("Location");
          return r.body().map(x -> resolve(loc, "POST " + u));
        });
  }

  private Future<Void> pushSmallBlob(String repo, byte[] data, String digest) {
    String what = "monolithic PUT " + repo + " " + digest;
    return startUpload(repo)
        .compose(loc -> send(HttpMethod.PUT, withDigest(loc, digest),
            Map.of("Content-Type", OCTET), BlobFile.wrap(data)))
        .compose(r -> expect(what, r, 201))
        .compose(r -> checkDigestHeader(what, r, digest))
        .compose(HttpClientResponse::body)
        .mapEmpty();
  }

  private Future<Void> putManifest(String repo, String tag, byte[] manifest) {
    String u = url("/v2/" + repo + "/manifests/" + tag);
    String digest = BlobFile.digestOf(manifest);
    return send(HttpMethod.PUT, u, Map.of("Content-Type", OCI_MANIFEST), BlobFile.wrap(manifest))
        .compose(r -> expect("PUT " + u, r, 201))
        .compose(r -> checkDigestHeader("PUT " + u, r, digest))
        .compose(HttpClientResponse::body)
        .mapEmpty();
  }

  /** One small image: ~200 B config + 4 KiB random layer + OCI manifest tagged {@code tag}. */
  private Future<byte[]> pushImage(String repo, String tag, long seed) {
    byte[] layer = new byte[4096];
    new SplittableRandom(seed * 0x9E3779B97F4A7C15L + System.nanoTime()).nextBytes(layer);
    String layerDigest = BlobFile.digestOf(layer);
    byte[] config = configJson(repo, layerDigest).getBytes(StandardCharsets.UTF_8);
    String configDigest = BlobFile.digestOf(config);
    byte[] manifest = manifestJson(configDigest, config.length,
        descriptor(OCI_LAYER, layerDigest, layer.length));
    return pushSmallBlob(repo, config, configDigest)
        .compose(v -> pushSmallBlob(repo, layer, layerDigest))
        .compose(v -> putManifest(repo, tag, manifest))
        .map(v -> manifest);
  }

  static String configJson(String repo, String diffId) {
    return "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"bench.repo\":\""
        + repo + "\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + diffId + "\"]}}";
  }

  static String descriptor(String mediaType, String digest, long size) {
    return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size
        + "}";
  }

  static byte[] manifestJson(String configDigest, long configSize, String layers) {
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":"
        + descriptor(OCI_CONFIG, configDigest, configSize) + ",\"layers\":[" + layers + "]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- figure 4: manifest GET load

  private JsonObject manifestFigure() throws Exception {
    String repo = o.prefix + "/hot";
    byte[] manifest = await(() -> pushImage(repo, "latest", 42));
    String u = url("/v2/" + repo + "/manifests/latest");
    RequestOptions ro = req(HttpMethod.GET, u).putHeader("Accept", MANIFEST_ACCEPT);
    Buffer first = await(() -> client.request(ro).compose(HttpClientRequest::send)
        .compose(r -> expect("GET " + u, r, 200)).compose(HttpClientResponse::body));
    if (!Arrays.equals(first.getBytes(), manifest)) {
      throw new BenchException("GET " + u + " returned a different manifest than was pushed: "
          + first.toString(StandardCharsets.UTF_8));
    }
    log("manifest GET load: " + o.connections + " connections, " + o.warmupS + " s warm-up + "
        + o.durationS + " s");
    JsonObject fig;
    if (Wrk.use(o.load)) {
      fig = Wrk.measure(u, MANIFEST_ACCEPT, AUTHORIZATION, o.connections, o.wrkThreads, o.warmupS, o.durationS,
          manifest.length);
      fig.put("connections", o.connections).put("load", "wrk");
    } else {
      long connsBefore = connectionsOpened.get();
      Load load = new Load(ro, manifest.length);
      fig = await(load::start);
      fig.put("connections", o.connections).put("load", "builtin")
          .put("connections_opened", connectionsOpened.get() - connsBefore);
    }
    fig.put("manifest_bytes", manifest.length);
    log(String.format(Locale.ROOT, "manifest GET: %.0f req/s, p50 %.3f ms, p99 %.3f ms",
        fig.getDouble("rps"), fig.getDouble("p50_ms"), fig.getDouble("p99_ms")));
    return fig;
  }

  /** Closed-loop load: N connections, one request in flight on each, fixed duration. */
  private final class Load {
    final RequestOptions ro;
    final int expectedLen;
    final Histogram hist = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    final Promise<JsonObject> done = Promise.promise();
    long warmEnd;
    long end;
    long completed;
    long total;
    int active;
    Throwable failure;

    Load(RequestOptions ro, int expectedLen) {
      this.ro = ro;
      this.expectedLen = expectedLen;
    }

    Future<JsonObject> start() {
      long now = System.nanoTime();
      warmEnd = now + TimeUnit.SECONDS.toNanos(o.warmupS);
      end = warmEnd + TimeUnit.SECONDS.toNanos(o.durationS);
      active = o.connections;
      for (int i = 0; i < o.connections; i++) next();
      return done.future();
    }

    void next() {
      long t0 = System.nanoTime();
      if (failure != null || t0 >= end) {
        if (--active == 0) finish();
        return;
      }
      client.request(ro)
          .compose(HttpClientRequest::send)
          .compose(r -> r.statusCode() == 200
              ? r.body()
              : expect("GET " + ro.getURI(), r, 200).map(x -> (Buffer) null))
          .onComplete(ar -> {
            long t1 = System.nanoTime();
            total++;
            if (ar.failed()) {
              if (failure == null) failure = ar.cause();
            } else if (ar.result().length() != expectedLen) {
              if (failure == null) {
                failure = new BenchException("manifest GET returned " + ar.result().length()
                    + " bytes, expected " + expectedLen);
              }
            } else if (t1 >= warmEnd && t1 < end) {
              hist.recordValue(Math.min(t1 - t0, hist.getHighestTrackableValue()));
              completed++;
            }
            next();
          });
    }

    void finish() {
      if (failure != null) {
        done.fail(failure);
        return;
      }
      double secs = (end - warmEnd) / 1e9;
      done.complete(new JsonObject()
          .put("rps", round(completed / secs))
          .put("requests", completed)
          .put("requests_incl_warmup", total)
          .put("seconds", secs)
          .put("p50_ms", ms(hist.getValueAtPercentile(50)))
          .put("p90_ms", ms(hist.getValueAtPercentile(90)))
          .put("p99_ms", ms(hist.getValueAtPercentile(99)))
          .put("p999_ms", ms(hist.getValueAtPercentile(99.9)))
          .put("max_ms", ms(hist.getMaxValue())));
    }
  }

  // ---------------------------------------------------------------- figure 5: small images

  private String imageRepo(int i) {
    return String.format(Locale.ROOT, "%s/repo-%04d", o.prefix, i + 1);
  }

  private JsonObject imagesFigure() throws Exception {
    if (o.imageWarmup > 0) {
      log("pushing " + o.imageWarmup + " unmeasured small images first (warm-up)");
      await(() -> pushImages(o.imageWarmup, o.imageConcurrency, this::warmupRepo));
    }
    log("pushing " + o.images + " small images, " + o.imageConcurrency + " in flight");
    long t0 = System.nanoTime();
    await(() -> pushImages(o.images, o.imageConcurrency));
    double s = (System.nanoTime() - t0) / 1e9;
    double ips = o.images / s;
    log(String.format(Locale.ROOT, "small images: %.1f images/s (%d in %.2f s)", ips, o.images, s));
    return new JsonObject().put("images_per_s", round(ips)).put("images", o.images)
        .put("seconds", round(s)).put("concurrency", o.imageConcurrency).put("warmup_images", o.imageWarmup);
  }

  private String warmupRepo(int i) {
    return String.format(Locale.ROOT, "%s-warmup/repo-%04d", o.prefix, i + 1);
  }

  private Future<Void> pushImages(int count, int concurrency) {
    return pushImages(count, concurrency, this::imageRepo);
  }

  private Future<Void> pushImages(int count, int concurrency, java.util.function.IntFunction<String> repoOf) {
    Promise<Void> p = Promise.promise();
    int workers = Math.min(count, concurrency);
    int[] next = {0};
    int[] active = {workers};
    Throwable[] fail = {null};
    Runnable[] worker = new Runnable[1];
    worker[0] = () -> {
      if (fail[0] != null || next[0] >= count) {
        if (--active[0] == 0) {
          if (fail[0] != null) p.fail(fail[0]);
          else p.complete();
        }
        return;
      }
      int i = next[0]++;
      pushImage(repoOf.apply(i), "latest", i).onComplete(ar -> {
        if (ar.failed() && fail[0] == null) fail[0] = ar.cause();
        worker[0].run();
      });
    };
    for (int w = 0; w < workers; w++) worker[0].run();
    return p.future();
  }

  // ---------------------------------------------------------------- figure 6: catalog

  private static final class Catalog {
    final Set<String> repos = new HashSet<>();
    int pages;
    int maxPage;
  }

  private JsonObject catalogFigure() throws Exception {
    List<Double> samples = new ArrayList<>();
    Catalog last = null;
    for (int i = 0; i < o.catalogRuns + 1; i++) {
      long t0 = System.nanoTime();
      Catalog c = await(() -> catalogPage(new Catalog(), url("/v2/_catalog?n=" + o.catalogN)));
      double msec = (System.nanoTime() - t0) / 1e6;
      if (last != null && !last.repos.equals(c.repos)) {
        throw new BenchException("catalog changed between runs: " + last.repos.size() + " vs "
            + c.repos.size() + " repositories");
      }
      last = c;
      log(String.format(Locale.ROOT, "catalog %s: %.1f ms, %d repositories in %d pages "
              + "(largest page %d)", i == 0 ? "warm-up" : "run " + i, msec, c.repos.size(),
          c.pages, c.maxPage));
      if (i > 0) samples.add(msec);
    }
    if (o.figures.contains("images")) {
      for (int i = 0; i < o.images; i++) {
        if (!last.repos.contains(imageRepo(i))) {
          throw new BenchException("catalog is missing repository " + imageRepo(i) + " (saw "
              + last.repos.size() + ")");
        }
      }
    }
    List<Double> sorted = new ArrayList<>(samples);
    sorted.sort(null);
    return new JsonObject()
        .put("median_ms", round(median(sorted)))
        .put("min_ms", round(sorted.get(0)))
        .put("samples_ms", roundAll(samples))
        .put("repositories", last.repos.size())
        .put("pages", last.pages)
        .put("largest_page", last.maxPage)
        .put("requested_n", o.catalogN);
  }

  private Future<Catalog> catalogPage(Catalog c, String pageUrl) {
    if (c.pages >= MAX_CATALOG_PAGES) {
      return Future.failedFuture(new BenchException("catalog: more than " + MAX_CATALOG_PAGES
          + " pages, giving up"));
    }
    return send(HttpMethod.GET, pageUrl, Map.of("Accept", "application/json"), null)
        .compose(r -> expect("GET " + pageUrl, r, 200))
        .compose(r -> r.body().map(body -> {
          JsonObject j = new JsonObject(body);
          JsonArray arr = j.getJsonArray("repositories", new JsonArray());
          for (int i = 0; i < arr.size(); i++) {
            String name = arr.getString(i);
            if (!c.repos.add(name)) {
              throw new BenchException("catalog listed " + name + " twice (page " + (c.pages + 1)
                  + ", " + pageUrl + ")");
            }
          }
          c.pages++;
          c.maxPage = Math.max(c.maxPage, arr.size());
          String next = null;
          for (String link : r.headers().getAll("Link")) {
            Matcher m = LINK_NEXT.matcher(link);
            if (m.find()) next = m.group(1);
          }
          if (next != null && arr.isEmpty()) {
            throw new BenchException("catalog: empty page with a next Link at " + pageUrl);
          }
          return next == null ? "" : resolve(next, "GET " + pageUrl);
        }))
        .compose(next -> next.isEmpty() ? Future.succeededFuture(c) : catalogPage(c, next));
  }

  // ---------------------------------------------------------------- HTTP helpers

  private String url(String path) {
    return o.url + path;
  }

  /**
   * Sent as {@code Authorization} with every request when set (environment {@code BENCH_AUTHORIZATION},
   * e.g. {@code Bearer <token>} or {@code Basic <base64>}), to measure a registry with access control on.
   */
  private static final String AUTHORIZATION = System.getenv("BENCH_AUTHORIZATION");

  private static RequestOptions req(HttpMethod m, String absUrl) {
    RequestOptions ro = new RequestOptions().setMethod(m).setAbsoluteURI(absUrl).setIdleTimeout(IDLE_TIMEOUT_MS);
    return AUTHORIZATION == null || AUTHORIZATION.isEmpty() ? ro : ro.putHeader("Authorization", AUTHORIZATION);
  }

  private Future<HttpClientResponse> send(HttpMethod m, String u, Map<String, String> headers,
      Buffer body) {
    return client.request(req(m, u)).compose(rq -> {
      headers.forEach(rq::putHeader);
      if (body == null) {
        if (m != HttpMethod.GET && m != HttpMethod.HEAD) rq.putHeader("Content-Length", "0");
        return rq.send();
      }
      return rq.send(body);
    });
  }

  /** Succeeds with the response if its status is one of ok, else fails with status and body. */
  static Future<HttpClientResponse> expect(String what, HttpClientResponse r, int... ok) {
    for (int c : ok) {
      if (r.statusCode() == c) return Future.succeededFuture(r);
    }
    return r.body().transform(ar -> {
      String b = ar.succeeded() ? snippet(ar.result()) : "<unreadable: " + ar.cause() + ">";
      return Future.failedFuture(new BenchException(what + ": expected HTTP "
          + Arrays.toString(ok) + " but got " + r.statusCode() + " " + r.statusMessage()
          + ", body: " + b));
    });
  }

  static Future<HttpClientResponse> checkDigestHeader(String what, HttpClientResponse r,
      String digest) {
    String got = r.getHeader("Docker-Content-Digest");
    if (got != null && !got.equals(digest)) {
      return r.body().compose(x -> Future.failedFuture(new BenchException(
          what + ": Docker-Content-Digest " + got + " != " + digest)));
    }
    return Future.succeededFuture(r);
  }

  private static String snippet(Buffer b) {
    String s = b.toString(StandardCharsets.UTF_8);
    return s.length() > 500 ? s.substring(0, 500) + "..." : s;
  }

  /** Resolves a Location/Link against the base URL; refuses anything that is not loopback. */
  private String resolve(String loc, String what) {
    if (loc == null || loc.isEmpty()) {
      throw new BenchException(what + ": response has no Location header");
    }
    String abs = base.resolve(loc).toString();
    try {
      Options.checkLoopback(abs);
    } catch (IllegalArgumentException e) {
      throw new BenchException(what + ": server redirected to non-loopback " + abs);
    }
    return abs;
  }

  private static String withDigest(String loc, String digest) {
    return loc + (loc.contains("?") ? "&" : "?") + "digest="
        + URLEncoder.encode(digest, StandardCharsets.UTF_8);
  }

  /** Runs an async operation on the driver's event loop and blocks the main thread for it. */
  private <T> T await(Supplier<Future<T>> op) throws Exception {
    CompletableFuture<T> cf = new CompletableFuture<>();
    ctx.runOnContext(v -> {
      Future<T> f;
      try {
        f = op.get();
      } catch (Throwable t) {
        cf.completeExceptionally(t);
        return;
      }
      f.onComplete(ar -> {
        if (ar.succeeded()) cf.complete(ar.result());
        else cf.completeExceptionally(ar.cause());
      });
    });
    try {
      return cf.get(PHASE_TIMEOUT_MIN, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof BenchException be) throw be;
      throw new BenchException(c.toString(), c);
    } catch (TimeoutException e) {
      throw new BenchException("phase did not finish within " + PHASE_TIMEOUT_MIN + " min");
    }
  }

  // ---------------------------------------------------------------- numbers

  private JsonObject rateFigure(List<Double> samples) {
    List<Double> sorted = new ArrayList<>(samples);
    sorted.sort(null);
    return new JsonObject()
        .put("unit", "MiB/s")
        .put("median", round(median(sorted)))
        .put("min", round(sorted.get(0)))
        .put("max", round(sorted.get(sorted.size() - 1)))
        .put("samples", roundAll(samples))
        .put("blob_mb", o.blobMb);
  }

  static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static double round(double v) {
    return Math.round(v * 1000.0) / 1000.0;
  }

  static JsonArray roundAll(List<Double> v) {
    JsonArray a = new JsonArray();
    v.forEach(x -> a.add(round(x)));
    return a;
  }

  static double ms(long nanos) {
    return round(nanos / 1e6);
  }

  private void log(String msg) {
    System.err.println("[bench " + o.name + "] " + msg);
  }

  static final class BenchException extends RuntimeException {
    BenchException(String m) {
      super(m);
    }

    BenchException(String m, Throwable c) {
      super(m, c);
    }
  }
}
