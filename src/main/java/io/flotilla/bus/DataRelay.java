package io.flotilla.bus;

import io.flotilla.oci.OciError;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.streams.WriteStream;

/**
 * A blob region arriving over the data channel, written straight into a destination (a relayed
 * pull's HTTP response) without a copy: the socket's own (direct, pooled) buffers are handed to the
 * destination and each is released exactly once, when its write completed or failed. The plain
 * {@link DataReadStream} copies every read into a heap buffer, which the client's socket then copies
 * again into a direct one; a relay of a large blob spent most of its CPU there.
 *
 * <p>Same contract as {@link DataReadStream#pipeInto}: exactly the granted length of bytes, then the
 * destination is ended; a connection that closes early (no more bytes within the idle period after
 * its close), sends too much or fails, and a destination that fails, fail {@link #result()} with
 * UNAVAILABLE (or the cause) and leave the destination un-ended, so a truncated relay never looks
 * complete. Backpressure: the
 * socket is paused while the destination's write queue is full and resumed on its drain.
 *
 * <p>Threads: the context that opened it, which must be the destination's (the socket and the
 * destination then share an event loop). {@link #abort} may be called from that context at any time.
 */
public final class DataRelay {
  private final Vertx vertx;
  private final long idleMillis;
  private final NetSocketInternal socket;
  private final long length;
  private final DataChannelStats stats;
  private final WriteStream<Buffer> dst;
  private final Promise<Void> result = Promise.promise();
  private long received;
  private boolean paused;
  private boolean ending;

  /** Takes over {@code socket} (fresh, nothing read from it yet) and starts relaying into {@code dst}. */
  DataRelay(Vertx vertx, long idleMillis, NetSocketInternal socket, long length, DataChannelStats stats,
      WriteStream<Buffer> dst) {
    this.vertx = vertx;
    this.idleMillis = idleMillis;
    this.socket = socket;
    this.length = length;
    this.stats = stats;
    this.dst = dst;
    dst.exceptionHandler(this::fail);
    dst.drainHandler(v -> resume());
    socket.closeHandler(v -> onSocketClosed());
    socket.exceptionHandler(this::fail);
    socket.messageHandler(this::onMessage);
  }

  /** Completes once all bytes were written and the destination ended; fails otherwise. */
  public Future<Void> result() {
    return result.future();
  }

  /** Ends the transfer now with {@code err}: the connection is closed, the sender stops. */
  public void abort(Throwable err) {
    fail(err);
  }

  private void onMessage(Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    int n = buf.readableBytes();
    if (result.future().isComplete() || ending || n == 0) {
      buf.release();
      return;
    }
    received += n;
    stats.received(n);
    if (received > length) {
      buf.release();
      fail(OciError.UNAVAILABLE.with("the data channel sent more than the " + length + " bytes asked for"));
      return;
    }
    Future<Void> written;
    try {
      written = dst.write(BufferInternal.buffer(buf.readerIndex() == 0 ? buf : buf.slice()));
    } catch (RuntimeException e) {
      buf.release();
      fail(e);
      return;
    }
    written.onComplete(ar -> {
      buf.release();
      if (ar.failed() && !ending) {
        fail(ar.cause());
      }
    });
    if (received == length) {
      finish();
    } else if (!paused && dst.writeQueueFull()) {
      paused = true;
      socket.pause();
    }
  }

  private void resume() {
    if (!paused || result.future().isComplete()) {
      return;
    }
    paused = false;
    socket.resume(); // delivers what waited behind the pause, now
  }

  /**
   * Every byte arrived: end the destination now, and close the socket (the sender waits for that
   * close). The end is the byte count, not the close, because with a message handler Vert.x
   * signals a close ahead of reads it still holds.
   */
  private void finish() {
    ending = true;
    if (paused) {
      paused = false;
      socket.resume();
    }
    socket.close();
    dst.end().onComplete(ar -> {
      if (ar.succeeded() && result.tryComplete()) {
        stats.completed();
      } else if (ar.failed()) {
        ending = false;
        fail(ar.cause());
      }
    });
  }

  /**
   * The connection closed. Reads it delivered may still come (behind a pause, or still queued in
   * Vert.x, whose close signal can overtake them); the last of them finishes the relay. If they do
   * not come within the idle period, the transfer was short: fail it, never ending the destination.
   */
  private void onSocketClosed() {
    stats.closed();
    if (!result.future().isComplete() && !ending) {
      vertx.setTimer(idleMillis, t -> {
        if (!ending) {
          fail(OciError.UNAVAILABLE.with("the data connection closed after " + received + " of " + length
              + " bytes were relayed"));
        }
      });
    }
  }

  private void fail(Throwable err) {
    if (!result.tryFail(err)) {
      return;
    }
    stats.failed();
    if (paused) {
      // reads that waited behind the pause come through now and are released (nothing is written anymore)
      paused = false;
      socket.resume();
    }
    socket.close();
  }
}
