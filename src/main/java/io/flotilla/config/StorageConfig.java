package io.flotilla.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Local storage of this node.
 *
 * @param dataDir root of blobs, repositories and upload sessions
 * @param deleteEnabled whether DELETE of manifests, tags and blobs is allowed (405 otherwise)
 * @param maxManifestBytes largest manifest accepted
 * @param maxPageSize largest {@code n} accepted by tag and catalog listings
 * @param uploadExpiry an upload session untouched this long is removed by GC
 * @param gcInterval how often online GC runs; zero disables the schedule (the API still works)
 * @param gcGrace blobs younger than this are never collected, so in-flight pushes are safe
 * @param tombstoneRetention how long a delete is remembered, so that a copy of the deleted content on
 *     a node that was away (or a racing copy) cannot bring it back; GC forgets older tombstones. A
 *     node away for longer than this can bring back what was deleted meanwhile.
 */
public record StorageConfig(
    Path dataDir,
    boolean deleteEnabled,
    int maxManifestBytes,
    int maxPageSize,
    Duration uploadExpiry,
    Duration gcInterval,
    Duration gcGrace,
    Duration tombstoneRetention) {

  public static final StorageConfig DEFAULT = new StorageConfig(Path.of("data"), true, 4 * 1024 * 1024, 10_000,
      Duration.ofHours(24), Duration.ofHours(1), Duration.ofHours(1), Duration.ofDays(7));

  /** As the canonical constructor, with the default tombstone retention. */
  public StorageConfig(Path dataDir, boolean deleteEnabled, int maxManifestBytes, int maxPageSize,
      Duration uploadExpiry, Duration gcInterval, Duration gcGrace) {
    this(dataDir, deleteEnabled, maxManifestBytes, maxPageSize, uploadExpiry, gcInterval, gcGrace, Duration.ofDays(7));
  }

  public StorageConfig {
    if (dataDir == null || dataDir.toString().isBlank()) {
      throw new ConfigException("storage.dataDir", "must not be empty");
    }
    if (maxManifestBytes < 1024 || maxManifestBytes > 64 * 1024 * 1024) {
      throw new ConfigException("storage.maxManifestBytes", "must be between 1024 and 67108864");
    }
    if (maxPageSize < 1) {
      throw new ConfigException("storage.maxPageSize", "must be positive");
    }
    requireNonNegative("storage.uploadExpiry", uploadExpiry);
    requireNonNegative("storage.gcInterval", gcInterval);
    requireNonNegative("storage.gcGrace", gcGrace);
    requireNonNegative("storage.tombstoneRetention", tombstoneRetention);
  }

  private static void requireNonNegative(String key, Duration d) {
    if (d == null || d.isNegative()) {
      throw new ConfigException(key, "must be a non-negative duration");
    }
  }
}
