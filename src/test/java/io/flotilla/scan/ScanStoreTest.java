package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScanStoreTest {
  @TempDir
  Path dir;

  static String digest(String s) {
    return Digest.sha256(s.getBytes(StandardCharsets.UTF_8)).toString();
  }

  static ImageScan scan(String digest, String db, List<Finding> findings) {
    InstalledPackage p = new InstalledPackage(PackageType.DEB, "libssl3", "3.0.11-1", "openssl", "3.0.11-1", "amd64",
        "var/lib/dpkg/status");
    return new ImageScan(digest, db, LayerInventory.ANALYZER_VERSION, "", new OsRelease("debian", "12", "", "etc/os-release"),
        List.of(p), findings, 1000);
  }

  static Finding finding(String id, Severity s) {
    return new Finding(id, s, "libssl3", "var/lib/dpkg/status", "3.0.11-1", "");
  }

  @Test
  void scansSurviveAReopenAndTheIndexFollowsReplacements() throws Exception {
    String a = digest("a");
    String b = digest("b");
    ScanStore store = ScanStore.open(dir);
    store.put(scan(a, "db1", List.of(finding("CVE-2099-0001", Severity.HIGH), finding("CVE-2099-0002", Severity.LOW))));
    store.put(scan(b, "db1", List.of(finding("CVE-2099-0001", Severity.HIGH))));
    assertEquals(Set.of(a, b), store.manifestsWith("CVE-2099-0001"));
    // in memory without packages; from disk with them
    assertEquals(List.of(), store.get(a).orElseThrow().packages());
    assertEquals(1, store.load(a).orElseThrow().packages().size());

    ScanStore reopened = ScanStore.open(dir);
    assertEquals(2, reopened.size());
    assertEquals(Set.of(a), reopened.manifestsWith("CVE-2099-0002"));
    reopened.put(scan(a, "db2", List.of(finding("CVE-2099-0003", Severity.CRITICAL))));
    assertEquals(Set.of(b), reopened.manifestsWith("CVE-2099-0001"));
    assertEquals(Set.of(), reopened.manifestsWith("CVE-2099-0002"));
    assertEquals("db2", reopened.get(a).orElseThrow().dbDigest());
    reopened.remove(b);
    assertEquals(Set.of(), reopened.manifestsWith("CVE-2099-0001"));
    assertEquals(1, ScanStore.open(dir).size());
  }

  @Test
  void aTornFileIsDroppedAtOpen() throws Exception {
    ScanStore store = ScanStore.open(dir);
    store.put(scan(digest("a"), "db1", List.of()));
    Path images = dir.resolve("_scan").resolve("images");
    Files.writeString(images.resolve("sha256-" + "0".repeat(64) + ".json"), "{\"digest\":");
    ScanStore reopened = ScanStore.open(dir);
    assertEquals(1, reopened.size());
    try (var files = Files.list(images)) {
      assertEquals(1, files.count());
    }
  }

  @Test
  void layerCacheKeepsInventoriesOfHeldBlobsOnly() throws Exception {
    LayerCache cache = new LayerCache(dir);
    Digest held = Digest.sha256("held".getBytes(StandardCharsets.UTF_8));
    Digest gone = Digest.sha256("gone".getBytes(StandardCharsets.UTF_8));
    TreeMap<String, List<InstalledPackage>> packages = new TreeMap<>();
    packages.put("lib/apk/db/installed", List.of(new InstalledPackage(PackageType.APK, "musl", "1.2.4-r2", "musl",
        "1.2.4-r2", "aarch64", "lib/apk/db/installed")));
    LayerInventory inv = new LayerInventory(packages, new TreeMap<>(), new TreeSet<>(Set.of("etc/x")), new TreeSet<>(),
        List.of(new ScanNote("a", "b")), 3, 100, 1000);
    cache.put(held, inv);
    cache.put(gone, LayerInventory.empty());
    assertEquals(inv, cache.get(held).orElseThrow());
    assertEquals(1, cache.sweep(d -> d.equals(held)));
    assertTrue(cache.get(held).isPresent());
    assertTrue(cache.get(gone).isEmpty());
  }
}
