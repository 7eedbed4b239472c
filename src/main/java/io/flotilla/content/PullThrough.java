package io.flotilla.content;

import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.RegistryStorage;
import io.vertx.core.Vertx;

/**
 * On-demand pull-through (remotes with {@code policy: onDemand}) for the HTTP front end of a node:
 * the storage API and blob byte path the v2 API is given, wrapped so that content a repository lacks
 * is fetched from its upstream on first pull, served, and stored through the node's ordinary write
 * paths (see docs/content.md, "Pull-through"). The wrapped storage and byte path are the node's
 * routed ones; the sources are read on every miss.
 */
public final class PullThrough {
  /** How long an opened upstream blob stream waits for the send of the request that opened it. */
  static final long CLAIM_MILLIS = 2_000;
  /** Blob copies that stores of manifests run at once on a node (clients' own pulls are not limited). */
  static final int BACKGROUND_COPIES = 4;

  private final PullThroughStorage storage;
  private final PullThroughTransfer bytes;

  /**
   * @param storage the node's routed storage API (what the HTTP layer would get without pull-through)
   * @param bytes the node's routed blob byte path (reporting pulls)
   * @param events where manifest and blob pulls served from upstream are reported
   */
  public PullThrough(Vertx vertx, PullThroughSources sources, RegistryStorage storage, BlobTransfer bytes,
      EventSink events) {
    PullThroughBlobs blobs = new PullThroughBlobs(vertx, storage, bytes, events, CLAIM_MILLIS, BACKGROUND_COPIES);
    this.storage = new PullThroughStorage(storage, sources, blobs, new PullThroughManifests(storage, blobs), events);
    this.bytes = new PullThroughTransfer(bytes, blobs);
  }

  /** The storage API with pull-through. */
  public RegistryStorage storage() {
    return storage;
  }

  /** The blob byte path with pull-through. */
  public BlobTransfer bytes() {
    return bytes;
  }
}
