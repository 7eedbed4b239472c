package io.flotilla.scan;

import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.MediaTypes;
import io.flotilla.storage.BlobStore;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Scans one image manifest held on this node: each layer's inventory from the layer cache, or read from
 * the local blob once and cached; the layers squashed in order; the inventory matched with a database.
 * Matching again under a new database ({@link #rematch}) reads no layer. Blocking: runs on the scan
 * workers, never on an event loop.
 */
public final class ImageScanner {
  /** Config media types of container images; manifests with another config (artifacts, signatures) are not scanned. */
  static final Set<String> IMAGE_CONFIGS = Set.of("application/vnd.oci.image.config.v1+json",
      "application/vnd.docker.container.image.v1+json");

  /** A database as the scanner uses it: its artifact digest and its matcher. */
  public record Db(String digest, Function<ImageInventory, List<Finding>> matcher) {
    /** No database: inventories are stored, nothing is matched. */
    public static final Db NONE = new Db("", inventory -> List.of());
  }

  private final BlobStore blobs;
  private final LayerCache cache;
  private final ScanLimits limits;
  private final AtomicLong layerBytesRead = new AtomicLong();
  private final AtomicLong layersRead = new AtomicLong();
  private final AtomicLong layersCached = new AtomicLong();

  public ImageScanner(BlobStore blobs, LayerCache cache, ScanLimits limits) {
    this.blobs = blobs;
    this.cache = cache;
    this.limits = limits;
  }

  /** What a manifest is to the scanner. */
  public record Parsed(Manifest manifest, boolean index, boolean image) {}

  /** Reads and parses manifest {@code digest} from this node's blobs. */
  public Parsed manifest(String digest) throws IOException {
    byte[] body;
    try {
      body = blobs.read(Digest.parse(digest));
    } catch (NoSuchFileException e) {
      throw new IOException("manifest " + digest + " is not held on this node");
    }
    Manifest m = ManifestParser.parse(body, null);
    boolean image = !m.isIndex() && m.config() != null && IMAGE_CONFIGS.contains(m.config().mediaType());
    return new Parsed(m, m.isIndex(), image);
  }

  /**
   * Scans image manifest {@code digest} (whose parsed form is {@code parsed}) with {@code db}. A layer
   * that cannot be read makes a failed scan naming the layer and the reason, never an exception.
   */
  public ImageScan scan(String digest, Manifest parsed, Db db, long nowMillis) {
    List<LayerInventory> layers = new ArrayList<>();
    for (Descriptor layer : parsed.layers()) {
      if (MediaTypes.isForeignLayer(layer.mediaType())) {
        continue; // not distributable: never stored here (zot skips them too)
      }
      try {
        layers.add(layer(layer.digest()));
      } catch (ScanException e) {
        return failed(digest, db, "layer " + layer.digest() + ": " + e.getMessage(), nowMillis);
      } catch (IOException e) {
        return failed(digest, db, "layer " + layer.digest() + ": " + e.getMessage(), nowMillis);
      }
    }
    ImageInventory inventory = ImageInventory.squash(layers);
    return new ImageScan(digest, db.digest(), LayerInventory.ANALYZER_VERSION, "", inventory.os(),
        inventory.packages(), db.matcher().apply(inventory), nowMillis);
  }

  /** {@code stored} matched again with {@code db}: no layer is read. A failed scan stays failed. */
  public static ImageScan rematch(ImageScan stored, Db db, long nowMillis) {
    if (stored.failed()) {
      return stored;
    }
    ImageInventory inventory = new ImageInventory(stored.os(), stored.packages());
    return new ImageScan(stored.digest(), db.digest(), stored.analyzerVersion(), "", stored.os(), stored.packages(),
        db.matcher().apply(inventory), nowMillis);
  }

  private static ImageScan failed(String digest, Db db, String error, long nowMillis) {
    return new ImageScan(digest, db.digest(), LayerInventory.ANALYZER_VERSION, error, OsRelease.UNKNOWN, List.of(),
        List.of(), nowMillis);
  }

  private LayerInventory layer(Digest digest) throws IOException, ScanException {
    Optional<LayerInventory> cached = cache.get(digest);
    if (cached.isPresent()) {
      layersCached.incrementAndGet();
      return cached.get();
    }
    LayerInventory inventory;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(blobs.path(digest)), 1 << 16)) {
      inventory = LayerInventory.read(in, limits);
    } catch (NoSuchFileException e) {
      throw new IOException("not held on this node");
    } finally {
      layersRead.incrementAndGet();
    }
    layerBytesRead.addAndGet(inventory.bytesRead());
    cache.put(digest, inventory);
    return inventory;
  }

  /** Layer bytes read from blobs since start (compressed, as stored): what a re-match must not add to. */
  public long layerBytesRead() {
    return layerBytesRead.get();
  }

  /** Layers read from blobs since start. */
  public long layersRead() {
    return layersRead.get();
  }

  /** Layers whose inventory came from the cache since start. */
  public long layersCached() {
    return layersCached.get();
  }
}
