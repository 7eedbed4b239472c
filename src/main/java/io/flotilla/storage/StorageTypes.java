package io.flotilla.storage;

import java.util.List;
import java.util.Map;

/**
 * Values returned by the storage API. They are plain records of strings and numbers so that the
 * bus can carry them between nodes unchanged; nullable fields say so.
 */
public final class StorageTypes {
  private StorageTypes() {}

  /** A manifest's bytes as stored, with the media type it was pushed with. */
  public record ManifestContent(String digest, String mediaType, byte[] body) {}

  /** A manifest push. {@code contentType} may be null. */
  public record PutManifest(String repository, String reference, String contentType, byte[] body) {}

  /**
   * The result of a manifest push: its digest, its media type as stored, the digests it references
   * (config, layers, child manifests) and its subject (null when it has none).
   */
  public record ManifestPut(String digest, String mediaType, List<String> references, String subject) {
    public ManifestPut {
      references = references == null ? List.of() : List.copyOf(references);
    }
  }

  /** A page of tags, and whether more follow. */
  public record TagPage(String name, List<String> tags, boolean more) {}

  /**
   * A page of repository names, whether more follow, and the nodes that did not answer a
   * cluster-wide listing (empty when the page is complete).
   */
  public record CatalogPage(List<String> repositories, boolean more, List<String> unavailable) {
    public CatalogPage {
      unavailable = unavailable == null ? List.of() : List.copyOf(unavailable);
    }
  }

  /** One entry of a referrers index; {@code artifactType} may be null. */
  public record Referrer(String mediaType, String digest, long size, String artifactType,
      Map<String, String> annotations) {}

  /** The referrers of a subject, already filtered when {@code filtered} is true. */
  public record Referrers(List<Referrer> manifests, boolean filtered) {}

  /**
   * A blob visible in a repository; {@code node} is the node that holds it, or null for "this node"
   * (set by the cluster routing layer when the answer came from elsewhere).
   */
  public record BlobInfo(String digest, long size, String node) {
    public BlobInfo(String digest, long size) {
      this(digest, size, null);
    }
  }

  /** An upload session's identity and acknowledged offset. */
  public record UploadStatus(String repository, String id, long offset) {}

  /** Storage used by one repository: what it references, counted once per repository. */
  public record RepositoryUsage(String name, long bytes, int manifests, int tags, int blobs) {}

  /** Storage used on this node: de-duplicated blob bytes, and each repository's view. */
  public record Usage(long storedBytes, long storedBlobs, List<RepositoryUsage> repositories) {}

  /** What one garbage collection removed, or would remove when {@code dryRun}. */
  public record GcReport(boolean dryRun, int blobsDeleted, long bytesFreed, int linksRemoved,
      int uploadsRemoved, List<String> deletedDigests, long durationMillis) {}

  /** A tag as replication sees it: the manifest it names and when it was last pointed there. */
  public record TagEntry(String digest, long updatedMillis) {}

  /**
   * Everything one node holds of a repository, for replication: tags, manifest digests and linked
   * blobs (digest to size). Manifests are listed by digest only; their bodies are fetched when missing.
   */
  public record RepoInventory(String repository, Map<String, TagEntry> tags, List<String> manifests,
      Map<String, Long> blobs) {
    public RepoInventory {
      tags = tags == null ? Map.of() : Map.copyOf(tags);
      manifests = manifests == null ? List.of() : List.copyOf(manifests);
      blobs = blobs == null ? Map.of() : Map.copyOf(blobs);
    }
  }

  /** A small blob's bytes, carried in one message. */
  public record BlobBytes(String digest, byte[] data) {}

  /** What one replication step copied onto the node that ran it. */
  public record SyncResult(int manifests, int blobs, long bytes, int tags) {
    public static final SyncResult NOTHING = new SyncResult(0, 0, 0, 0);

    public SyncResult plus(SyncResult o) {
      return new SyncResult(manifests + o.manifests, blobs + o.blobs, bytes + o.bytes, tags + o.tags);
    }
  }
}
