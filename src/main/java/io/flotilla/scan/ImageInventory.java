package io.flotilla.scan;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The inventory of an image: its OS and its packages after its layers are applied in order, computed from
 * the layers' {@link LayerInventory} values alone (no layer is read again). A value; the list is sorted
 * by {@link InstalledPackage#ORDER} and free of exact duplicates.
 *
 * @param os the image's OS: among the OS files that survive, an {@code os-release} file before the
 *     fallbacks, then the highest layer; {@link OsRelease#UNKNOWN} if none
 * @param packages every package of every file that survives
 */
public record ImageInventory(OsRelease os, List<InstalledPackage> packages) {

  public ImageInventory {
    Objects.requireNonNull(os, "os");
    packages = List.copyOf(packages);
  }

  /**
   * Applies layers bottom first, as an OCI runtime would unpack them. For each layer in turn: its opaque
   * directories hide everything below them from the lower layers; its whiteouts delete the lower path and
   * everything under it; then its own files replace lower files at the same path. A layer's whiteouts never
   * touch its own files.
   */
  public static ImageInventory squash(List<LayerInventory> layers) {
    TreeMap<String, List<InstalledPackage>> files = new TreeMap<>();
    TreeMap<String, Placed> osFiles = new TreeMap<>();
    for (int i = 0; i < layers.size(); i++) {
      LayerInventory layer = layers.get(i);
      for (String dir : layer.opaqueDirs()) {
        under(files, dir);
        under(osFiles, dir);
      }
      for (String path : layer.whiteouts()) {
        files.remove(path);
        osFiles.remove(path);
        under(files, path);
        under(osFiles, path);
      }
      files.putAll(layer.packages());
      for (Map.Entry<String, OsRelease> e : layer.osFiles().entrySet()) {
        osFiles.put(e.getKey(), new Placed(i, e.getValue()));
      }
    }
    TreeSet<InstalledPackage> all = new TreeSet<>(InstalledPackage.ORDER);
    files.values().forEach(all::addAll);
    return new ImageInventory(pickOs(osFiles), new ArrayList<>(all));
  }

  /** An OS file and the layer it came from. */
  private record Placed(int layer, OsRelease os) {}

  private static OsRelease pickOs(TreeMap<String, Placed> osFiles) {
    Placed best = null;
    for (Placed p : osFiles.values()) {
      if (!p.os().known()) {
        continue;
      }
      if (best == null || better(p, best)) {
        best = p;
      }
    }
    return best == null ? OsRelease.UNKNOWN : best.os();
  }

  private static boolean better(Placed a, Placed b) {
    boolean ra = OsReleaseAnalyzer.isOsRelease(a.os().path());
    boolean rb = OsReleaseAnalyzer.isOsRelease(b.os().path());
    if (ra != rb) {
      return ra;
    }
    if (a.layer() != b.layer()) {
      return a.layer() > b.layer();
    }
    return OsReleaseAnalyzer.rank(a.os().path()) < OsReleaseAnalyzer.rank(b.os().path());
  }

  /** Removes every key strictly below {@code dir} ({@code ""}: the root, so everything). */
  private static void under(TreeMap<String, ?> map, String dir) {
    if (dir.isEmpty()) {
      map.clear();
      return;
    }
    map.subMap(dir + "/", dir + "0").clear(); // '0' is the character after '/'
  }
}
