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

  /**
   * A manifest push. {@code contentType} may be null. {@code createdMillis} is 0 for a client's push;
   * a copy from another node carries the time the manifest was first stored there (see
   * {@link MetadataStore#putManifest(io.flotilla.oci.RepositoryName, ManifestMeta, io.flotilla.oci.Tag,
   * long, boolean, Runnable)}).
   */
  public record PutManifest(String repository, String reference, String contentType, byte[] body,
      long createdMillis) {
    public PutManifest(String repository, String reference, String contentType, byte[] body) {
      this(repository, reference, contentType, body, 0);
    }
  }

  /**
   * The result of a manifest push: its digest, its media type as stored, the digests it references
   * (config, layers, child manifests) and its subject (null when it has none).
   */
  public record ManifestPut(String digest, String mediaType, List<String> references, String subject,
      long createdMillis, long tagMillis, long tagReplaced) {
    public ManifestPut {
      references = references == null ? List.of() : List.copyOf(references);
    }

    public ManifestPut(String digest, String mediaType, List<String> references, String subject) {
      this(digest, mediaType, references, subject, 0, 0, 0);
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

  /**
   * Storage used by one repository: what it references, counted once per repository, and the
   * fingerprint of its state (16 hex digits; equal on two nodes when their copies agree, see
   * {@link MetadataStore#fingerprint}).
   */
  public record RepositoryUsage(String name, long bytes, int manifests, int tags, int blobs, String fingerprint) {}

  /** Storage used on this node: de-duplicated blob bytes, and each repository's view. */
  public record Usage(long storedBytes, long storedBlobs, List<RepositoryUsage> repositories) {}

  /** What one garbage collection removed, or would remove when {@code dryRun}. */
  public record GcReport(boolean dryRun, int blobsDeleted, long bytesFreed, int linksRemoved,
      int uploadsRemoved, List<String> deletedDigests, long durationMillis) {}

  /**
   * A tag as replication sees it: the manifest it names, when it was last pointed there, and the
   * newest time its writer knew for the tag then ({@code replacedMillis}, 0 = unknown), by which a
   * copy tells a later write that saw it from a concurrent one that did not (a conflict).
   */
  public record TagEntry(String digest, long updatedMillis, long replacedMillis) {}

  /**
   * Everything one node holds of a repository, for replication: tags, manifests (digest to the time
   * it was first stored), linked blobs (digest to size), and the tombstones of deletes (tag or
   * manifest digest to when it was deleted; {@code clearedMillis}: when the whole repository was
   * deleted, 0 = never). Manifest bodies are fetched when missing.
   */
  public record RepoInventory(String repository, Map<String, TagEntry> tags, Map<String, Long> manifests,
      Map<String, Long> blobs, Map<String, Long> deletedTags, Map<String, Long> deletedManifests,
      long clearedMillis) {
    public RepoInventory {
      tags = tags == null ? Map.of() : Map.copyOf(tags);
      manifests = manifests == null ? Map.of() : Map.copyOf(manifests);
      blobs = blobs == null ? Map.of() : Map.copyOf(blobs);
      deletedTags = deletedTags == null ? Map.of() : Map.copyOf(deletedTags);
      deletedManifests = deletedManifests == null ? Map.of() : Map.copyOf(deletedManifests);
    }
  }

  /**
   * What one node records of some references of a repository, with their times, so that a read can
   * merge several nodes' copies by last writer wins ({@code cluster.RefMerge}): tags (all of them, or
   * the one asked for), manifests (the one asked for, or those the tags name), tombstones of tags and
   * manifests, when the whole repository was deleted (0 = never), and whether it holds the
   * repository at all.
   */
  public record RefStates(boolean exists, Map<String, TagEntry> tags, Map<String, Long> manifests,
      Map<String, Long> deletedTags, Map<String, Long> deletedManifests, long clearedMillis) {
    public RefStates {
      tags = tags == null ? Map.of() : Map.copyOf(tags);
      manifests = manifests == null ? Map.of() : Map.copyOf(manifests);
      deletedTags = deletedTags == null ? Map.of() : Map.copyOf(deletedTags);
      deletedManifests = deletedManifests == null ? Map.of() : Map.copyOf(deletedManifests);
    }
  }

  /** A small blob's bytes, carried in one message. */
  public record BlobBytes(String digest, byte[] data) {}

  /**
   * What one replication step copied onto the node that ran it: manifests, blobs, bytes, tags and
   * deletes applied, and the objects it could not copy ({@code failed}, with the first few reasons
   * in {@code problems}). A copy with failures copied everything else.
   */
  public record SyncResult(int manifests, int blobs, long bytes, int tags, int deletes, int failed,
      List<String> problems) {
    public static final SyncResult NOTHING = new SyncResult(0, 0, 0, 0, 0, 0, List.of());
    private static final int MAX_PROBLEMS = 10;

    public SyncResult {
      problems = problems == null ? List.of() : List.copyOf(problems);
    }

    public SyncResult(int manifests, int blobs, long bytes, int tags) {
      this(manifests, blobs, bytes, tags, 0, 0, List.of());
    }

    /** One object that could not be copied. */
    public static SyncResult failure(String problem) {
      return new SyncResult(0, 0, 0, 0, 0, 1, List.of(problem));
    }

    public boolean complete() {
      return failed == 0;
    }

    public SyncResult plus(SyncResult o) {
      List<String> all = problems;
      if (!o.problems.isEmpty() && problems.size() < MAX_PROBLEMS) {
        List<String> merged = new java.util.ArrayList<>(problems);
        for (String p : o.problems) {
          if (merged.size() < MAX_PROBLEMS) {
            merged.add(p);
          }
        }
        all = merged;
      }
      return new SyncResult(manifests + o.manifests, blobs + o.blobs, bytes + o.bytes, tags + o.tags,
          deletes + o.deletes, failed + o.failed, all);
    }
  }

  /** A repository's fingerprint and the version of its state it was computed at (see MetadataStore). */
  public record Fingerprint(long version, long value) {}
}
