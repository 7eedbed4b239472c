package io.flotilla.cluster;

import io.flotilla.storage.AsyncLimiter;
import io.flotilla.bus.Addresses;
import io.flotilla.bus.DataChannelClient;
import io.flotilla.bus.Bus;
import io.flotilla.bus.BusRegistryClient;
import io.flotilla.bus.Messages.GetBlobBytes;
import io.flotilla.bus.Messages.GetInventory;
import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.ManifestStorage;
import io.flotilla.storage.ReplicaStore;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.RepoInventory;
import io.flotilla.storage.StorageTypes.SyncResult;
import io.flotilla.storage.StorageTypes.TagEntry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Copies repository content from another node onto this one, pulling only what is missing here.
 * Runs on the node that receives the copy, so every byte is verified where it is stored: blobs
 * cross the data channel ({@link DataChannelClient}) into the ordinary verified upload path, manifests
 * go through the ordinary manifest PUT (validation, references present), blobs and child manifests
 * before the manifests that name them. Idempotent: running a copy twice copies nothing the second
 * time. Concurrent copies of the same blob into the same repository share one transfer, and at most
 * {@link #PARALLEL_BLOBS} blob transfers run at once on a node.
 */
public final class Replicator {
  /** Blob transfers a node runs at once for replication. */
  public static final int PARALLEL_BLOBS = 4;
  /** Blobs up to this size travel in one bus message instead of over the data channel. */
  public static final long SMALL_BLOB = 1024 * 1024;

  private final Vertx vertx;
  private final String localNode;
  private final ReplicaStore store;
  private final ManifestStorage manifests;
  private final BlobTransfer bytes;
  private final DataChannelClient data;
  private final AsyncLimiter transfers = new AsyncLimiter(PARALLEL_BLOBS);
  private final Map<String, Future<SyncResult>> inFlight = new ConcurrentHashMap<>();
  private final TagConflicts conflicts;

  /**
   * @param manifests this node's own storage (manifest writes land here, validated)
   * @param bytes this node's own blob path (verified writes)
   * @param data this node's client of the other nodes' data channels (blobs are pulled over it)
   * @param conflicts where tag conflicts found while copies merge are reported
   */
  public Replicator(Vertx vertx, String localNode, ReplicaStore store, ManifestStorage manifests, BlobTransfer bytes,
      DataChannelClient data, TagConflicts conflicts) {
    this.data = data;
    this.conflicts = conflicts;
    this.vertx = vertx;
    this.localNode = localNode;
    this.store = store;
    this.manifests = manifests;
    this.bytes = bytes;
  }

  /** A small stored blob's bytes (see {@link #SMALL_BLOB}). */
  public Future<StorageTypes.BlobBytes> blobBytes(String digest) {
    return store.readSmall(digest, SMALL_BLOB).map(data -> new StorageTypes.BlobBytes(digest, data));
  }

  /** This node's record of a tag, a manifest or every tag (see {@link ReplicaStore#refStates}). */
  public io.flotilla.storage.StorageTypes.RefStates refStates(String repository, String reference) {
    return store.refStates(repository, reference);
  }

  /** What this node holds of a repository. */
  public RepoInventory inventory(String repository) {
    return store.inventory(repository);
  }

  /**
   * Makes this node's copy of a repository agree with {@code source}'s: first the deletes recorded
   * there (last writer wins, so nothing set here later is lost), then every manifest there that this
   * node lacks and has not deleted since (with the blobs it references, children first), then tags
   * that are missing here or were set later there. Blob links that no manifest references are not
   * copied (they are uploads in flight or garbage). One object that cannot be copied does not stop
   * the rest: it is counted in {@link SyncResult#failed} and described in its problems.
   */
  public Future<SyncResult> syncRepository(RequestContext caller, String repository, String source) {
    RequestContext ctx = internal(caller);
    if (source.equals(localNode)) {
      return Future.succeededFuture(SyncResult.NOTHING);
    }
    return Bus.request(vertx, Addresses.REPLICA_INVENTORY, source, false, new GetInventory(ctx, repository))
        .compose(inv -> store.applyTombstones(inv).compose(deleted -> {
          Future<SyncResult> chain = Future.succeededFuture(new SyncResult(0, 0, 0, 0, deleted, 0, List.of()));
          for (Map.Entry<String, Long> m : inv.manifests().entrySet()) {
            chain = chain.compose(acc -> copyManifest(ctx, repository, source, m.getKey(), m.getValue(), inv.manifests())
                .map(acc::plus));
          }
          for (Map.Entry<String, TagEntry> tag : inv.tags().entrySet()) {
            chain = chain.compose(acc -> copyTag(repository, source, tag.getKey(), tag.getValue()).map(acc::plus));
          }
          return chain;
        }));
  }

  /** One manifest of a sync; a failure is reported in the result, not raised. */
  private Future<SyncResult> copyManifest(RequestContext ctx, String repository, String source, String digest,
      long createdMillis, Map<String, Long> sourceManifests) {
    if (store.hasManifest(repository, digest) || store.deletedSince(repository, digest, createdMillis)) {
      return Future.succeededFuture(SyncResult.NOTHING);
    }
    return ensureManifest(ctx, repository, source, digest, createdMillis, sourceManifests, 0)
        .recover(err -> Future.succeededFuture(SyncResult.failure("manifest " + digest + ": " + err.getMessage())));
  }

  /** One tag of a sync: last writer wins; a tag whose manifest is not here (deleted, or not copied) is left. */
  private Future<SyncResult> copyTag(String repository, String source, String tag, TagEntry entry) {
    if (!store.hasManifest(repository, entry.digest())) {
      return Future.succeededFuture(SyncResult.NOTHING);
    }
    return store.importTag(repository, tag, entry.digest(), entry.updatedMillis(), entry.replacedMillis())
        .map(imported -> {
          if (imported.conflict()) {
            conflicts.report(repository, tag, imported.lost(), imported.lostMillis(), entry.digest(),
                entry.updatedMillis(), source);
          }
          return imported.changed() ? new SyncResult(0, 0, 0, 1) : SyncResult.NOTHING;
        })
        .recover(err -> Future.succeededFuture(SyncResult.failure("tag " + tag + ": " + err.getMessage())));
  }

  /**
   * Copies one manifest (and what it references) from {@code source}; when {@code tag} is given it
   * is pointed at the manifest with the time the primary set it (this is the replica side of a push).
   *
   * @param createdMillis when the primary stored the manifest (0: now)
   * @param tagMillis when the primary set the tag (0: now)
   * @param tagReplaced the newest time the primary knew for the tag when it set it
   */
  public Future<SyncResult> pullManifest(RequestContext caller, String repository, String source, String digest,
      String tag, long createdMillis, long tagMillis, long tagReplaced) {
    RequestContext ctx = internal(caller);
    long created = createdMillis > 0 ? createdMillis : System.currentTimeMillis();
    return ensureManifest(ctx, repository, source, digest, created, null, 0).compose(result -> {
      if (tag == null || !store.hasManifest(repository, digest)) {
        return Future.succeededFuture(result);
      }
      long setAt = tagMillis > 0 ? tagMillis : System.currentTimeMillis();
      return store.importTag(repository, tag, digest, setAt, tagReplaced).map(imported -> {
        if (imported.conflict()) {
          conflicts.report(repository, tag, imported.lost(), imported.lostMillis(), digest, setAt, source);
        }
        return imported.changed() ? result.plus(new SyncResult(0, 0, 0, 1)) : result;
      });
    });
  }

  /** Copies a blob that {@code source} holds into this node's {@code repository} (a cross-node mount). */
  public Future<SyncResult> pullBlob(RequestContext caller, String repository, String source, String digest, long size) {
    return ensureBlob(internal(caller), repository, source, digest, size);
  }

  /**
   * Copies are the node's own work, not the client's: they run as internal requests (no events, so
   * a push or pull is reported once, by the node that served it), keeping the caller's request id.
   */
  private static RequestContext internal(RequestContext caller) {
    return RequestContext.internal(caller.requestId());
  }

  /**
   * Copies a manifest and, first, the child manifests and blobs it references. With the source's
   * manifest list ({@code sourceManifests}, from a sync), a child the source no longer holds is left
   * out and the index is copied as it is there (faithfully, dangling child included).
   */
  private Future<SyncResult> ensureManifest(RequestContext ctx, String repository, String source, String digest,
      long createdMillis, Map<String, Long> sourceManifests, int depth) {
    if (store.hasManifest(repository, digest)) {
      return Future.succeededFuture(SyncResult.NOTHING);
    }
    if (depth > 8) {
      return Future.failedFuture(new IllegalStateException("manifests nest deeper than 8 levels in " + repository));
    }
    return new BusRegistryClient(vertx, source, false).getManifest(ctx, repository, digest).compose(content -> {
      Manifest m = ManifestParser.parse(content.body(), content.mediaType());
      Future<SyncResult> chain = Future.succeededFuture(SyncResult.NOTHING);
      for (Descriptor child : m.manifests()) {
        String childDigest = child.digest().toString();
        if (sourceManifests != null && !sourceManifests.containsKey(childDigest)) {
          continue; // not held by the source either: copy the index as it is there
        }
        long childCreated = sourceManifests == null ? createdMillis : sourceManifests.get(childDigest);
        if (store.deletedSince(repository, childDigest, childCreated)) {
          continue;
        }
        chain = chain.compose(acc -> ensureManifest(ctx, repository, source, childDigest, childCreated, sourceManifests,
            depth + 1).map(acc::plus));
      }
      for (Descriptor b : m.storedBlobs()) {
        chain = chain.compose(acc -> ensureBlob(ctx, repository, source, b.digest().toString(), b.size()).map(acc::plus));
      }
      return chain.compose(acc -> store(ctx, repository, content, createdMillis).map(v -> acc.plus(new SyncResult(1, 0,
          content.body().length, 0))));
    });
  }

  private Future<Void> store(RequestContext ctx, String repository, ManifestContent content, long createdMillis) {
    return manifests.putManifest(ctx, new PutManifest(repository, content.digest(), content.mediaType(), content.body(),
        createdMillis)).mapEmpty();
  }

  /** Applies a delete on this node (see {@link ReplicaStore#applyDelete}); returns whether it held it. */
  public Future<Boolean> applyDelete(String repository, String reference, long millis, boolean fresh, boolean owner,
      boolean checkOnly) {
    return store.applyDelete(repository, reference, millis, fresh, owner, checkOnly);
  }

  /** This node's fingerprints of some repositories. */
  public Map<String, Long> fingerprints(List<String> repositories) {
    return store.fingerprints(repositories);
  }

  private Future<SyncResult> ensureBlob(RequestContext ctx, String repository, String source, String digest,
      long size) {
    if (store.hasBlob(repository, digest)) {
      return Future.succeededFuture(SyncResult.NOTHING);
    }
    String key = repository + "@" + digest;
    AtomicReference<Future<SyncResult>> mine = new AtomicReference<>();
    Future<SyncResult> shared = inFlight.computeIfAbsent(key, k -> {
      mine.set(store.linkIfStored(repository, digest, size).compose(linked -> linked
          ? Future.succeededFuture(SyncResult.NOTHING)
          : transfers.run(() -> fetch(ctx, repository, source, digest, size))));
      return mine.get();
    });
    if (mine.get() == null) {
      return shared.map(r -> SyncResult.NOTHING); // another copy is fetching it: count the bytes once
    }
    shared.onComplete(ar -> inFlight.remove(key, shared));
    return shared;
  }

  private Future<SyncResult> fetch(RequestContext ctx, String repository, String source, String digest, long size) {
    if (size >= 0 && size <= SMALL_BLOB) {
      return Bus.request(vertx, Addresses.REPLICA_BLOB_BYTES, source, false, new GetBlobBytes(ctx, digest))
          .compose(b -> store.storeSmall(repository, digest, b.data()).map(v -> new SyncResult(0, 1, b.data().length, 0)));
    }
    Digest expected = Digest.parse(digest);
    return data.open(source, OpenRead.whole(ctx, digest))
        .compose(stream -> bytes.monolithic(ctx, RepositoryName.of(repository), expected, stream, stream.length())
            .onFailure(stream::abort)) // a write that gave up early closes the connection now
        .map(info -> new SyncResult(0, 1, info.size(), 0));
  }

}
