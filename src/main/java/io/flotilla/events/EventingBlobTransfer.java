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
 * Blob bytes with events. Wrapped around the node's own blob path it reports blob pushes (where the
 * upload is stored); wrapped around the routed path of the HTTP front end it reports blob pulls
 * (where the response is served, whichever node the bytes come from). Each operation is reported
 * once, and a push is acknowledged only after its event is durable.
 */
public final class EventingBlobTransfer implements BlobTransfer {
  private final BlobTransfer delegate;
  private final EventSink events;
  private final boolean pushes;

  private EventingBlobTransfer(BlobTransfer delegate, EventSink events, boolean pushes) {
    this.delegate = delegate;
    this.events = events;
    this.pushes = pushes;
  }

  /** Reports the pushes stored by {@code local} (this node's own blob path). */
  public static BlobTransfer reportingPushes(BlobTransfer local, EventSink events) {
    return new EventingBlobTransfer(local, events, true);
  }

  /** Reports the pulls served through {@code routed} (the HTTP front end's blob path). */
  public static BlobTransfer reportingPulls(BlobTransfer routed, EventSink events) {
    return new EventingBlobTransfer(routed, events, false);
  }

  @Override
  public Future<Long> append(RequestContext ctx, RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength) {
    return delegate.append(ctx, repository, uploadId, body, rangeStart, expectedLength);
  }

  @Override
  public Future<BlobInfo> finish(RequestContext ctx, RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength) {
    return pushed(ctx, repository, delegate.finish(ctx, repository, uploadId, expected, body, rangeStart, expectedLength));
  }

  @Override
  public Future<BlobInfo> monolithic(RequestContext ctx, RepositoryName repository, Digest expected,
      ReadStream<Buffer> body, long expectedLength) {
    return pushed(ctx, repository, delegate.monolithic(ctx, repository, expected, body, expectedLength));
  }

  private Future<BlobInfo> pushed(RequestContext ctx, RepositoryName repository, Future<BlobInfo> stored) {
    if (!pushes) {
      return stored;
    }
    return stored.compose(info -> events.record(ctx, new Operation("push", repository.value(), info.digest(),
        "application/octet-stream", info.size(), null, null, List.of())).map(info));
  }

  @Override
  public Future<Void> send(RequestContext ctx, RepositoryName repository, BlobInfo blob, long offset, long length,
      HttpServerResponse response) {
    Future<Void> sent = delegate.send(ctx, repository, blob, offset, length, response);
    if (pushes) {
      return sent;
    }
    return sent.onSuccess(v -> events.record(ctx, new Operation("pull", repository.value(), blob.digest(),
        "application/octet-stream", length, null, null, List.of())));
  }
}
