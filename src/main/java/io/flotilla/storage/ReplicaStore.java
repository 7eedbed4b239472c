package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.StorageTypes.RepoInventory;
import io.flotilla.storage.StorageTypes.TagEntry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * This node's storage as replication sees it: what a repository holds here ({@link #inventory}),
 * the checks that let a copy skip what is already present, and the few writes only replication
 * makes (linking a blob file that is already stored, last-writer-wins tags, dropping a repository
 * that moved away). Manifest and blob bytes themselves arrive through the ordinary write paths
 * (manifest PUT, verified blob upload), so a replica validates exactly what a push would.
 */
public final class ReplicaStore {
  private final Vertx vertx;
  private final MetadataStore metadata;
  private final BlobStore blobs;

  public ReplicaStore(Vertx vertx, MetadataStore metadata, BlobStore blobs) {
    this.vertx = vertx;
    this.metadata = metadata;
    this.blobs = blobs;
  }

  /** Every repository held here, in name order. */
  public List<String> repositories() {
    List<String> out = new ArrayList<>();
    for (RepositoryName n : metadata.repositories()) {
      out.add(n.value());
    }
    return out;
  }

  /** See {@link MetadataStore#fingerprint}. */
  public long fingerprint(String repository) {
    return metadata.fingerprint(RepositoryName.of(repository));
  }

  /** Tags, manifests and linked blobs of a repository here (all empty when it is not held here). */
  public RepoInventory inventory(String repository) {
    RepositoryName name = RepositoryName.of(repository);
    Map<String, TagEntry> tags = new LinkedHashMap<>();
    metadata.tagEntries(name).forEach((tag, e) -> tags.put(tag, new TagEntry(e.getKey().toString(), e.getValue())));
    List<String> manifests = new ArrayList<>();
    metadata.manifests(name).keySet().forEach(d -> manifests.add(d.toString()));
    Map<String, Long> linked = new LinkedHashMap<>();
    metadata.blobs(name).forEach((d, sizeAndTime) -> linked.put(d.toString(), sizeAndTime[0]));
    return new RepoInventory(name.value(), tags, manifests, linked);
  }

  public boolean hasManifest(String repository, String digest) {
    return metadata.manifest(RepositoryName.of(repository), Digest.parse(digest)) != null;
  }

  public boolean hasBlob(String repository, String digest) {
    return metadata.blobSize(RepositoryName.of(repository), Digest.parse(digest)) >= 0;
  }

  /**
   * Links a blob into a repository when its file is already stored on this node (from another
   * repository); false when the bytes must be fetched. The link records the stored file's size;
   * {@code size} (what the caller read in a manifest) is not trusted, since a wrong one would make
   * this node serve a wrong Content-Length and reject the manifest's PUT for good.
   */
  public Future<Boolean> linkIfStored(String repository, String digest, long size) {
    return blocking(() -> {
      RepositoryName name = RepositoryName.of(repository);
      Digest d = Digest.parse(digest);
      return blobs.linkIfStored(d, stored -> metadata.linkBlob(name, d, stored));
    });
  }

  /**
   * A stored blob's bytes, for blobs of at most {@code maxBytes} (BLOB_UNKNOWN when it is not
   * stored here, SIZE_INVALID when it is larger).
   */
  public Future<byte[]> readSmall(String digest, long maxBytes) {
    return blocking(() -> {
      Digest d = Digest.parse(digest);
      java.nio.file.Path file = blobs.path(d);
      long size;
      try {
        size = java.nio.file.Files.size(file);
      } catch (java.nio.file.NoSuchFileException e) {
        throw OciError.BLOB_UNKNOWN.with("blob " + digest + " is not stored here");
      }
      if (size > maxBytes) {
        throw OciError.SIZE_INVALID.with("blob " + digest + " is larger than " + maxBytes + " bytes");
      }
      return blobs.read(d);
    });
  }

  /** Stores a small blob received whole, after checking its digest, and links it into a repository. */
  public Future<Void> storeSmall(String repository, String digest, byte[] data) {
    return blocking(() -> {
      RepositoryName name = RepositoryName.of(repository);
      Digest d = Digest.parse(digest);
      Digest actual = Digest.of(d.algorithm(), data);
      if (!actual.equals(d)) {
        throw OciError.DIGEST_INVALID.with("received bytes hash to " + actual + ", not " + d);
      }
      blobs.put(d, data, stored -> metadata.linkBlob(name, d, stored));
      return null;
    });
  }

  /** See {@link MetadataStore#importTag}; the manifest must already be recorded here. */
  public Future<Boolean> importTag(String repository, String tag, String digest, long updatedMillis) {
    return blocking(() -> metadata.importTag(RepositoryName.of(repository), new Tag(tag), Digest.parse(digest),
        updatedMillis));
  }

  /** Removes a repository that now lives on other nodes (blob files are left to GC). */
  public Future<Void> drop(String repository) {
    return blocking(() -> {
      metadata.dropRepository(RepositoryName.of(repository));
      return null;
    });
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }
}
