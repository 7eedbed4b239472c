// Heap taken by search's per-repository index, for bench/search.sh: builds N io.flotilla.search.RepoIndex
// objects with RepoIndexBuilder.build over an in-memory RepoIndexBuilder.Content (one tag per
// repository, "latest", pointing at an OCI image manifest with an OCI image config and 2 layers, as
// pushed by the bench driver plus one layer), keeps them in a list and prints the heap growth per
// repository as JSON. The heap is measured after several System.gc() calls (MemoryMXBean used heap)
// before and after; the inputs (manifest and config bytes) are dropped after each build, so only what
// the indexes retain is counted. A benchmark tool, not a test. Run against the built jar:
//
//   java -cp target/flotilla.jar bench/SearchIndexMemory.java N
//
// Single-file source program so the bench project needs no compile-time dependency on the server.
import io.flotilla.oci.Digest;
import io.flotilla.search.RepoIndex;
import io.flotilla.search.RepoIndexBuilder;
import io.flotilla.storage.ManifestMeta;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

public class SearchIndexMemory {
  static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    if (n <= 0) {
      throw new IllegalArgumentException("N must be positive");
    }
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    SplittableRandom random = new SplittableRandom(42);
    // Warm up: load and initialise every class the builder uses (Jackson, records, regexes), so
    // class metadata and static caches are in the "before" figure, not in the per-repository one.
    for (int i = 0; i < 200; i++) {
      build("warmup/repo-" + i, random);
    }
    long before = usedAfterGc(mem);
    List<RepoIndex> kept = new ArrayList<>(n);
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      kept.add(build(String.format(Locale.ROOT, "search/repo-%04d", i + 1), random));
    }
    double buildMs = (System.nanoTime() - t0) / 1e6;
    long after = usedAfterGc(mem);
    int images = 0;
    for (RepoIndex r : kept) {
      images += r.images().size();
      if (r.repo() == null || r.images().size() != 1 || r.images().get(0).platforms().isEmpty()) {
        throw new IllegalStateException("index of " + r.name() + " has no image or no platform: " + r);
      }
    }
    long grown = after - before;
    System.out.printf(Locale.ROOT,
        "{\"repositories\":%d,\"images\":%d,\"heap_before_bytes\":%d,\"heap_after_bytes\":%d,"
            + "\"heap_growth_bytes\":%d,\"bytes_per_repository\":%.1f,\"build_ms\":%.1f,"
            + "\"build_us_per_repository\":%.1f,\"java\":\"%s\",\"max_heap_bytes\":%d}%n",
        n, images, before, after, grown, (double) grown / n, buildMs, buildMs * 1000 / n,
        Runtime.version(), Runtime.getRuntime().maxMemory());
    if (kept.size() != n) { // keeps the list reachable until after the measurement
      throw new IllegalStateException();
    }
  }

  /** One repository: tag "latest" -> an OCI image manifest (config + 2 layers), as pushed. */
  static RepoIndex build(String repo, SplittableRandom random) throws Exception {
    String l1 = randomDigest(random);
    String l2 = randomDigest(random);
    long s1 = 4096;
    long s2 = 1024 + random.nextInt(65536);
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-05-01T12:00:00Z\","
        + "\"config\":{\"Labels\":{\"bench.repo\":\"" + repo + "\"}},"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + randomDigest(random) + "\",\""
        + randomDigest(random) + "\"]}}").getBytes(StandardCharsets.UTF_8);
    Digest configDigest = Digest.sha256(config);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + OCI_MANIFEST + "\",\"config\":"
        + descriptor(OCI_CONFIG, configDigest.toString(), config.length) + ",\"layers\":["
        + descriptor(OCI_LAYER, l1, s1) + "," + descriptor(OCI_LAYER, l2, s2) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    Digest manifestDigest = Digest.sha256(manifest);
    long now = System.currentTimeMillis();
    ManifestMeta meta = new ManifestMeta(manifestDigest, OCI_MANIFEST, manifest.length, null, null, Map.of(),
        List.of(configDigest, Digest.parse(l1), Digest.parse(l2)), now);
    Map<Digest, byte[]> blobs = Map.of(manifestDigest, manifest, configDigest, config);
    RepoIndexBuilder.Content content = new RepoIndexBuilder.Content() {
      @Override
      public Map<String, Map.Entry<Digest, Long>> tags() {
        return Map.of("latest", Map.entry(manifestDigest, now));
      }

      @Override
      public Map<Digest, ManifestMeta> manifests() {
        return Map.of(manifestDigest, meta);
      }

      @Override
      public List<ManifestMeta> referrers(Digest digest) {
        return List.of();
      }

      @Override
      public byte[] read(Digest digest) {
        return blobs.get(digest);
      }
    };
    return RepoIndexBuilder.build(repo, 1, content);
  }

  static String descriptor(String mediaType, String digest, long size) {
    return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
  }

  static String randomDigest(SplittableRandom random) {
    byte[] b = new byte[32];
    random.nextBytes(b);
    return "sha256:" + HexFormat.of().formatHex(b);
  }

  /** Used heap after GCs, taking the lowest of several readings once it stops falling. */
  static long usedAfterGc(MemoryMXBean mem) throws InterruptedException {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
      best = Math.min(best, mem.getHeapMemoryUsage().getUsed());
    }
    return best;
  }
}
