// Driver of bench/scan.sh (vulnerability scanning). A benchmark tool, not a test. Single-file source
// program run against the jar under test, so the bench project needs no compile-time dependency on it:
//
//   java -cp target/flotilla.jar bench/ScanBench.java push OUT N CONCURRENCY URL...
//       N images scan/app-NNNN:vK (5 tags per repository) through the URLs in turn (image i through
//       URL i mod count), CONCURRENCY in flight. Image i is Debian 12 (i mod 4 != 0) or Alpine 3.19: one
//       real gzip'd tar layer (os-release, a dpkg status or apk installed database of 20-50 packages of
//       a pool, versions drawn per image, and a few small files), an OCI image config and an OCI image
//       manifest. OUT gets one line per image: "repo:tag os packages".
//   ... ScanBench.java db VERSION OUT.zip        the OSV zip (fictional CVE-2099-* records) of VERSION 1 or 2
//   ... ScanBench.java push-db URL VERSION       pushes it as vulndb/osv:latest; prints the manifest digest
//   ... ScanBench.java read FILE ROUNDS          LayerInventory.read of a gzip'd tar layer file, and a bare
//       GZIPInputStream drain of it, ROUNDS times each after 1 warm-up round; prints JSON (wall and
//       thread CPU seconds, medians)
//   ... ScanBench.java match PACKAGES ROUNDS     re-match (ImageScanner.rematch) of one image of PACKAGES
//       Debian packages with the version-1 database; prints JSON (ms per image, median and p99 of ROUNDS)
//
// The data are deterministic: image i and database VERSION always give the same bytes.
import io.flotilla.scan.ImageScan;
import io.flotilla.scan.ImageScanner;
import io.flotilla.scan.InstalledPackage;
import io.flotilla.scan.LayerInventory;
import io.flotilla.scan.OsRelease;
import io.flotilla.scan.OsvImporter;
import io.flotilla.scan.PackageType;
import io.flotilla.scan.ScanLimits;
import io.flotilla.scan.VulnDb;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

public class ScanBench {
  static final int DEB_POOL = 300;          // Debian source packages debsrc-K (binary deb-K)
  static final int APK_POOL = 150;          // Alpine packages apk-K
  static final int RECORDS_PER_PACKAGE = 6; // OSV records per package of the pools
  static final int TAGS_PER_REPO = 5;
  static final String[] SEVERITIES = {"LOW", "MODERATE", "HIGH", "CRITICAL"};
  static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";

