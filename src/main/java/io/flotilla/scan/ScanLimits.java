package io.flotilla.scan;

/**
 * Bounds on what one layer scan may read and keep, so that a hostile layer (a tar bomb, a huge package
 * database, a zip bomb in a jar) costs bounded time and memory. Exceeding a layer-wide bound fails the
 * layer with a {@link ScanException}; exceeding a per-file bound skips that file with a {@link ScanNote}.
 * An immutable value; the compact constructor rejects non-positive values.
 *
 * @param maxEntries tar entries per layer
 * @param maxLayerBytes uncompressed bytes per layer, read or declared in entry headers
 * @param maxDatabaseFileBytes a package database read whole: dpkg {@code status}, apk {@code installed},
 *     {@code package-lock.json}
 * @param maxMetadataFileBytes a small metadata file: {@code os-release}, {@code package.json},
 *     {@code pom.properties}, {@code MANIFEST.MF}, the headers of a Python {@code METADATA}
 * @param maxArchiveBytes a jar, war or ear in the layer
 * @param maxNestedArchiveBytes a jar inside a jar, war or ear (read from the outer stream)
 * @param maxArchiveInflatedBytes bytes inflated from one archive and the archives nested in it (a zip bomb
 *     inside a jar costs no more than this)
 * @param maxExecutableBytes an executable searched for Go build information
 * @param maxPackages packages per layer
 * @param maxNotes notes kept per layer (further ones are counted in a last note)
 */
public record ScanLimits(long maxEntries, long maxLayerBytes, long maxDatabaseFileBytes,
    long maxMetadataFileBytes, long maxArchiveBytes, long maxNestedArchiveBytes,
    long maxArchiveInflatedBytes, long maxExecutableBytes, int maxPackages, int maxNotes) {

  private static final long MIB = 1024L * 1024;

  /** Defaults sized for real images: 1M entries, 16 GiB per layer, 64 MiB databases, 1 MiB metadata files. */
  public static final ScanLimits DEFAULTS = new ScanLimits(1_000_000, 16 * 1024 * MIB, 64 * MIB, MIB,
      1024 * MIB, 128 * MIB, 4096 * MIB, 512 * MIB, 500_000, 100);

  public ScanLimits {
    if (maxEntries <= 0 || maxLayerBytes <= 0 || maxDatabaseFileBytes <= 0 || maxMetadataFileBytes <= 0
        || maxArchiveBytes <= 0 || maxNestedArchiveBytes <= 0 || maxArchiveInflatedBytes <= 0
        || maxExecutableBytes <= 0 || maxPackages <= 0 || maxNotes <= 0) {
      throw new IllegalArgumentException("scan limits must all be positive");
    }
  }

  /** A copy with maxEntries set to {@code v}. */
  public ScanLimits withMaxEntries(long v) {
    return new ScanLimits(v, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes, maxArchiveBytes,
        maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxLayerBytes set to {@code v}. */
  public ScanLimits withMaxLayerBytes(long v) {
    return new ScanLimits(maxEntries, v, maxDatabaseFileBytes, maxMetadataFileBytes, maxArchiveBytes,
        maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxDatabaseFileBytes set to {@code v}. */
  public ScanLimits withMaxDatabaseFileBytes(long v) {
    return new ScanLimits(maxEntries, maxLayerBytes, v, maxMetadataFileBytes, maxArchiveBytes,
        maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxMetadataFileBytes set to {@code v}. */
  public ScanLimits withMaxMetadataFileBytes(long v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, v, maxArchiveBytes,
        maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxArchiveBytes set to {@code v}. */
  public ScanLimits withMaxArchiveBytes(long v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes, v,
        maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxNestedArchiveBytes set to {@code v}. */
  public ScanLimits withMaxNestedArchiveBytes(long v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes,
        maxArchiveBytes, v, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxArchiveInflatedBytes set to {@code v}. */
  public ScanLimits withMaxArchiveInflatedBytes(long v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes,
        maxArchiveBytes, maxNestedArchiveBytes, v, maxExecutableBytes, maxPackages, maxNotes);
  }

  /** A copy with maxExecutableBytes set to {@code v}. */
  public ScanLimits withMaxExecutableBytes(long v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes,
        maxArchiveBytes, maxNestedArchiveBytes, maxArchiveInflatedBytes, v, maxPackages, maxNotes);
  }

  /** A copy with maxPackages set to {@code v}. */
  public ScanLimits withMaxPackages(int v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes,
        maxArchiveBytes, maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, v, maxNotes);
  }

  /** A copy with maxNotes set to {@code v}. */
  public ScanLimits withMaxNotes(int v) {
    return new ScanLimits(maxEntries, maxLayerBytes, maxDatabaseFileBytes, maxMetadataFileBytes,
        maxArchiveBytes, maxNestedArchiveBytes, maxArchiveInflatedBytes, maxExecutableBytes, maxPackages, v);
  }
}
