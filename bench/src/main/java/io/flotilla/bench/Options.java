package io.flotilla.bench;

import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Command-line options of the driver (one target URL per run). */
final class Options {

  static final List<String> ALL_FIGURES =
      List.of("mono", "chunked", "pull", "manifest", "images", "catalog");

  String url;
  String name = "target";
  int blobMb = 256;
  int reps = 3;
  int warmupReps = 1;
  int pullReps = 5;
  int chunkMb = 8;
  int images = 511;
  int imageConcurrency = 8;
  int imageWarmup = 0;
  int durationS = 10;
  int warmupS = 2;
  int connections = 16;
  /** Load generator of figure 4: "wrk" (C, light), "builtin" (this JVM), or "auto" (wrk when on PATH). */
  String load = "auto";
  int wrkThreads = 1;
  int catalogRuns = 5;
  int catalogN = 100;
  String prefix = "bench";
  Path tmpDir = Path.of(System.getProperty("java.io.tmpdir"));
  Path out;
  Set<String> figures = new LinkedHashSet<>(ALL_FIGURES);

  static void usage() {
    System.err.println(String.join("\n",
        "usage: java -jar flotilla-bench.jar --url http://127.0.0.1:PORT [options]",
        "       java -jar flotilla-bench.jar report --result NAME=FILE.json ... [--rss-kb NAME=KB ...] [--out FILE.md]",
        "",
        "driver options (defaults in brackets):",
        "  --url URL               registry base URL, loopback only (required)",
        "  --name NAME             label in the JSON output [target]",
        "  --blob-mb N             large blob size in MiB (figures 1-3) [256]",
        "  --reps N                measured pushes per push figure [3]",
        "  --warmup-reps N         unmeasured pushes/pulls before measuring [1]",
        "  --pull-reps N           measured pulls [5]",
        "  --chunk-mb N            PATCH chunk size in MiB (figure 2) [8]",
        "  --images N              small images to push (figure 5) [511]",
        "  --image-concurrency N   images in flight (figure 5) [8]",
        "  --image-warmup N        unmeasured small images pushed first, into other repositories (figure 5) [0]",
        "  --duration-s N          measured seconds of manifest GET load (figure 4) [10]",
        "  --warmup-s N            warm-up seconds before that [2]",
        "  --connections N         concurrent connections of manifest GET load [16]",
        "  --load L                figure 4's load generator: wrk, builtin or auto (wrk when on PATH) [auto]",
        "  --wrk-threads N         wrk threads [1]",
        "  --catalog-runs N        measured full catalog listings (figure 6) [5]",
        "  --catalog-n N           page size asked for with ?n= [100]",
        "  --prefix P              repository name prefix [bench]",
        "  --tmp-dir DIR           where the random blob file is written [java.io.tmpdir]",
        "  --figures LIST          comma list of mono,chunked,pull,manifest,images,catalog [all]",
        "  --out FILE              also write the JSON result to FILE",
        "JSON results go to stdout, progress to stderr."));
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("-h") || a.equals("--help")) {
        usage();
        System.exit(0);
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("missing value for " + a);
      }
      String v = args[++i];
      switch (a) {
        case "--url" -> o.url = v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
        case "--name" -> o.name = v;
        case "--blob-mb" -> o.blobMb = pos(a, v);
        case "--reps" -> o.reps = pos(a, v);
        case "--warmup-reps" -> o.warmupReps = nonNeg(a, v);
        case "--pull-reps" -> o.pullReps = pos(a, v);
        case "--chunk-mb" -> o.chunkMb = pos(a, v);
        case "--images" -> o.images = pos(a, v);
        case "--image-concurrency" -> o.imageConcurrency = pos(a, v);
        case "--image-warmup" -> o.imageWarmup = nonNeg(a, v);
        case "--duration-s" -> o.durationS = pos(a, v);
        case "--warmup-s" -> o.warmupS = nonNeg(a, v);
        case "--connections" -> o.connections = pos(a, v);
        case "--load" -> {
          if (!v.equals("auto") && !v.equals("wrk") && !v.equals("builtin")) {
            throw new IllegalArgumentException("--load is auto, wrk or builtin");
          }
          o.load = v;
        }
        case "--wrk-threads" -> o.wrkThreads = pos(a, v);
        case "--catalog-runs" -> o.catalogRuns = pos(a, v);
        case "--catalog-n" -> o.catalogN = pos(a, v);
        case "--prefix" -> o.prefix = v;
        case "--tmp-dir" -> o.tmpDir = Path.of(v);
        case "--out" -> o.out = Path.of(v);
        case "--figures" -> {
          o.figures = new LinkedHashSet<>();
          for (String f : v.split(",")) {
            String t = f.trim().toLowerCase(Locale.ROOT);
            if (t.isEmpty()) continue;
            if (t.equals("all")) {
              o.figures.addAll(ALL_FIGURES);
            } else if (!ALL_FIGURES.contains(t)) {
              throw new IllegalArgumentException("unknown figure " + t + " (known: " + ALL_FIGURES + ")");
            } else {
              o.figures.add(t);
            }
          }
        }
        default -> throw new IllegalArgumentException("unknown option " + a);
      }
    }
    if (o.url == null) {
      throw new IllegalArgumentException("--url is required");
    }
    checkLoopback(o.url);
    if (o.figures.contains("pull") && !o.figures.contains("mono")) {
      throw new IllegalArgumentException("figure 'pull' needs figure 'mono' (it pulls the pushed blobs)");
    }
    return o;
  }

  /** The benchmark only ever talks to this machine. */
  static void checkLoopback(String url) {
    URI u = URI.create(url);
    if (!"http".equals(u.getScheme()) || u.getHost() == null) {
      throw new IllegalArgumentException("--url must be http://HOST:PORT, got " + url);
    }
    String host = u.getHost();
    boolean ok;
    try {
      ok = host.equals("localhost") || InetAddress.getByName(host).isLoopbackAddress();
    } catch (Exception e) {
      ok = false;
    }
    if (!ok) {
      throw new IllegalArgumentException("refusing non-loopback target " + url + " (use 127.0.0.1)");
    }
  }

  private static int pos(String a, String v) {
    int n = Integer.parseInt(v);
    if (n <= 0) throw new IllegalArgumentException(a + " must be > 0");
    return n;
  }

  private static int nonNeg(String a, String v) {
    int n = Integer.parseInt(v);
    if (n < 0) throw new IllegalArgumentException(a + " must be >= 0");
    return n;
  }
}
