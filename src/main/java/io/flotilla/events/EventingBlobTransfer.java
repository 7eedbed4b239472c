package io.flotilla.events;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;
import java.util.List;

/**
 * Blob bytes with pull events: wrapped around the routed blob path of the HTTP front end, it reports
 * each blob pull once, where the response is served (whichever node the bytes come from). Blob pushes
 * are reported by the node's own blob path ({@code LocalBlobTransfer}), which writes their events
 * ahead while it syncs the blob.
 */
public final class EventingBlobTransfer implements BlobTransfer {
  private final BlobTransfer delegate;
  private final EventSink events;

  private EventingBlobTransfer(BlobTransfer delegate, EventSink events) {
    this.delegate = delegate;
    this.events = events;
  }

  /** Reports the pulls served through {@code routed} (the HTTP front end's blob path). */
  public static BlobTransfer reportingPulls(BlobTransfer routed, EventSink events) {
    return new EventingBlobTransfer(routed, events);
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
    return delegate.send(ctx, repository, blob, offset, length, response).onSuccess(v -> events.record(ctx,
        new Operation("pull", repository.value(), blob.digest(), "application/octet-stream", length, null, null,
            List.of())));
  }
}
