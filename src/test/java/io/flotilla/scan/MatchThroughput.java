package io.flotilla.scan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Not a test: measures {@link VulnDb#match} on a generated database of about 50,000 affected entries
 * (fictional {@code CVE-2099-NNNNN} records for Debian 12, npm, Maven and PyPI, compiled from in-memory
 * zips) and generated inventories of 1,000 packages (600 dpkg, 200 npm, 100 Maven, 100 PyPI, every one
 * of them a package the database knows, so every lookup hits). Prints the median time to re-match one
 * image and to re-match 10,000 images, on one thread and on one thread per core. Run with the test class path:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) io.flotilla.scan.MatchThroughput [images [rounds]]}.
 */
public final class MatchThroughput {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int DEB_SOURCES = 10_000;
  private static final int LANG_PACKAGES = 3_334;

  private MatchThroughput() {}

  public static void main(String[] args) throws Exception {
    int images = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Random rnd = new Random(42);
    long t0 = System.nanoTime();
    List<byte[]> zips = List.of(debianZip(rnd), languageZip(rnd));
    long t1 = System.nanoTime();
    VulnDb db = OsvImporter.read("sha256:bench",
        zips.stream().map(ByteArrayInputStream::new).toList(), OsvImporter.Limits.DEFAULTS);
    long t2 = System.nanoTime();
    System.out.printf("db: %d records, %d affected entries %s; zips %.1f MiB generated in %.2f s, compiled in %.2f s%n",
        db.stats().records(), db.stats().affectedEntries(), db.stats().affectedPerEcosystem(),
        zips.stream().mapToLong(z -> z.length).sum() / 1048576.0, (t1 - t0) / 1e9, (t2 - t1) / 1e9);

    List<InstalledPackage> debPool = new ArrayList<>();
    List<InstalledPackage> langPool = new ArrayList<>();
    for (int i = 0; i < DEB_SOURCES; i++) {
      String v = debVersion(rnd);
      debPool.add(new InstalledPackage(PackageType.DEB, "lib" + src(i), v + "+b1", src(i), v, "amd64",
          "var/lib/dpkg/status"));
    }
    for (int i = 0; i < LANG_PACKAGES; i++) {
      String v = rnd.nextInt(5) + "." + rnd.nextInt(20) + "." + rnd.nextInt(20);
      langPool.add(InstalledPackage.of(PackageType.NPM, "npm-" + i, v, "app/node_modules/npm-" + i + "/package.json"));
      langPool.add(InstalledPackage.of(PackageType.MAVEN, "org.example" + i + ":lib-" + i, v, "app/lib-" + i + ".jar"));
      langPool.add(InstalledPackage.of(PackageType.PYPI, "Py_Pkg." + i, v, "site-packages/py_pkg_" + i + ".dist-info/METADATA"));
    }
    OsRelease debian = new OsRelease("debian", "12", "bookworm", "etc/os-release");
    List<ImageInventory> inventories = new ArrayList<>(images);
    for (int i = 0; i < images; i++) {
      List<InstalledPackage> p = new ArrayList<>(1000);
      p.addAll(sample(rnd, debPool, 600));
      for (InstalledPackage l : sample(rnd, langPool, 400)) {
        p.add(l);
      }
      inventories.add(new ImageInventory(debian, p));
    }
    System.out.printf("images: %d of %d packages each%n", images, inventories.get(0).packages().size());

    for (int i = 0; i < 300; i++) { // warm-up
      db.match(inventories.get(i % inventories.size()));
    }
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    List<Double> one = new ArrayList<>();
    List<Double> oneCpu = new ArrayList<>();
    int findings = 0;
    for (int i = 0; i < 101; i++) {
      long c = cpu.getCurrentThreadCpuTime();
      long a = System.nanoTime();
      findings = db.match(inventories.get(i)).size();
      one.add((System.nanoTime() - a) / 1e6);
      oneCpu.add((cpu.getCurrentThreadCpuTime() - c) / 1e6);
    }
    System.out.printf("re-match one image: median %.2f ms wall (p90 %.2f), median %.2f ms thread CPU "
        + "(101 runs; last image: %d findings)%n", median(one), pct(one, 0.9), median(oneCpu), findings);
    List<Double> all = new ArrayList<>();
    List<Double> allCpu = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      long c = cpu.getCurrentThreadCpuTime();
      long a = System.nanoTime();
      long total = 0;
      for (ImageInventory inv : inventories) {
        total += db.match(inv).size();
      }
      all.add((System.nanoTime() - a) / 1e9);
      allCpu.add((cpu.getCurrentThreadCpuTime() - c) / 1e9);
      System.out.printf("  round %d: %.2f s wall, %.2f s CPU, %d findings%n", round, all.get(round),
          allCpu.get(round), total);
    }
    System.out.printf("re-match %d images, one thread: median %.2f s wall, %.2f s thread CPU, of %d rounds%n",
        images, median(all), median(allCpu), rounds);
    List<Double> batch = new ArrayList<>();
    List<Double> batchCpu = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      long c = cpu.getCurrentThreadCpuTime();
      long a = System.nanoTime();
      VulnDb.BatchMatcher m = db.batchMatcher(1_000_000);
      long total = 0;
      for (ImageInventory inv : inventories) {
        total += m.match(inv).size();
      }
      batch.add((System.nanoTime() - a) / 1e9);
      batchCpu.add((cpu.getCurrentThreadCpuTime() - c) / 1e9);
      System.out.printf("  round %d: %.2f s wall, %.2f s CPU, %d findings%n", round, batch.get(round),
          batchCpu.get(round), total);
    }
    System.out.printf("re-match %d images, one thread, batchMatcher: median %.2f s wall, %.2f s thread CPU%n",
        images, median(batch), median(batchCpu));
    int threads = Runtime.getRuntime().availableProcessors();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Double> par = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      long a = System.nanoTime();
      List<Future<Long>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int from = t * images / threads;
        int to = (t + 1) * images / threads;
        parts.add(pool.submit(() -> {
          long n = 0;
          for (ImageInventory inv : inventories.subList(from, to)) {
            n += db.match(inv).size();
          }
          return n;
        }));
      }
      long total = 0;
      for (Future<Long> f : parts) {
        total += f.get();
      }
      par.add((System.nanoTime() - a) / 1e9);
      System.out.printf("  round %d: %.2f s, %d findings%n", round, par.get(round), total);
    }
    pool.shutdown();
    System.out.printf("re-match %d images, %d threads: median %.2f s of %d rounds%n", images, threads,
        median(par), rounds);
  }

  private static String src(int i) {
    return "src" + i;
  }

  private static String debVersion(Random rnd) {
    String epoch = rnd.nextInt(10) == 0 ? "1:" : "";
    return epoch + rnd.nextInt(4) + "." + rnd.nextInt(10) + "." + rnd.nextInt(10) + "-" + (1 + rnd.nextInt(4))
        + (rnd.nextBoolean() ? "+deb12u" + (1 + rnd.nextInt(3)) : "");
  }

  private static byte[] debianZip(Random rnd) throws Exception {
    Zip zip = new Zip();
    int n = 0;
    for (int i = 0; i < DEB_SOURCES; i++) {
      for (int k = 0; k < 3; k++) {
        ObjectNode r = record(++n, "Debian:12", src(i));
        boolean open = rnd.nextInt(8) == 0;
        events(r, "ECOSYSTEM", "introduced", "0", open ? null : "fixed", debVersion(rnd));
        zip.add(r);
      }
    }
    return zip.bytes();
  }

  private static byte[] languageZip(Random rnd) throws Exception {
    Zip zip = new Zip();
    int n = 100_000;
    for (int i = 0; i < LANG_PACKAGES; i++) {
      for (int k = 0; k < 2; k++) {
        String lo = rnd.nextInt(3) + "." + rnd.nextInt(20) + ".0";
        String hi = (3 + rnd.nextInt(3)) + "." + rnd.nextInt(20) + "." + rnd.nextInt(20);
        zip.add(events(record(++n, "npm", "npm-" + i), "SEMVER", "introduced", lo, "fixed", hi));
        ObjectNode maven = events(record(++n, "Maven", "org.example" + i + ":lib-" + i), "ECOSYSTEM",
            "introduced", lo, "fixed", hi);
        maven.putObject("database_specific").put("severity", "HIGH");
        zip.add(maven);
        ObjectNode pypi = events(record(++n, "PyPI", "py-pkg-" + i), "ECOSYSTEM", "introduced", lo, "fixed", hi);
        pypi.putArray("severity").addObject().put("type", "CVSS_V3")
            .put("score", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H");
        zip.add(pypi);
      }
    }
    return zip.bytes();
  }

  private static ObjectNode record(int n, String ecosystem, String name) {
    ObjectNode r = JSON.createObjectNode();
    r.put("id", String.format("CVE-2099-%05d", n));
    r.put("modified", "2099-01-01T00:00:00Z");
    r.put("summary", "Synthetic advisory " + n);
    r.put("details", "A fictional vulnerability used to measure matching.");
    r.putArray("affected").addObject().putObject("package").put("ecosystem", ecosystem).put("name", name);
    return r;
  }

  private static ObjectNode events(ObjectNode r, String type, String k1, String v1, String k2, String v2) {
    ObjectNode range = ((ObjectNode) r.get("affected").get(0)).putArray("ranges").addObject();
    range.put("type", type);
    ArrayNode events = range.putArray("events");
    events.addObject().put(k1, v1);
    if (k2 != null) {
      events.addObject().put(k2, v2);
    }
    return r;
  }

  private static <T> List<T> sample(Random rnd, List<T> pool, int n) {
    List<T> copy = new ArrayList<>(pool);
    Collections.shuffle(copy, rnd);
    return copy.subList(0, n);
  }

  private static double median(List<Double> xs) {
    return pct(xs, 0.5);
  }

  private static double pct(List<Double> xs, double p) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.get((int) Math.min(s.size() - 1, Math.floor(p * s.size())));
  }

  /** An in-memory zip of records named {@code <id>.json}. */
  private static final class Zip {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ZipOutputStream zip = new ZipOutputStream(out);

    void add(ObjectNode record) throws Exception {
      zip.putNextEntry(new ZipEntry(record.get("id").asText() + ".json"));
      zip.write(JSON.writeValueAsBytes(record));
      zip.closeEntry();
    }

    byte[] bytes() throws Exception {
      zip.close();
      return out.toByteArray();
    }
  }
}
