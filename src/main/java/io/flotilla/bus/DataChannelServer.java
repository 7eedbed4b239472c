package io.flotilla.bus;

import io.flotilla.bus.DataMessages.DataGrant;
import io.flotilla.bus.DataMessages.DataReadRequest;
import io.flotilla.bus.DataMessages.DataWriteRequest;
import io.flotilla.bus.DataTickets.Direction;
import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.bus.DataMessages.OpenWrite;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.ReadStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A node's data channel, the path of bulk blob bytes between nodes. Transfers are negotiated on the
 * bus ({@link Addresses#DATA_READ}: a blob region to send; {@link Addresses#DATA_WRITE}: a write into
 * the {@link WriteHandler} of a purpose), each answered with this channel's endpoint and a single-use
 * ticket ({@link DataTickets}); the bytes then cross a TCP connection (mutual TLS with the cluster
 * certificate when it is configured) to this node's data port. The connecting side first sends one
 * direction byte and the ticket; anything else (unknown, expired, reused or misdirected ticket) is
 * refused by closing the connection.
 *
 * <p>Reads are sent with zero-copy {@code sendFile}, in segments so that progress is visible to the
 * idle timeout: TCP holds the sender back, and a reader that stops reading is cut off after
 * {@code idleTimeout}. Writes arrive framed ({@link FramedBody}) into the write handler, which must
 * store them through the verifying upload path; its result (or OCI error) goes back on the same
 * connection.
 *
 * <p>Threads: bus consumers and connections run on the context that called {@link #start}; files are
 * sent by Netty without passing through the JVM heap. Failures: a missing blob or a region outside it
 * is refused at negotiation (BLOB_UNKNOWN, RANGE_INVALID), a write purpose nobody handles as
 * UNSUPPORTED; failures during a transfer close the connection, which the other side reports.
 */
public final class DataChannelServer {
  /** What the receiving node supplies for one write purpose: consume {@code body}, answer with a result. */
  @FunctionalInterface
  public interface WriteHandler<R> {
    /**
     * Called on the server's context with a body to consume like an HTTP request body (handler,
     * pause/resume, end; it fails if the sender goes away before its end). The result (a record;
     * null means {@link Messages.Done}) goes back to the writer; a failure goes back as its OCI error.
     */
    Future<R> handle(OpenWrite request, ReadStream<Buffer> body);
  }

  /** A ticket's grant: a region of a file to send, or a write to take. */
  sealed interface Grant permits ReadGrant, WriteGrant {}

  record ReadGrant(String digest, Path path, long offset, long length) implements Grant {}

  record WriteGrant(OpenWrite open) implements Grant {}

  /** Bytes a single {@code sendFile} call covers: each finished segment counts as progress. */
  static final long SEGMENT = 2L * 1024 * 1024;
  private static final int HEADER = 1 + DataTickets.TICKET_CHARS;
  /** How long a write answered before its end may go on sending bytes that are dropped. */
  static final long LINGER_MILLIS = 10_000;

  private final Vertx vertx;
  private final String nodeId;
  private final DataChannelOptions options;
  private final Function<String, Path> blobPath;
  private final DataChannelStats stats;
  private final DataTickets<Grant> tickets;
  private final Map<String, WriteHandler<?>> writeHandlers = new ConcurrentHashMap<>();
  private NetServer server;
  private List<MessageConsumer<?>> consumers = List.of();
  private long purgeTimer = -1;

  private DataChannelServer(Vertx vertx, String nodeId, DataChannelOptions options, Function<String, Path> blobPath,
      DataChannelStats stats) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.options = options;
    this.blobPath = blobPath;
    this.stats = stats;
    this.tickets = new DataTickets<>(options.ticketTtl());
  }

  /**
   * Binds the data port and serves the negotiation addresses of {@code nodeId}, on the calling context.
   *
   * @param blobPath where the blob with a digest would be; may throw an OciException (DIGEST_INVALID)
   */
  public static Future<DataChannelServer> start(Vertx vertx, String nodeId, DataChannelOptions options,
      Function<String, Path> blobPath, DataChannelStats stats) {
    DataChannelServer s = new DataChannelServer(vertx, nodeId, options, blobPath, stats);
    s.server = vertx.createNetServer(options.serverOptions()).connectHandler(s::accept);
    return s.server.listen()
        .compose(bound -> Bus.serve(vertx, Addresses.DATA_READ, nodeId, s::negotiateRead))
        .compose(reads -> Bus.serve(vertx, Addresses.DATA_WRITE, nodeId, s::negotiateWrite).map(writes -> {
          s.consumers = List.of(reads, writes);
          s.purgeTimer = vertx.setPeriodic(options.ticketTtl().toMillis(), t -> s.tickets.purge());
          return s;
        }));
  }

  /** Registers (or replaces) the handler of writes with this purpose. */
  public <R> DataChannelServer handleWrites(String purpose, WriteHandler<R> handler) {
    writeHandlers.put(purpose, handler);
    return this;
  }

  /** The port bound (the configured one, or the one picked for port 0). */
  public int port() {
    return server.actualPort();
  }

  /** Tickets issued and not yet presented. */
  public int outstandingTickets() {
    return tickets.outstanding();
  }

  /** Stops negotiating and listening; transfers in progress run to their end. */
  public Future<Void> close() {
    if (purgeTimer >= 0) {
      vertx.cancelTimer(purgeTimer);
    }
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
        .eventually(() -> server.close()).mapEmpty();
  }

  private DataGrant grant(String ticket, long length) {
    return new DataGrant(options.advertisedHost(), port(), ticket, length);
  }

  private Future<DataGrant> negotiateRead(DataReadRequest q) {
    OpenRead r = q.open();
    if (r.offset() < 0 || r.length() < -1) {
      return Future.failedFuture(OciError.RANGE_INVALID.with("invalid range " + r.offset() + "+" + r.length()));
    }
    Path path = blobPath.apply(r.digest());
    return vertx.fileSystem().props(path.toString())
        .recover(err -> Future.failedFuture(isMissing(err)
            ? OciError.BLOB_UNKNOWN.with("blob " + r.digest() + " is not stored on node " + nodeId) : err))
        .map(props -> {
          long size = props.size();
          long length = r.length() < 0 ? size - r.offset() : r.length();
          if (r.offset() > size || r.offset() + length > size) {
            throw OciError.RANGE_INVALID.with("range " + r.offset() + "+" + length + " is outside blob " + r.digest()
                + " of " + size + " bytes");
          }
          return grant(tickets.issue(Direction.SEND, new ReadGrant(r.digest(), path, r.offset(), length)), length);
        });
  }

  private Future<DataGrant> negotiateWrite(DataWriteRequest q) {
    OpenWrite w = q.open();
    if (!writeHandlers.containsKey(w.purpose())) {
      return Future.failedFuture(OciError.UNSUPPORTED.with("node " + nodeId + " takes no data-channel writes for "
          + w.purpose()));
    }
    return Future.succeededFuture(grant(tickets.issue(Direction.RECEIVE, new WriteGrant(w)), w.length()));
  }

  /** A new connection: collect the direction byte and the ticket, then hand the socket over. */
  private void accept(NetSocket socket) {
    stats.opened();
    socket.closeHandler(v -> stats.closed());
    Buffer[] header = {Buffer.buffer(HEADER)};
    socket.exceptionHandler(err -> socket.close());
    socket.handler(b -> {
      Buffer h = header[0];
      int take = Math.min(HEADER - h.length(), b.length());
      h.appendBuffer(b, 0, take);
      if (h.length() < HEADER) {
        return;
      }
      socket.handler(null);
      Direction direction = Direction.ofWire(h.getByte(0));
      String ticket = h.getString(1, HEADER, StandardCharsets.US_ASCII.name());
      Grant grant = direction == null ? null : tickets.redeem(ticket, direction);
      if (grant == null) {
        stats.refused();
        socket.close();
        return;
      }
      Buffer rest = b.slice(take, b.length());
      if (grant instanceof ReadGrant rg) {
        send(socket, rg, rest);
      } else {
        receive(socket, (WriteGrant) grant, rest);
      }
    });
  }

  private void send(NetSocket socket, ReadGrant g, Buffer rest) {
    if (rest.length() > 0) {
      socket.close(); // the reader sends nothing after its ticket
      return;
    }
    socket.handler(b -> socket.close());
    sendFrom(socket, g, g.offset(), g.length());
  }

  /** Sends the region a segment at a time; ends the connection after the last byte, closes it on failure. */
  private void sendFrom(NetSocket socket, ReadGrant g, long offset, long left) {
    if (left == 0) {
      // The reader closes once it counted every byte (its end is the count, never our close), and
      // the idle timeout closes a reader that does not: the reader decides when a read is over.
      stats.completed();
      if (g.length() == 0) {
        socket.end(); // nothing to count: the end is the only signal
      }
      return;
    }
    long n = Math.min(SEGMENT, left);
    socket.sendFile(g.path().toString(), offset, n).onComplete(ar -> {
      if (ar.failed()) {
        stats.failed();
        socket.close();
        return;
      }
      stats.sent(n);
      sendFrom(socket, g, offset + n, left - n);
    });
  }

  private void receive(NetSocket socket, WriteGrant g, Buffer rest) {
    FramedBody body = new FramedBody(socket, stats);
    socket.handler(body::feed);
    socket.endHandler(v -> body.closed(null));
    socket.closeHandler(v -> {
      stats.closed();
      body.closed(null);
    });
    socket.exceptionHandler(body::closed);
    if (rest.length() > 0) {
      body.feed(rest);
    }
    @SuppressWarnings("unchecked")
    WriteHandler<Object> handler = (WriteHandler<Object>) writeHandlers.get(g.open().purpose());
    Future<Object> result;
    try {
      result = handler.handle(g.open(), body);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onComplete(ar -> {
      boolean whole = body.complete();
      if (ar.succeeded() && whole) {
        stats.completed();
      } else {
        stats.failed();
      }
      Buffer answer = DataWriteStream.answer(ar.result(), ar.cause(), "data channel write " + g.open().purpose());
      if (whole) {
        socket.write(answer).onComplete(x -> socket.end());
        return;
      }
      // answered before the end of the body: the sender is still writing, so read (and drop) the rest
      // until it has the answer and closes, or sends its end frame; a close now would reset the
      // connection and could destroy the answer in flight
      socket.write(answer);
      long linger = vertx.setTimer(LINGER_MILLIS, t -> socket.close());
      body.discardRest(() -> {
        vertx.cancelTimer(linger);
        socket.end();
      });
    });
  }

  private static boolean isMissing(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof NoSuchFileException || t instanceof java.io.FileNotFoundException) {
        return true;
      }
    }
    return false;
  }
}