  public static void main(String[] args) throws Exception {
    switch (args.length == 0 ? "" : args[0]) {
      case "push" -> push(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
          List.of(args).subList(4, args.length));
      case "db" -> Files.write(Path.of(args[2]), database(Integer.parseInt(args[1])));
      case "push-db" -> System.out.println(pushDb(args[1], Integer.parseInt(args[2])));
      case "read" -> read(Path.of(args[1]), Integer.parseInt(args[2]));
      case "match" -> match(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
      default -> {
        System.err.println("usage: ScanBench.java push|db|push-db|read|match ... (see the header)");
        System.exit(2);
      }
    }
  }

  // ------------------------------------------------------------------------------------ data

  static String repository(int i) {
    return String.format("scan/app-%04d", i / TAGS_PER_REPO);
  }

  static String tag(int i) {
    return "v" + (i % TAGS_PER_REPO);
  }

  static boolean alpine(int i) {
    return i % 4 == 0;
  }

  /** Distinct pool indexes, 20-50 of them, drawn for image i. */
  static int[] packagesOf(int i, int pool, SplittableRandom r) {
    int n = 20 + r.nextInt(31);
    List<Integer> all = new ArrayList<>();
    for (int k = 0; k < pool; k++) {
      all.add(k);
    }
    Collections.shuffle(all, new java.util.Random(r.nextLong()));
    return all.subList(0, n).stream().mapToInt(Integer::intValue).sorted().toArray();
  }

  /** The layer of image i and how many packages its database lists. */
  static byte[] layer(int i, int[] count) {
    SplittableRandom r = new SplittableRandom(1000003L * i + 17);
    List<Object[]> entries = new ArrayList<>();
    if (alpine(i)) {
      entries.add(new Object[] {"etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n"});
      StringBuilder db = new StringBuilder();
      int[] ks = packagesOf(i, APK_POOL, r);
      for (int k : ks) {
        db.append("C:Q1").append(Integer.toHexString(k * 7919 + i)).append("=\nP:apk-").append(k).append("\nV:2.")
            .append(r.nextInt(10)).append("-r").append(r.nextInt(3)).append("\nA:x86_64\nS:1024\nI:4096\nT:package ")
            .append(k).append("\no:apk-").append(k).append("\n\n");
      }
      count[0] = ks.length;
      entries.add(new Object[] {"lib/apk/db/installed", db.toString()});
    } else {
      entries.add(new Object[] {"etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"});
      StringBuilder db = new StringBuilder();
      int[] ks = packagesOf(i, DEB_POOL, r);
      for (int k : ks) {
        String v = "1." + r.nextInt(10) + "-" + r.nextInt(3);
        db.append("Package: deb-").append(k).append("\nStatus: install ok installed\nPriority: optional\nSection: libs\n")
            .append("Installed-Size: ").append(100 + k).append("\nArchitecture: amd64\nSource: debsrc-").append(k)
            .append(" (").append(v).append(")\nVersion: ").append(v).append("\nDescription: package ").append(k)
            .append("\n generated for the scan benchmark\n\n");
      }
      count[0] = ks.length;
      entries.add(new Object[] {"var/lib/dpkg/status", db.toString()});
    }
    for (int f = 0; f < 6; f++) { // a few ordinary files, one naming the image so every layer is distinct
      StringBuilder s = new StringBuilder("image ").append(i).append(" file ").append(f).append('\n');
      int len = 512 + r.nextInt(4096);
      while (s.length() < len) {
        s.append(Long.toHexString(r.nextLong())).append(r.nextInt(5) == 0 ? '\n' : ' ');
      }
      entries.add(new Object[] {"usr/share/app/file-" + f + ".txt", s.toString()});
    }
    return tarGz(entries);
  }

  static byte[] tarGz(List<Object[]> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gz, StandardCharsets.UTF_8.name())) {
      for (Object[] e : entries) {
        byte[] content = ((String) e[1]).getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry t = new TarArchiveEntry((String) e[0]);
        t.setSize(content.length);
        t.setMode(0644);
        t.setModTime(0);
        tar.putArchiveEntry(t);
        tar.write(content);
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * The OSV database. Version 1: RECORDS_PER_PACKAGE records per package of both pools, each
   * introduced at 0 and fixed at a drawn version (so each image has some packages below and some above
   * the fix). Version 2: every 10th record gets another fixed version, and 200 records are added.
   */
  static byte[] database(int version) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      int n = 0;
      for (int eco = 0; eco < 2; eco++) {
        int pool = eco == 0 ? DEB_POOL : APK_POOL;
        for (int k = 0; k < pool; k++) {
          for (int j = 0; j < RECORDS_PER_PACKAGE; j++) {
            SplittableRandom r = new SplittableRandom(7919L * n + 3);
            int minor = 1 + r.nextInt(9);
            if (version >= 2 && n % 10 == 0) {
              minor = minor >= 5 ? minor - 4 : minor + 4; // a changed fix: findings move
            }
            String id = String.format("CVE-2099-%d%04d", eco + 1, k * RECORDS_PER_PACKAGE + j);
            put(zip, id, eco == 0 ? "Debian:12" : "Alpine:v3.19", eco == 0 ? "debsrc-" + k : "apk-" + k,
                SEVERITIES[r.nextInt(4)], eco == 0 ? "1." + minor + "-1" : "2." + minor + "-r1");
            n++;
          }
        }
      }
      if (version >= 2) {
        for (int k = 0; k < 200; k++) {
          put(zip, String.format("CVE-2099-3%04d", k), "Debian:12", "debsrc-" + (k % DEB_POOL), "CRITICAL", "1.9-9");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static void put(ZipOutputStream zip, String id, String ecosystem, String pkg, String severity, String fixed)
      throws IOException {
    String json = "{\"schema_version\":\"1.6.0\",\"id\":\"" + id + "\",\"modified\":\"2099-01-01T00:00:00Z\","
        + "\"summary\":\"summary of " + id + "\",\"details\":\"details of " + id + "\","
        + "\"database_specific\":{\"severity\":\"" + severity + "\"},\"affected\":[{\"package\":{\"ecosystem\":\""
        + ecosystem + "\",\"name\":\"" + pkg + "\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
        + "{\"introduced\":\"0\"},{\"fixed\":\"" + fixed + "\"}]}]}]}";
    zip.putNextEntry(new ZipEntry(id + ".json"));
    zip.write(json.getBytes(StandardCharsets.UTF_8));
    zip.closeEntry();
  }

  // ------------------------------------------------------------------------------------ registry client

  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  static String sha256(byte[] b) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static void checkLoopback(String url) {
    String host = URI.create(url).getHost();
    if (!"127.0.0.1".equals(host) && !"localhost".equals(host)) {
      throw new IllegalArgumentException("refusing a URL that is not loopback: " + url);
    }
  }

  static HttpResponse<String> send(HttpRequest req, int expected) throws Exception {
    HttpResponse<String> resp = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() == expected) {
        return resp;
      }
      if (resp.statusCode() < 500) {
        break;
      }
      Thread.sleep(200L << attempt); // a 5xx (e.g. during a view change) is retried twice
    }
    throw new IOException(req.method() + " " + req.uri() + " answered " + resp.statusCode() + ": "
        + resp.body().substring(0, Math.min(300, resp.body().length())));
  }

  static String blob(String base, String repo, byte[] content) throws Exception {
    String digest = sha256(content);
    HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/blobs/uploads/"))
        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build(), 202);
    String location = post.headers().firstValue("Location").orElseThrow();
    URI loc = URI.create(base).resolve(location);
    checkLoopback(loc.toString());
    String put = loc + (loc.getQuery() == null ? "?" : "&") + "digest=" + digest;
    send(HttpRequest.newBuilder(URI.create(put)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(content))
        .build(), 201);
    return digest;
  }

  static String descriptor(String mediaType, String digest, int size) {
    return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
  }

  static String manifest(String base, String repo, String tag, byte[] body) throws Exception {
    send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/manifests/" + tag)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", MANIFEST).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), 201);
    return sha256(body);
  }

  static void pushImage(String base, int i, StringBuilder line) throws Exception {
    String repo = repository(i);
    int[] count = new int[1];
    byte[] layer = layer(i, count);
    String layerDigest = blob(base, repo, layer);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2099-01-01T00:00:00Z\","
        + "\"config\":{\"Labels\":{\"image\":\"" + i + "\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
        + layerDigest + "\"]}}").getBytes(StandardCharsets.UTF_8);
    String configDigest = blob(base, repo, config);
    byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST + "\",\"config\":"
        + descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length) + ",\"layers\":["
        + descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layerDigest, layer.length) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    String digest = manifest(base, repo, tag(i), m);
    line.append(repo).append(':').append(tag(i)).append(' ').append(alpine(i) ? "alpine" : "debian").append(' ')
        .append(count[0]).append(' ').append(layer.length).append(' ').append(digest);
  }

  static void push(Path out, int n, int concurrency, List<String> urls) throws Exception {
    urls.forEach(ScanBench::checkLoopback);
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    String[] lines = new String[n];
    AtomicInteger done = new AtomicInteger();
    long t0 = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int img = i;
      futures.add(pool.submit(() -> {
        StringBuilder line = new StringBuilder();
        pushImage(urls.get(img % urls.size()), img, line);
        lines[img] = line.toString();
        int d = done.incrementAndGet();
        if (d % 1000 == 0) {
          System.err.printf(Locale.ROOT, "  %d images pushed, %.0f s%n", d, (System.nanoTime() - t0) / 1e9);
        }
        return null;
      }));
    }
    try {
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    double s = (System.nanoTime() - t0) / 1e9;
    Files.write(out, List.of(lines));
    System.out.printf(Locale.ROOT, "{\"images\":%d,\"seconds\":%.3f,\"images_per_s\":%.1f}%n", n, s, n / s);
  }

  static String pushDb(String base, int version) throws Exception {
    checkLoopback(base);
    byte[] zip = database(version);
    byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    String cfg = blob(base, "vulndb/osv", empty);
    String layer = blob(base, "vulndb/osv", zip);
    byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"" + MANIFEST + "\","
        + "\"artifactType\":\"application/vnd.flotilla.vulndb.osv.v1\",\"config\":"
        + descriptor("application/vnd.oci.empty.v1+json", cfg, empty.length) + ",\"layers\":["
        + descriptor("application/zip", layer, zip.length) + "]}").getBytes(StandardCharsets.UTF_8);
    return manifest(base, "vulndb/osv", "latest", m);
  }

  // ------------------------------------------------------------------------------------ in-process figures

  static double median(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
  }

  static void read(Path file, int rounds) throws Exception {
    var cpu = ManagementFactory.getThreadMXBean();
    List<Double> scan = new ArrayList<>();
    List<Double> scanCpu = new ArrayList<>();
    List<Double> bare = new ArrayList<>();
    List<Double> bareCpu = new ArrayList<>();
    long uncompressed = 0;
    LayerInventory last = null;
    for (int round = 0; round < rounds + 1; round++) { // the first warms up the JIT
      long c0 = cpu.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
        last = LayerInventory.read(in, ScanLimits.DEFAULTS); // as ImageScanner reads a layer
      }
      long t1 = System.nanoTime();
      long c1 = cpu.getCurrentThreadCpuTime();
      long n = 0;
      try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
        byte[] buf = new byte[1 << 16];
        for (int k; (k = in.read(buf)) >= 0; ) {
          n += k;
        }
      }
      long t2 = System.nanoTime();
      long c2 = cpu.getCurrentThreadCpuTime();
      uncompressed = n;
      if (round >= 1) {
        scan.add((t1 - t0) / 1e9);
        scanCpu.add((c1 - c0) / 1e9);
        bare.add((t2 - t1) / 1e9);
        bareCpu.add((c2 - c1) / 1e9);
      }
    }
    System.out.printf(Locale.ROOT, "{\"compressed\":%d,\"uncompressed\":%d,\"packages\":%d,\"entries\":%d,"
        + "\"bytesRead\":%d,\"scan_s\":%.4f,\"scan_cpu_s\":%.4f,\"bare_gzip_s\":%.4f,\"bare_gzip_cpu_s\":%.4f,"
        + "\"scan_runs\":%s,\"bare_runs\":%s}%n",
        Files.size(file), uncompressed, last.allPackages().size(), last.entries(), last.bytesRead(), median(scan),
        median(scanCpu), median(bare), median(bareCpu), fmt(scan), fmt(bare));
  }

  static String fmt(List<Double> v) {
    return v.stream().map(d -> String.format(Locale.ROOT, "%.4f", d)).toList().toString();
  }

  /** One image of {@code packages} Debian packages (pool names, drawn versions; beyond the pool: unmatched names). */
  static void match(int packages, int rounds) throws Exception {
    VulnDb db = OsvImporter.read("sha256:" + "0".repeat(64), List.of(new ByteArrayInputStream(database(1))),
        OsvImporter.Limits.DEFAULTS);
    SplittableRandom r = new SplittableRandom(99);
    List<InstalledPackage> list = new ArrayList<>();
    for (int k = 0; k < packages; k++) {
      String src = k < DEB_POOL ? "debsrc-" + k : "other-" + k;
      String v = "1." + r.nextInt(10) + "-" + r.nextInt(3);
      list.add(new InstalledPackage(PackageType.DEB, "deb-" + k, v, src, v, "amd64", "var/lib/dpkg/status"));
    }
    Collections.sort(list);
    ImageScan stored = new ImageScan("sha256:" + "1".repeat(64), "", LayerInventory.ANALYZER_VERSION, "",
        new OsRelease("debian", "12", "bookworm", "etc/os-release"), list, List.of(), 0);
    ImageScanner.Db scannerDb = new ImageScanner.Db(db.digest(), db::match);
    int findings = 0;
    for (int w = 0; w < 2000; w++) { // warm-up
      findings = ImageScanner.rematch(stored, scannerDb, 0).findings().size();
    }
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      long t0 = System.nanoTime();
      ImageScan s = ImageScanner.rematch(stored, scannerDb, 0);
      ms.add((System.nanoTime() - t0) / 1e6);
      findings = s.findings().size();
    }
    List<Double> sorted = new ArrayList<>(ms);
    Collections.sort(sorted);
    System.out.printf(Locale.ROOT, "{\"packages\":%d,\"records\":%d,\"findings\":%d,\"median_ms\":%.4f,"
        + "\"p99_ms\":%.4f,\"max_ms\":%.4f}%n", packages, db.stats().records(), findings, median(ms),
        sorted.get((int) Math.min(sorted.size() - 1, Math.ceil(sorted.size() * 0.99) - 1)), sorted.get(sorted.size() - 1));
  }
}
