package io.flotilla.scan;

import io.flotilla.oci.Digest;
import io.flotilla.storage.Fs;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The node's layer inventories, one file per layer digest and analyzer version
 * ({@code <dataDir>/_scan/layers/<algorithm>-<hex>-v<version>.json}), so a layer shared by many images is
 * read once per node. Files are written atomically; a file that does not parse is treated as absent.
 * {@link #sweep} removes the inventories of blobs this node no longer holds (run after garbage
 * collection) and those of older analyzer versions. Blocking: call on a worker thread.
 */
public final class LayerCache {
  private final Path dir;

  public LayerCache(Path dataDir) {
    this.dir = dataDir.resolve("_scan").resolve("layers");
  }

  private Path file(Digest layer) {
    return dir.resolve(layer.algorithm().id() + "-" + layer.hex() + "-v" + LayerInventory.ANALYZER_VERSION + ".json");
  }

  /** The cached inventory of {@code layer}, if one was stored by the current analyzers. */
  public Optional<LayerInventory> get(Digest layer) {
    try {
      return Optional.of(ScanJson.read(Files.readAllBytes(file(layer)), LayerInventory.class));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Stores the inventory of {@code layer} (durably: a crash leaves the old file or the new one). */
  public void put(Digest layer, LayerInventory inventory) throws IOException {
    Fs.createDirectoriesDurably(dir);
    Fs.writeAtomic(file(layer), ScanJson.write(inventory));
  }

  /**
   * Deletes the inventories whose blob {@code held} no longer answers true for, and those written by
   * other analyzer versions. Returns how many files were removed.
   */
  public int sweep(Predicate<Digest> held) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    int removed = 0;
    String suffix = "-v" + LayerInventory.ANALYZER_VERSION + ".json";
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        boolean keep = false;
        if (name.endsWith(suffix)) {
          String base = name.substring(0, name.length() - suffix.length());
          int dash = base.indexOf('-');
          if (dash > 0) {
            try {
              keep = held.test(Digest.parse(base.substring(0, dash) + ":" + base.substring(dash + 1)));
            } catch (RuntimeException e) {
              keep = false;
            }
          }
        }
        if (!keep && Files.deleteIfExists(f)) {
          removed++;
        }
      }
    }
    return removed;
  }
}
