package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;

/**
 * The blob byte path of the HTTP front end with pull-through: a send of a blob that
 * {@link PullThroughStorage#statBlob} answered from upstream ({@link PullThroughBlobs#UPSTREAM})
 * streams the upstream bytes to the client while they are stored (or, when another request's flight
 * has it, serves the stored blob once that flight stored it). Everything else is the delegate's.
 * Called on event loops; a send that fails after the first bytes leaves the response for the HTTP
 * layer to reset (the client never sees a clean end of a blob cut short).
 */
public final class PullThroughTransfer implements BlobTransfer {
  private final BlobTransfer delegate;
  private final PullThroughBlobs blobs;

  PullThroughTransfer(BlobTransfer delegate, PullThroughBlobs blobs) {
    this.delegate = delegate;
    this.blobs = blobs;
  }

  @Override
  public Future<Long> append(RequestContext ctx, RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength) {
    return delegate.append(ctx, repository, uploadId, body, rangeStart, expectedLength);
  }

  @Override
  public Future<BlobInfo> finish(RequestContext ctx, RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength) {
    return delegate.finish(ctx, repository, uploadId, expected, body, rangeStart, expectedLength);
  }

  @Override
  public Future<BlobInfo> monolithic(RequestContext ctx, RepositoryName repository, Digest expected,
      ReadStream<Buffer> body, long expectedLength) {
    return delegate.monolithic(ctx, repository, expected, body, expectedLength);
  }

  @Override
  public Future<Void> send(RequestContext ctx, RepositoryName repository, BlobInfo blob, long offset, long length,
      HttpServerResponse response) {
    return PullThroughBlobs.UPSTREAM.equals(blob.node())
        ? blobs.send(ctx, repository, blob, offset, length, response)
        : delegate.send(ctx, repository, blob, offset, length, response);
  }
}
