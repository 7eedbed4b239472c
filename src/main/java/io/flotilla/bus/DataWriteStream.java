package io.flotilla.bus;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.bus.Messages.Done;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

/**
 * A write into another node's handler over the data channel. Bytes written here travel framed
 * ({@link FramedBody}); {@link #end()} sends the end frame, and {@link #result()} completes with the
 * handler's answer (a record, decoded as {@code R}) or fails with its OCI error, or with UNAVAILABLE
 * when the connection closes without an answer. {@link #writeQueueFull()} is the socket's, so a
 * writer that honours it (or a pipe) never buffers more than the socket's write queue.
 *
 * <p>Threads: the context that opened it.
 *
 * @param <R> the handler's result type
 */
public final class DataWriteStream<R> implements WriteStream<Buffer> {
  static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final Buffer END = Buffer.buffer(4).appendInt(0);
  /** Bytes queued on the socket before a writer (a pipe from a request body) is held back. */
  private static final int QUEUE_BYTES = 4 * 1024 * 1024;

  private final NetSocket socket;
  private final Class<R> resultType;
  private final DataChannelStats stats;
  private final Promise<R> result = Promise.promise();
  private Buffer reply = Buffer.buffer();
  private long sent;

  DataWriteStream(NetSocket socket, Class<R> resultType, DataChannelStats stats) {
    this.socket = socket;
    this.resultType = resultType;
    this.stats = stats;
    socket.setWriteQueueMaxSize(QUEUE_BYTES);
    socket.handler(this::onReply);
    socket.endHandler(v -> onClose());
    socket.closeHandler(v -> stats.closed());
  }

  /** The handler's result; fails with its error, or UNAVAILABLE when the connection ends first. */
  public Future<R> result() {
    return result.future();
  }

  /** Body bytes written so far. */
  public long bytesSent() {
    return sent;
  }

  /** Ends the transfer now: the receiver sees the connection close before the end frame and commits nothing. */
  public void abort(Throwable err) {
    if (result.tryFail(err)) {
      stats.failed();
    }
    socket.close();
  }

  /**
   * Sends all of {@code body} (null: an empty body), then the end frame, and returns the handler's
   * result. A body that fails aborts the transfer (the receiver commits nothing).
   */
  public Future<R> send(ReadStream<Buffer> body) {
    if (body == null) {
      end();
      return result();
    }
    Pipe<Buffer> pipe = body.pipe();
    pipe.endOnFailure(false);
    pipe.to(this).onFailure(err -> {
      if (!result.future().isComplete()) {
        abort(err instanceof OciException ? err
            : OciError.UNAVAILABLE.with("the data connection failed before the receiving node answered: " + err.getMessage()));
      }
    });
    return result();
  }

  @Override
  public Future<Void> write(Buffer data) {
    if (result.future().isComplete()) {
      return result.future().failed() ? Future.failedFuture(result.future().cause())
          : Future.failedFuture(OciError.BLOB_UPLOAD_INVALID.with("the receiver answered before the end of the body"));
    }
    int n = data.length();
    if (n == 0) {
      return Future.succeededFuture();
    }
    sent += n;
    stats.sent(n);
    // one write (one flush, one segment) per frame: the copy costs less than a second system call
    return socket.write(Buffer.buffer(4 + n).appendInt(n).appendBuffer(data));
  }

  @Override
  public Future<Void> end() {
    if (result.future().isComplete()) {
      return result.future().mapEmpty();
    }
    return socket.write(END.copy());
  }

  @Override
  public DataWriteStream<R> exceptionHandler(Handler<Throwable> handler) {
    socket.exceptionHandler(handler);
    return this;
  }

  @Override
  public DataWriteStream<R> setWriteQueueMaxSize(int maxSize) {
    socket.setWriteQueueMaxSize(maxSize);
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  @Override
  public DataWriteStream<R> drainHandler(Handler<Void> handler) {
    socket.drainHandler(handler);
    return this;
  }

  private void onReply(Buffer b) {
    reply.appendBuffer(b);
    if (reply.length() < 4 || reply.length() < 4 + reply.getInt(0)) {
      return;
    }
    int n = reply.getInt(0);
    Buffer json = reply.slice(4, 4 + n);
    reply = Buffer.buffer();
    try {
      JsonNode node = JSON.readTree(json.getBytes());
      if (node.hasNonNull("code")) {
        OciException err = new OciException(OciError.byName(node.get("code").asText()), node.path("detail").asText());
        if (result.tryFail(err)) {
          stats.failed();
        }
      } else {
        JsonNode value = node.get("result");
        @SuppressWarnings("unchecked")
        R r = value == null || value.isNull()
            ? (resultType == Done.class ? (R) new Done() : null)
            : JSON.treeToValue(value, resultType);
        if (result.tryComplete(r)) {
          stats.completed();
        }
      }
    } catch (Exception e) {
      if (result.tryFail(OciError.UNKNOWN.with("unreadable answer on the data channel: " + e.getMessage()))) {
        stats.failed();
      }
    }
    socket.close();
  }

  private void onClose() {
    if (result.tryFail(OciError.UNAVAILABLE.with("the data connection closed before the receiving node answered"))) {
      stats.failed();
    }
  }

  /** The answer frame a receiving node sends: {@code int length, JSON}. */
  static Buffer answer(Object value, Throwable err, String where) {
    try {
      byte[] json;
      if (err != null) {
        OciException e = Bus.toOci(err, where);
        json = JSON.writeValueAsBytes(JSON.createObjectNode().put("code", e.error().name()).put("detail", e.detail()));
      } else {
        var node = JSON.createObjectNode();
        node.set("result", JSON.valueToTree(value));
        json = JSON.writeValueAsBytes(node);
      }
      return Buffer.buffer(4 + json.length).appendInt(json.length).appendBytes(json);
    } catch (Exception e) {
      throw new IllegalStateException("cannot encode a data-channel answer", e);
    }
  }
}
