package io.flotilla.bus;

import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.Pipe;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

/**
 * A blob region arriving over the data channel: the bytes of the socket, exactly {@link #length()} of
 * them. The stream ends when all of them arrived, and then closes the connection (the sender waits
 * for that close rather than closing first); a connection that closes
 * early (the sender died, the ticket was refused, an idle timeout) fails it with UNAVAILABLE, so a
 * truncated read is never taken for a whole one. Pausing it pauses the socket (TCP backpressure).
 *
 * <p>Threads: the context that opened it. {@link #abort} may be called from that context at any time.
 */
public final class DataReadStream implements ReadStream<Buffer> {
  private final Vertx vertx;
  private final long idleMillis;
  private final NetSocket socket;
  private final long length;
  private final DataChannelStats stats;
  private final Promise<Void> ended = Promise.promise();
  private long received;
  private boolean paused;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  DataReadStream(Vertx vertx, long idleMillis, NetSocket socket, long length, DataChannelStats stats) {
    this.vertx = vertx;
    this.idleMillis = idleMillis;
    this.socket = socket;
    this.length = length;
    this.stats = stats;
    socket.pause();
    socket.handler(this::onData);
    socket.endHandler(v -> onClose());
    socket.closeHandler(v -> onSocketClosed());
    socket.exceptionHandler(this::fail);
  }

  /** The number of bytes the stream carries. */
  public long length() {
    return length;
  }

  /** Completes when the stream ended whole, fails when it did not. */
  public Future<Void> ended() {
    return ended.future();
  }

  /** Ends the transfer now with {@code err}: the connection is closed, the sender stops. */
  public void abort(Throwable err) {
    fail(err);
  }

  /**
   * Pipes into {@code dst} without ending it on failure (a response cut short must not look
   * complete); a failing destination aborts the transfer, so the sender stops at once.
   */
  public Future<Void> pipeInto(WriteStream<Buffer> dst) {
    Pipe<Buffer> pipe = pipe();
    pipe.endOnFailure(false);
    return pipe.to(dst).onFailure(this::abort);
  }

  private void onData(Buffer b) {
    if (ended.future().isComplete()) {
      return;
    }
    received += b.length();
    stats.received(b.length());
    if (received > length) {
      fail(OciError.UNAVAILABLE.with("the data channel sent more than the " + length + " bytes asked for"));
      return;
    }
    Handler<Buffer> h = handler;
    if (h != null) {
      h.handle(b);
    }
    if (received == length) {
      complete();
    }
  }

  /** Every byte arrived: the stream ends, and this side closes the connection (the sender waits for that). */
  private void complete() {
    if (ended.future().isComplete()) {
      return;
    }
    stats.completed();
    ended.complete();
    socket.close();
    Handler<Void> h = endHandler;
    if (h != null) {
      h.handle(null);
    }
  }

  private void onClose() {
    if (ended.future().isComplete()) {
      return;
    }
    if (received == length) {
      complete();
    } else {
      fail(OciError.UNAVAILABLE.with("the data connection closed after " + received + " of " + length + " bytes"));
    }
  }

  /**
   * The connection closed. Bytes it delivered may still wait behind a pause (the end follows them);
   * a consumer that takes none of them for an idle period after the close is stalled: fail it, so
   * whatever it feeds (a client response) ends too.
   */
  private void onSocketClosed() {
    stats.closed();
    if (!ended.future().isComplete()) {
      vertx.setTimer(idleMillis, t -> fail(OciError.UNAVAILABLE.with("the data connection closed after " + received
          + " of " + length + " bytes were taken")));
    }
  }

  private void fail(Throwable err) {
    if (!ended.tryFail(err)) {
      return;
    }
    stats.failed();
    socket.close();
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(err);
    }
  }

  @Override
  public DataReadStream exceptionHandler(Handler<Throwable> h) {
    exceptionHandler = h;
    return this;
  }

  @Override
  public DataReadStream handler(Handler<Buffer> h) {
    handler = h;
    if (h != null && !paused) {
      socket.resume();
    } else if (h == null) {
      socket.pause();
    }
    return this;
  }

  @Override
  public DataReadStream pause() {
    paused = true;
    socket.pause();
    return this;
  }

  @Override
  public DataReadStream resume() {
    paused = false;
    if (handler != null) {
      socket.resume();
    }
    return this;
  }

  @Override
  public DataReadStream fetch(long amount) {
    paused = false;
    socket.fetch(amount);
    return this;
  }

  @Override
  public DataReadStream endHandler(Handler<Void> h) {
    endHandler = h;
    return this;
  }
}
