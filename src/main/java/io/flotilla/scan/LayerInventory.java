package io.flotilla.scan;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one layer contributes to an image's inventory, read by {@link #read} in one streaming pass. Paths
 * are normalized (relative, no {@code .} or {@code ..} segments, no trailing slash). A value: immutable,
 * sorted, and independent of any other layer, so it can be cached by the layer's digest together with
 * {@link #ANALYZER_VERSION} and squashed later by {@link ImageInventory#squash}.
 *
 * @param packages the packages per analyzed file; a file that yielded nothing maps to an empty list, so that
 *     it still replaces a lower layer's file at that path
 * @param osFiles the OS files of the layer ({@code etc/os-release} and its fallbacks) per path
 * @param whiteouts paths this layer deletes from lower layers ({@code .wh.<name>}): files or whole directories
 * @param opaqueDirs directories whose lower contents this layer hides ({@code .wh..wh..opq}); {@code ""} is the root
 * @param notes files skipped and why
 * @param entries tar entries read
 * @param bytesRead bytes read from the layer blob (compressed, as stored)
 * @param uncompressedBytes bytes of the tar stream read
 */
public record LayerInventory(SortedMap<String, List<InstalledPackage>> packages, SortedMap<String, OsRelease> osFiles,
    SortedSet<String> whiteouts, SortedSet<String> opaqueDirs, List<ScanNote> notes, long entries, long bytesRead,
    long uncompressedBytes) {

  /**
   * The version of the analyzers' output: part of a cached inventory's key, raised whenever an analyzer
   * would find something different in the same layer.
   */
  public static final int ANALYZER_VERSION = 1;

  public LayerInventory {
    TreeMap<String, List<InstalledPackage>> p = new TreeMap<>();
    packages.forEach((k, v) -> p.put(k, List.copyOf(v)));
    packages = Collections.unmodifiableSortedMap(p);
    osFiles = Collections.unmodifiableSortedMap(new TreeMap<>(osFiles));
    whiteouts = Collections.unmodifiableSortedSet(new TreeSet<>(whiteouts));
    opaqueDirs = Collections.unmodifiableSortedSet(new TreeSet<>(opaqueDirs));
    notes = List.copyOf(notes);
  }

  /** A layer that contributes nothing. */
  public static LayerInventory empty() {
    return new LayerInventory(new TreeMap<>(), new TreeMap<>(), new TreeSet<>(), new TreeSet<>(), List.of(), 0, 0, 0);
  }

  /**
   * Reads one layer blob: a tar, gzip-compressed or not (told by its first bytes). Reads the stream to
   * its end on the calling thread (blocking; never an event loop) and keeps only what the analyzers
   * extract, never the layer. The caller closes {@code in}.
   *
   * @throws ScanException if the layer is truncated, corrupt, compressed in an unsupported way, or beyond
   *     a layer-wide limit of {@code limits}
   */
  public static LayerInventory read(InputStream in, ScanLimits limits) throws ScanException {
    return new LayerReader(limits).read(in);
  }

  /** Every package of this layer alone, sorted (without regard to other layers). */
  public List<InstalledPackage> allPackages() {
    List<InstalledPackage> all = new ArrayList<>();
    packages.values().forEach(all::addAll);
    all.sort(InstalledPackage.ORDER);
    return all;
  }

  /** The OS this layer alone states: the most authoritative of its OS files, else {@link OsRelease#UNKNOWN}. */
  public OsRelease os() {
    return osFiles.values().stream().filter(OsRelease::known)
        .min((a, b) -> Integer.compare(OsReleaseAnalyzer.rank(a.path()), OsReleaseAnalyzer.rank(b.path())))
        .orElse(OsRelease.UNKNOWN);
  }

  /** Convenience: whether the layer deletes or hides anything below it. */
  public boolean hidesLower() {
    return !whiteouts.isEmpty() || !opaqueDirs.isEmpty();
  }
}
