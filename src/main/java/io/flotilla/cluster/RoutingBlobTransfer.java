package io.flotilla.cluster;

import io.flotilla.bus.DataChannelClient;
import io.flotilla.bus.BlobTransferVerticle;
import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.bus.DataMessages.OpenWrite;
import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.BlobUploads.RangeMismatch;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;
import java.util.Map;

/**
 * Blob bytes on a cluster: upload bodies go to the node that holds the session (named in the
 * upload id) or, for whole-blob uploads, to the repository's primary owner; downloads come from the
 * node a stat found the blob on. Local targets take the local fast path; remote ones cross the data
 * channel ({@link DataChannelClient}: negotiated on the bus, bytes over TCP with its backpressure), so
 * a layer of any size crosses in bounded memory. A completed upload is copied to the repository's other owners in the background
 * ({@link RoutingStorage#replicateBlob}), so a later manifest PUT usually finds its blobs there already.
 * Runs on the request's event loop.
 */
public final class RoutingBlobTransfer implements BlobTransfer {
  /** Bytes a relayed response may queue before the data channel is paused. */
  static final int RELAY_QUEUE_BYTES = 4 * 1024 * 1024;

  private final Vertx vertx;
  private final String localNode;
  private final BlobTransfer local;
  private final RoutingStorage routing;
  private final DataChannelClient data;

  /**
   * @param routing the routed storage API: owners, session holders, upload offsets after a remote 416
   * @param data this node's client of the other nodes' data channels
   */
  public RoutingBlobTransfer(Vertx vertx, String localNode, BlobTransfer local, RoutingStorage routing,
      DataChannelClient data) {
    this.data = data;
    this.vertx = vertx;
    this.localNode = localNode;
    this.local = local;
    this.routing = routing;
  }

  private String holder(String uploadId) {
    return routing.holderOf(uploadId);
  }

  @Override
  public Future<Long> append(RequestContext ctx, RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength) {
    String node = holder(uploadId);
    if (node.equals(localNode)) {
      return local.append(ctx, repository, uploadId, body, rangeStart, expectedLength);
    }
    Map<String, String> params = BlobTransferVerticle.params(repository.value(), uploadId, null, rangeStart);
    return forward(node, new OpenWrite(ctx, BlobTransferVerticle.APPEND, params, expectedLength), body, UploadStatus.class)
        .map(UploadStatus::offset)
        .recover(err -> rangeError(ctx, repository, uploadId, err));
  }

  @Override
  public Future<BlobInfo> finish(RequestContext ctx, RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength) {
    String node = holder(uploadId);
    Future<BlobInfo> done;
    if (node.equals(localNode)) {
      done = local.finish(ctx, repository, uploadId, expected, body, rangeStart, expectedLength);
    } else {
      Map<String, String> params = BlobTransferVerticle.params(repository.value(), uploadId, expected.toString(),
          rangeStart);
      done = forward(node, new OpenWrite(ctx, BlobTransferVerticle.FINISH, params, body == null ? 0 : expectedLength),
          body, BlobInfo.class)
          .recover(err -> rangeError(ctx, repository, uploadId, err));
    }
    return done.onSuccess(info -> routing.replicateBlob(ctx, repository.value(), node, info));
  }

  @Override
  public Future<BlobInfo> monolithic(RequestContext ctx, RepositoryName repository, Digest expected,
      ReadStream<Buffer> body, long expectedLength) {
    String node = routing.primaryOf(repository.value());
    Future<BlobInfo> done;
    if (node.equals(localNode)) {
      done = local.monolithic(ctx, repository, expected, body, expectedLength);
    } else {
      Map<String, String> params = BlobTransferVerticle.params(repository.value(), null, expected.toString(), -1);
      done = forward(node, new OpenWrite(ctx, BlobTransferVerticle.MONOLITHIC, params, expectedLength), body,
          BlobInfo.class);
    }
    return done.onSuccess(info -> routing.replicateBlob(ctx, repository.value(), node, info));
  }

  @Override
  public Future<Void> send(RequestContext ctx, RepositoryName repository, BlobInfo blob, long offset, long length,
      HttpServerResponse response) {
    if (blob.node() == null || blob.node().equals(localNode)) {
      return local.send(ctx, repository, blob, offset, length, response);
    }
    // a deeper queue than Netty's 64 KiB: the relay then pauses the channel once per few MiB,
    // not after every socket read (each pause and resume is a system call on both sockets)
    response.setWriteQueueMaxSize(RELAY_QUEUE_BYTES);
    // the data socket's buffers go to the response as they are (no copies), see DataRelay
    return data.relay(blob.node(), new OpenRead(ctx, blob.digest(), offset, length), response);
  }

  /** Streams {@code body} (or nothing) into a write on {@code node} and returns the handler's result. */
  private <R> Future<R> forward(String node, OpenWrite open, ReadStream<Buffer> body, Class<R> resultType) {
    if (body != null) {
      body.pause(); // until the transfer is negotiated and connected
    }
    return data.openWrite(node, open, resultType).compose(out -> out.send(body));
  }

  /** A remote 416 comes back as RANGE_INVALID: fetch the offset for the Range header of the answer. */
  private <T> Future<T> rangeError(RequestContext ctx, RepositoryName repository, String uploadId, Throwable err) {
    if (err instanceof OciException e && e.error() == OciError.RANGE_INVALID && !(err instanceof RangeMismatch)
        && e.detail().startsWith("chunk does not start")) {
      return routing.uploadStatus(ctx, repository.value(), uploadId)
          .compose(s -> Future.failedFuture(new RangeMismatch(s.offset())));
    }
    return Future.failedFuture(err);
  }
}
