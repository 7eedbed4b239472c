package io.flotilla.bus;

import io.flotilla.bus.DataMessages.DataGrant;
import io.flotilla.bus.DataMessages.DataReadRequest;
import io.flotilla.bus.DataMessages.DataWriteRequest;
import io.flotilla.bus.DataTickets.Direction;
import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.bus.DataMessages.OpenWrite;
import io.flotilla.oci.OciError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Opens transfers on other nodes' data channels ({@link DataChannelServer}): asks the node over the
 * bus for a ticket, connects to the endpoint in the grant, presents the ticket, and hands back the
 * connection as a {@link DataReadStream} (a blob region) or a {@link DataWriteStream} (a write into
 * a handler there). One instance per node, sharing one {@link NetClient}.
 *
 * <p>Threads: callable from any thread; the stream is bound to the caller's Vert.x context (or a new
 * one when called from outside Vert.x), where the returned future completes.
 *
 * <p>Failures: the negotiation has the timeout of its {@link Address} and comes back as the server's
 * OCI error (BLOB_UNKNOWN, RANGE_INVALID, UNSUPPORTED, ...); a failed connect is UNAVAILABLE. An open
 * transfer fails with UNAVAILABLE at once when its node leaves the cluster ({@link PeerCalls}), when
 * the connection closes early, or when no byte moved for the idle timeout.
 */
public final class DataChannelClient {
  private final Vertx vertx;
  private final String localNode;
  private final DataChannelStats stats;
  private final NetClient client;
  private final long idleMillis;

  public DataChannelClient(Vertx vertx, String localNode, DataChannelOptions options, DataChannelStats stats) {
    this.vertx = vertx;
    this.localNode = localNode;
    this.stats = stats;
    this.client = vertx.createNetClient(options.clientOptions());
    this.idleMillis = options.idleTimeout().toMillis();
  }

  /** Opens a read of {@code request}'s blob region on {@code nodeId}. */
  public Future<DataReadStream> open(String nodeId, OpenRead request) {
    if (request.offset() < 0 || request.length() < -1) {
      return Future.failedFuture(OciError.RANGE_INVALID.with("invalid range " + request.offset() + "+" + request.length()));
    }
    return onContext(() -> Bus.request(vertx, Addresses.DATA_READ, nodeId, false, new DataReadRequest(request, localNode))
        .compose(grant -> connect(nodeId, grant, Direction.SEND).map(socket -> {
          DataReadStream stream = new DataReadStream(vertx, idleMillis, socket, grant.length(), stats);
          PeerCalls.of(vertx).watch(nodeId, Vertx.currentContext(), stream.ended(), stream::abort);
          return stream;
        })));
  }

  /**
   * Relays {@code request}'s blob region on {@code nodeId} as the body of {@code response} (its head
   * already carries the Content-Length), handing the data socket's buffers over without copies
   * ({@link DataRelay}). Completes once the response ended with every byte; on failure the response
   * is left un-ended for the caller to cut short. Call it on the response's context.
   */
  public Future<Void> relay(String nodeId, OpenRead request, HttpServerResponse response) {
    if (request.offset() < 0 || request.length() < -1) {
      return Future.failedFuture(OciError.RANGE_INVALID.with("invalid range " + request.offset() + "+" + request.length()));
    }
    return onContext(() -> Bus.request(vertx, Addresses.DATA_READ, nodeId, false, new DataReadRequest(request, localNode))
        .compose(grant -> connect(nodeId, grant, Direction.SEND).compose(socket -> {
          DataRelay relay = new DataRelay(vertx, idleMillis, (NetSocketInternal) socket, grant.length(), stats, response);
          PeerCalls.of(vertx).watch(nodeId, Vertx.currentContext(), relay.result(), relay::abort);
          return relay.result();
        })));
  }

  /**
   * Opens a write into the handler for {@code request.purpose()} on {@code nodeId}; write (or
   * {@link DataWriteStream#send}) the body, then {@link DataWriteStream#result()} has the handler's
   * answer decoded as {@code resultType}.
   */
  public <R> Future<DataWriteStream<R>> openWrite(String nodeId, OpenWrite request, Class<R> resultType) {
    return onContext(() -> Bus.request(vertx, Addresses.DATA_WRITE, nodeId, false, new DataWriteRequest(request, localNode))
        .compose(grant -> connect(nodeId, grant, Direction.RECEIVE).map(socket -> {
          DataWriteStream<R> stream = new DataWriteStream<>(socket, resultType, stats);
          PeerCalls.of(vertx).watch(nodeId, Vertx.currentContext(), stream.result(), stream::abort);
          return stream;
        })));
  }

  /** Closes the shared client (and every connection it holds). */
  public Future<Void> close() {
    return client.close();
  }

  /** Connects to the grant's endpoint and presents the ticket; the socket counts as open until it closes. */
  private Future<NetSocket> connect(String nodeId, DataGrant grant, Direction direction) {
    return client.connect(grant.port(), grant.host())
        .recover(err -> Future.failedFuture(OciError.UNAVAILABLE.with("cannot reach the data channel of node " + nodeId
            + " at " + grant.host() + ":" + grant.port() + ": " + err.getMessage())))
        .map(socket -> {
          stats.opened(); // the stream that takes the socket counts its close
          Buffer header = Buffer.buffer(1 + DataTickets.TICKET_CHARS).appendByte(direction.wire())
              .appendString(grant.ticket(), StandardCharsets.US_ASCII.name());
          socket.write(header);
          return socket;
        });
  }

  private <T> Future<T> onContext(Supplier<Future<T>> action) {
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
