package io.flotilla.scan;

import io.flotilla.oci.Digest;
import io.flotilla.storage.Fs;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The node's stored image scans: one file per manifest digest ({@code <dataDir>/_scan/images/<algorithm>-<hex>.json},
 * written atomically and fsync'd before {@link #put} returns), and in memory what queries read without
 * touching the disk: each scan without its package list, and an index from vulnerability id to the
 * manifests that have it. The package lists stay on disk and are read only to re-match under a new
 * database ({@link #load}). Thread-safe; {@link #open}, {@link #put}, {@link #load} and {@link #remove}
 * block.
 */
public final class ScanStore {
  private final Path dir;
  private final Map<String, ImageScan> scans = new ConcurrentHashMap<>();
  private final Map<String, Set<String>> byId = new ConcurrentHashMap<>();
  /** One copy of each string the findings in memory hold (ids, package names, paths, versions). */
  private final Map<String, String> pool = new ConcurrentHashMap<>();

  private ScanStore(Path dir) {
    this.dir = dir;
  }

  /** Opens (creating if needed) the store under {@code dataDir} and loads every scan's summary. */
  public static ScanStore open(Path dataDir) throws IOException {
    ScanStore store = new ScanStore(dataDir.resolve("_scan").resolve("images"));
    Fs.createDirectoriesDurably(store.dir);
    try (DirectoryStream<Path> temps = Files.newDirectoryStream(store.dir, "._tmp-*")) {
      for (Path t : temps) {
        Files.deleteIfExists(t); // a write a crash interrupted
      }
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(store.dir, "*.json")) {
      for (Path f : files) {
        try {
          store.remember(ScanJson.read(Files.readAllBytes(f), ImageScan.class));
        } catch (IOException | RuntimeException e) {
          Files.deleteIfExists(f); // torn or foreign: scanned again when next needed
        }
      }
    }
    return store;
  }

  private Path file(String digest) {
    Digest d = Digest.parse(digest);
    return dir.resolve(d.algorithm().id() + "-" + d.hex() + ".json");
  }

  /** Stores {@code scan} durably, replacing any earlier scan of the same manifest. */
  public void put(ImageScan scan) throws IOException {
    Fs.writeAtomic(file(scan.digest()), ScanJson.write(scan));
    remember(scan);
  }

  /**
   * Stores a result that can be computed again from what is stored (a re-match under a new database):
   * atomic, not fsync'd; call {@link #sync} after a batch. A power loss may bring back the older result,
   * which is then matched again, reading no layer.
   */
  public void putDerived(ImageScan scan) {
    Fs.writeAtomicNoSync(file(scan.digest()), ScanJson.write(scan));
    remember(scan);
  }

  /** Makes the renames of earlier {@link #putDerived} calls durable (one directory fsync). */
  public void sync() throws IOException {
    Fs.fsyncDir(dir);
  }

  private synchronized void remember(ImageScan scan) {
    List<Finding> findings = new ArrayList<>(scan.findings().size());
    for (Finding f : scan.findings()) { // images share ids, packages and versions: keep each string once
      findings.add(new Finding(pooled(f.id()), f.severity(), pooled(f.packageName()), pooled(f.packagePath()),
          pooled(f.installedVersion()), pooled(f.fixedVersion())));
    }
    ImageScan lean = new ImageScan(scan.digest(), pooled(scan.dbDigest()), scan.analyzerVersion(), scan.error(),
        scan.os(), List.of(), findings, scan.scannedMillis());
    ImageScan old = scans.put(scan.digest(), lean);
    if (old != null) {
      old.findings().forEach(f -> unindex(f.id(), scan.digest()));
    }
    lean.findings().forEach(f -> byId.computeIfAbsent(f.id(), k -> ConcurrentHashMap.newKeySet()).add(scan.digest()));
  }

  private void unindex(String id, String digest) {
    Set<String> s = byId.get(id);
    if (s != null) {
      s.remove(digest);
      if (s.isEmpty()) {
        byId.remove(id, s);
      }
    }
  }

  private String pooled(String s) {
    String p = pool.putIfAbsent(s, s);
    return p == null ? s : p;
  }

  /** The stored scan of manifest {@code digest} without its package list (from memory). */
  public Optional<ImageScan> get(String digest) {
    return Optional.ofNullable(scans.get(digest));
  }

  /** The stored scan of manifest {@code digest} with its package list (read from disk). */
  public Optional<ImageScan> load(String digest) throws IOException {
    try {
      return Optional.of(ScanJson.read(Files.readAllBytes(file(digest)), ImageScan.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** Forgets the scan of {@code digest} (its manifest is gone from this node). */
  public synchronized void remove(String digest) throws IOException {
    ImageScan old = scans.remove(digest);
    if (old != null) {
      old.findings().forEach(f -> unindex(f.id(), digest));
    }
    Files.deleteIfExists(file(digest));
  }

  /** The manifests whose stored scan has a finding with id {@code id}. */
  public Set<String> manifestsWith(String id) {
    Set<String> s = byId.get(id);
    return s == null ? Set.of() : Set.copyOf(s);
  }

  /** Every stored manifest digest. */
  public List<String> digests() {
    return new ArrayList<>(scans.keySet());
  }

  /** How many scans are stored. */
  public int size() {
    return scans.size();
  }
}
