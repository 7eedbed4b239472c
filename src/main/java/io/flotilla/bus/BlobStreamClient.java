package io.flotilla.bus;

import io.flotilla.bus.StreamMessages.OpenRead;
import io.flotilla.bus.StreamMessages.OpenWrite;
import io.flotilla.bus.StreamMessages.ReadStreamRequest;
import io.flotilla.bus.StreamMessages.WriteStreamRequest;
import io.flotilla.oci.OciError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * Opens chunked bus streams to the {@link BlobStreamServer} of another node (or of this one): a
 * {@link BusReadStream} of a blob's bytes, or a {@link BusWriteStream} into a server-side write
 * handler. Stateless; the streams it returns own their addresses.
 *
 * <p>Threads: callable from any thread; the stream is created on, and confined to, the caller's
 * Vert.x context (or a new event-loop context when called from outside Vert.x), where the returned
 * future also completes.
 *
 * <p>Failures: the open request has the timeout of its {@link Address}; the server's refusal
 * comes back as the same {@link io.flotilla.oci.OciException} (BLOB_UNKNOWN, RANGE_INVALID,
 * UNSUPPORTED, ...), an unreachable node as UNAVAILABLE. A failed open leaves nothing registered.
 * An open stream fails with UNAVAILABLE as soon as its node leaves the cluster ({@link PeerCalls}).
 */
public final class BlobStreamClient {
  private BlobStreamClient() {}

  /** Opens a read of a blob on {@code nodeId} with {@link StreamOptions#DEFAULTS}. */
  public static Future<BusReadStream> open(Vertx vertx, String nodeId, OpenRead request) {
    return open(vertx, nodeId, request, StreamOptions.DEFAULTS);
  }

  /**
   * Opens a read of a blob on {@code nodeId}. The returned stream has its {@link BusReadStream#length()}
   * and buffers up to {@code options.window()} chunks of at most {@code options.chunkSize()} bytes
   * until a handler is set (or it is piped).
   */
  public static Future<BusReadStream> open(Vertx vertx, String nodeId, OpenRead request, StreamOptions options) {
    if (request.offset() < 0 || request.length() < -1) {
      return Future.failedFuture(OciError.RANGE_INVALID.with("invalid range " + request.offset() + "+" + request.length()));
    }
    return onContext(vertx, () -> {
      BusReadStream stream = new BusReadStream(vertx, options, true);
      Context context = Vertx.currentContext();
      return stream.registered()
          .compose(v -> Bus.request(vertx, Addresses.BLOB_READ, nodeId, false,
              new ReadStreamRequest(request, stream.address(), options.window(), options.chunkSize())))
          .transform(ar -> {
            if (ar.failed()) {
              return stream.cancel().transform(x -> Future.failedFuture(ar.cause()));
            }
            stream.attach(ar.result().address(), ar.result().length());
            PeerCalls.of(vertx).watch(nodeId, context, stream.ended(), stream::peerGone);
            return stream.ended().failed() ? Future.failedFuture(stream.ended().cause()) : Future.succeededFuture(stream);
          });
    });
  }

  /** Opens a write into the handler for {@code request.purpose()} on {@code nodeId}, with defaults. */
  public static <R> Future<BusWriteStream<R>> openWrite(Vertx vertx, String nodeId, OpenWrite request,
      Class<R> resultType) {
    return openWrite(vertx, nodeId, request, resultType, StreamOptions.DEFAULTS);
  }

  /**
   * Opens a write into the handler for {@code request.purpose()} on {@code nodeId}. Write to the
   * stream honouring {@code writeQueueFull()} (or pipe into it); {@code end()} completes once the
   * handler's result of type {@code R} (a record with a registered {@link RecordCodec}, or
   * {@link Messages.Done} for handlers without a result) came back, available from {@code result()}.
   * The receiver's window and idle timeout are the server's; {@code options} sets the chunk size
   * asked for and this side's timeouts.
   */
  public static <R> Future<BusWriteStream<R>> openWrite(Vertx vertx, String nodeId, OpenWrite request,
      Class<R> resultType, StreamOptions options) {
    return onContext(vertx, () -> {
      BusWriteStream<R> stream = new BusWriteStream<>(vertx, options, resultType);
      Context context = Vertx.currentContext();
      return stream.registered()
          .compose(v -> Bus.request(vertx, Addresses.BLOB_WRITE, nodeId, false,
              new WriteStreamRequest(request, stream.controlAddress(), options.chunkSize())))
          .transform(ar -> {
            if (ar.failed()) {
              stream.cancel();
              return Future.failedFuture(ar.cause());
            }
            stream.attach(ar.result().address(), ar.result().credit(), ar.result().chunkSize());
            PeerCalls.of(vertx).watch(nodeId, context, stream.outcome(), stream::peerGone);
            return Future.succeededFuture(stream);
          });
    });
  }

  /** Runs {@code action} on the caller's context, or on a new one when called from outside Vert.x. */
  static <T> Future<T> onContext(Vertx vertx, Supplier<Future<T>> action) {
    Context current = Vertx.currentContext();
    if (current != null && current.owner() == vertx) {
      return action.get();
    }
    Context context = vertx.getOrCreateContext();
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }
}
