package io.flotilla.search;

import io.flotilla.oci.Digest;
import io.flotilla.storage.ManifestMeta;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What search knows of one repository held on this node, built from its metadata and manifests
 * ({@link RepoIndexBuilder}) and replaced whenever the repository changes: one entry per image
 * (tag) and the repository's summary. Summaries are GraphQL-shaped maps without the fields that
 * depend on the caller (rank, stars, bookmarks, deletability), which are added per query.
 *
 * @param version the repository's metadata version the index was built from
 * @param repo null when the repository has no image (no tag): such a repository is not listed
 */
public record RepoIndex(String name, long version, List<ImageEntry> images, RepoEntry repo,
    Map<Digest, List<ManifestMeta>> referrers) {

  /** An OS and architecture ({@code arch/variant} when there is a variant), as the image declares them. */
  public record Platform(String os, String arch) {}

  /** One manifest of an image: its digest and ordered layer digests (for base/derived image queries). */
  public record ManifestLayers(String digest, List<String> layers) {}

  /**
   * One image: a tag and what it points at.
   *
   * @param updated LastUpdated in epoch nanoseconds (0: unknown)
   * @param digests every digest of the image (index, manifests, configs, layers), for digest search
   */
  public record ImageEntry(String repo, String tag, String digest, long updated, List<Platform> platforms,
      boolean signed, List<ManifestLayers> manifests, Set<String> digests, Map<String, Object> summary) {}

  /** The repository as listed: LastUpdated (nanoseconds), platforms, whether its newest image is signed, its summary. */
  public record RepoEntry(String name, long updated, List<Platform> platforms, boolean newestSigned,
      Map<String, Object> summary) {}
}
