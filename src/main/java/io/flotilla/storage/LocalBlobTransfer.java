package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;

/**
 * Blob bytes on this node: uploads through {@link BlobUploads}, downloads by zero-copy {@code sendFile}.
 * Finished uploads are reported to the event sink as pushes once the blob is durable.
 */
public final class LocalBlobTransfer implements BlobTransfer {
  private final BlobUploads uploads;
  private final BlobStore files;
  private final EventSink events;

  public LocalBlobTransfer(BlobUploads uploads, BlobStore files, EventSink events) {
    this.uploads = uploads;
    this.files = files;
    this.events = events;
  }

  private java.util.function.Function<BlobInfo, Future<Void>> pushEvent(RequestContext ctx, RepositoryName repository) {
    return info -> events.record(ctx, new EventSink.Operation("push", repository.value(), info.digest(),
        "application/octet-stream", info.size(), null, null, java.util.List.of()));
  }

  @Override
  public Future<Long> append(RequestContext ctx, RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength) {
    return uploads.append(repository, uploadId, body, rangeStart, expectedLength);
  }

  @Override
  public Future<BlobInfo> finish(RequestContext ctx, RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength) {
    return uploads.finish(repository, uploadId, expected, body, rangeStart, expectedLength, pushEvent(ctx, repository));
  }

  @Override
  public Future<BlobInfo> monolithic(RequestContext ctx, RepositoryName repository, Digest expected,
      ReadStream<Buffer> body, long expectedLength) {
    return uploads.monolithic(repository, expected, body, expectedLength, pushEvent(ctx, repository));
  }

  @Override
  public Future<Void> send(RequestContext ctx, RepositoryName repository, BlobInfo blob, long offset, long length, HttpServerResponse response) {
    return response.sendFile(files.path(Digest.parse(blob.digest())).toString(), offset, length);
  }
}
