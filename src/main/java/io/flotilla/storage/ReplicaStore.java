package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.StorageTypes.RefStates;
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

  private final boolean deletesEnabled;
  private final long settleMillis;

  /**
   * @param deletesEnabled whether clients may delete (a client's delete applied here is refused otherwise)
   * @param settleMillis how long an unreferenced blob link counts as a push in flight (the GC grace)
   */
  public ReplicaStore(Vertx vertx, MetadataStore metadata, BlobStore blobs, boolean deletesEnabled, long settleMillis) {
    this.vertx = vertx;
    this.metadata = metadata;
    this.blobs = blobs;
    this.deletesEnabled = deletesEnabled;
    this.settleMillis = settleMillis;
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

  /** Every repository held here with its fingerprint, in name order (one scan); blocking. */
  public Map<String, StorageTypes.Fingerprint> heldFingerprints() {
    Map<String, StorageTypes.Fingerprint> out = new LinkedHashMap<>();
    metadata.fingerprintsOfAll().forEach((n, f) -> out.put(n.value(), f));
    return out;
  }

  /** See {@link MetadataStore#fingerprintAt}. */
  public StorageTypes.Fingerprint fingerprintAt(String repository) {
    return metadata.fingerprintAt(RepositoryName.of(repository));
  }

  /** Fingerprints of some repositories (0 for those not held here). */
  public Map<String, Long> fingerprints(List<String> repositories) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String r : repositories) {
      out.put(r, metadata.fingerprint(RepositoryName.of(r)));
    }
    return out;
  }

  /**
   * Tags, manifests (with the time each was first stored), linked blobs and tombstones of a
   * repository here (all empty when it is not held here).
   */
  public RepoInventory inventory(String repository) {
    RepositoryName name = RepositoryName.of(repository);
    Map<String, TagEntry> tags = new LinkedHashMap<>();
    metadata.tagEntries(name).forEach((tag, e) -> tags.put(tag, new TagEntry(e.getKey().toString(), e.getValue(), metadata.tagReplaced(name, new Tag(tag)))));
    Map<String, Long> manifests = new LinkedHashMap<>();
    metadata.manifests(name).forEach((d, m) -> manifests.put(d.toString(), m.createdMillis()));
    Map<String, Long> linked = new LinkedHashMap<>();
    metadata.blobs(name).forEach((d, sizeAndTime) -> linked.put(d.toString(), sizeAndTime[0]));
    MetadataStore.Tombstones tombs = metadata.tombstones(name);
    Map<String, Long> deletedManifests = new LinkedHashMap<>();
    tombs.manifests().forEach((d, t) -> deletedManifests.put(d.toString(), t));
    return new RepoInventory(name.value(), tags, manifests, linked, tombs.tags(), deletedManifests,
        tombs.clearedMillis());
  }

  /**
   * This node's record of one tag or manifest ({@code reference}), or of every tag ({@code reference}
   * null), with the manifests those tags name, their times and the tombstones that bear on them.
   */
  public RefStates refStates(String repository, String reference) {
    RepositoryName name = RepositoryName.of(repository);
    Reference ref = reference == null ? null : Reference.parse(reference);
    Map<String, TagEntry> tags = new LinkedHashMap<>();
    Map<String, Long> manifests = new LinkedHashMap<>();
    Map<String, Long> deletedTags = new LinkedHashMap<>();
    Map<String, Long> deletedManifests = new LinkedHashMap<>();
    MetadataStore.Tombstones tombs = metadata.tombstones(name);
    if (ref != null && ref.isDigest()) {
      ManifestMeta m = metadata.manifest(name, ref.digest());
      if (m != null) {
        manifests.put(ref.digest().toString(), m.createdMillis());
      }
      Long tomb = tombs.manifests().get(ref.digest());
      if (tomb != null) {
        deletedManifests.put(ref.digest().toString(), tomb);
      }
    } else {
      String only = ref == null ? null : ref.tag().value();
      metadata.tagEntries(name).forEach((tag, e) -> {
        if (only == null || only.equals(tag)) {
          tags.put(tag, new TagEntry(e.getKey().toString(), e.getValue(), metadata.tagReplaced(name, new Tag(tag))));
        }
      });
      tombs.tags().forEach((tag, t) -> {
        if (only == null || only.equals(tag)) {
          deletedTags.put(tag, t);
        }
      });
    }
    return new RefStates(metadata.exists(name), tags, manifests, deletedTags, deletedManifests, tombs.clearedMillis());
  }

  /**
   * Whether a delete recorded here is newer than a manifest created at {@code createdMillis}
   * elsewhere (so copying that manifest would bring back what was deleted).
   */
  public boolean deletedSince(String repository, String digest, long createdMillis) {
    MetadataStore.Tombstones tombs = metadata.tombstones(RepositoryName.of(repository));
    return Math.max(tombs.clearedMillis(), tombs.manifests().getOrDefault(Digest.parse(digest), 0L)) >= createdMillis;
  }

  /**
   * Applies the deletes another node recorded (last writer wins: what was set here after a delete
   * stays). Returns how many entries went here.
   */
  public Future<Integer> applyTombstones(RepoInventory source) {
    return blocking(() -> {
      RepositoryName name = RepositoryName.of(source.repository());
      int applied = 0;
      if (source.clearedMillis() > 0 && metadata.clearRepository(name, source.clearedMillis(), false)) {
        applied++;
      }
      for (Map.Entry<String, Long> e : source.deletedManifests().entrySet()) {
        if (metadata.deleteManifest(name, Digest.parse(e.getKey()), e.getValue(), false)) {
          applied++;
        }
      }
      for (Map.Entry<String, Long> e : source.deletedTags().entrySet()) {
        if (metadata.deleteTag(name, new Tag(e.getKey()), e.getValue(), false)) {
          applied++;
        }
      }
      return applied;
    });
  }

  /**
   * Applies one delete stamped {@code millis}: of a tag or manifest ({@code reference}), or of the
   * whole repository ({@code reference} null); see {@link MetadataStore#deleteManifest(RepositoryName,
   * Digest, long, boolean)}. A node that does not {@code own} the repository applies it only to a
   * copy it holds; with {@code checkOnly} nothing changes (DENIED when an index lists the manifest).
   * Returns whether this node held what was deleted.
   */
  public Future<Boolean> applyDelete(String repository, String reference, long millis, boolean fresh, boolean owner,
      boolean checkOnly) {
    return blocking(() -> {
      if (fresh && !deletesEnabled) {
        throw OciError.UNSUPPORTED.with("deletes are disabled on this registry");
      }
      RepositoryName name = RepositoryName.of(repository);
      if (checkOnly) {
        if (reference == null) {
          return metadata.exists(name);
        }
        Reference ref = Reference.parse(reference);
        if (ref.isDigest()) {
          metadata.checkDeletable(name, ref.digest());
          return metadata.manifest(name, ref.digest()) != null;
        }
        return metadata.tag(name, ref.tag()) != null;
      }
      if (!owner && !metadata.holds(name)) {
        return false;
      }
      if (reference == null) {
        return metadata.clearRepository(name, millis, fresh);
      }
      Reference ref = Reference.parse(reference);
      return ref.isDigest() ? metadata.deleteManifest(name, ref.digest(), millis, fresh)
          : metadata.deleteTag(name, ref.tag(), millis, fresh);
    });
  }

  /** Whether this node holds anything of any repository (a node with an empty disk has nothing stale). */
  public boolean holdsAnything() {
    for (RepositoryName n : metadata.repositories()) {
      if (metadata.exists(n)) {
        return true;
      }
    }
    return false;
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
  public Future<MetadataStore.TagImport> importTag(String repository, String tag, String digest, long updatedMillis,
      long replaced) {
    return blocking(() -> metadata.importTag(RepositoryName.of(repository), new Tag(tag), Digest.parse(digest),
        updatedMillis, replaced));
  }

  /**
   * Removes a repository that now lives on other nodes (blob files are left to GC), only if it did
   * not change since {@code version} and no upload is settling in it; see
   * {@link MetadataStore#dropIfUnchanged}. Returns whether it is gone.
   */
  public Future<Boolean> dropIfUnchanged(String repository, long version) {
    return dropIfUnchanged(repository, version, java.util.Set.of());
  }

  /**
   * As {@link #dropIfUnchanged(String, long)}, where the uploads in {@code handedOver} (digests) do
   * not hold the drop back: they were copied to the new owners.
   */
  public Future<Boolean> dropIfUnchanged(String repository, long version, java.util.Set<String> handedOver) {
    java.util.Set<Digest> digests = new java.util.HashSet<>();
    handedOver.forEach(d -> digests.add(Digest.parse(d)));
    return blocking(() -> metadata.dropIfUnchanged(RepositoryName.of(repository), version,
        System.currentTimeMillis() - settleMillis, digests));
  }

  /**
   * Uploads settling in a repository here: blobs linked less than the grace period ago that no
   * manifest references yet (digest to size). A push in flight will name them in its manifest.
   */
  public Future<Map<String, Long>> settlingUploads(String repository) {
    return blocking(() -> {
      Map<String, Long> out = new LinkedHashMap<>();
      metadata.youngUnreferencedLinks(RepositoryName.of(repository), System.currentTimeMillis() - settleMillis)
          .forEach((d, size) -> out.put(d.toString(), size));
      return out;
    });
  }

  private <T> Future<T> blocking(Callable<T> work) {
    return vertx.executeBlocking(work, false);
  }
}
