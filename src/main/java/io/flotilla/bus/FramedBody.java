package io.flotilla.bus;

import io.flotilla.oci.OciError;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayDeque;

/**
 * The body of a write arriving over the data channel, as a {@link ReadStream}: the sender frames the
 * bytes ({@code int length, bytes}, repeated; a frame of length 0 ends the body), so a body of unknown
 * length has a clear end, and a connection that closes before that end is a failure (UNAVAILABLE),
 * never a shorter body. Pausing this stream pauses the socket: TCP holds the sender back.
 *
 * <p>Threads: the socket's context only. Frame payloads are slices of the socket's buffers (no copy).
 */
final class FramedBody implements ReadStream<Buffer> {
  /** Slices kept while paused before the socket itself is paused (one socket read holds several). */
  private static final int HIGH_WATER = 8;

  private final NetSocket socket;
  private final DataChannelStats stats;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private Buffer header = Buffer.buffer(4);
  private int frameLeft;
  private boolean endSeen;
  private boolean done;
  private Runnable discardedEnd;
  private long demand = Long.MAX_VALUE;
  private long bytes;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  FramedBody(NetSocket socket, DataChannelStats stats) {
    this.socket = socket;
    this.stats = stats;
  }

  /** Body bytes received so far. */
  long bytes() {
    return bytes;
  }

  /** Whether the end frame arrived. */
  boolean complete() {
    return endSeen;
  }

  /** Takes bytes from the socket. */
  void feed(Buffer b) {
    if (done || endSeen) {
      if (b.length() > 0 && !done) {
        fail(OciError.BLOB_UPLOAD_INVALID.with("bytes after the end of a data-channel body"));
      }
      return;
    }
    int pos = 0;
    int len = b.length();
    while (pos < len && !endSeen) {
      if (frameLeft == 0) {
        int take = Math.min(4 - header.length(), len - pos);
        header.appendBuffer(b, pos, take);
        pos += take;
        if (header.length() == 4) {
          int n = header.getInt(0);
          header = Buffer.buffer(4);
          if (n < 0) {
            fail(OciError.BLOB_UPLOAD_INVALID.with("bad frame on the data channel"));
            return;
          }
          if (n == 0) {
            endSeen = true;
          }
          frameLeft = n;
        }
      } else {
        int take = Math.min(frameLeft, len - pos);
        if (discardedEnd == null) {
          queue.add(b.slice(pos, pos + take));
        }
        frameLeft -= take;
        pos += take;
        bytes += take;
        stats.received(take);
      }
    }
    if (endSeen && pos < len) {
      fail(OciError.BLOB_UPLOAD_INVALID.with("bytes after the end of a data-channel body"));
      return;
    }
    if (discardedEnd != null) {
      if (endSeen) {
        done = true;
        discardedEnd.run();
      }
      return;
    }
    drain();
  }

  /**
   * The receiver answered before the end of the body (a refused chunk, say): the rest is read and
   * dropped until the end frame, then {@code atEnd} runs. Closing at once instead would leave unread
   * bytes behind, and a close with unread bytes resets the connection, which can destroy the answer
   * on its way to the sender. Nothing is delivered to the handler from now on.
   */
  void discardRest(Runnable atEnd) {
    if (done) {
      return;
    }
    discardedEnd = atEnd;
    queue.clear();
    handler = null;
    endHandler = null;
    if (endSeen) {
      done = true;
      atEnd.run();
      return;
    }
    socket.resume();
  }

  /** The connection closed (or failed): a failure unless the end frame came first. */
  void closed(Throwable cause) {
    if (!endSeen) {
      fail(OciError.UNAVAILABLE.with("the sending node closed the data connection before the end of the body"
          + (cause == null ? "" : ": " + cause.getMessage())));
    }
  }

  void fail(Throwable err) {
    if (done) {
      return;
    }
    done = true;
    queue.clear();
    socket.close();
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(err);
    }
  }

  private void drain() {
    if (discardedEnd != null) {
      return;
    }
    while (demand > 0 && handler != null && !queue.isEmpty() && !done) {
      Buffer next = queue.poll();
      if (demand != Long.MAX_VALUE) {
        demand--;
      }
      handler.handle(next);
    }
    if (done) {
      return;
    }
    if (queue.isEmpty() && endSeen) {
      if (endHandler == null) {
        return; // delivered once someone listens
      }
      done = true;
      Handler<Void> h = endHandler;
      if (h != null) {
        h.handle(null);
      }
      return;
    }
    if (queue.size() >= HIGH_WATER || demand == 0 || handler == null) {
      socket.pause();
    } else {
      socket.resume();
    }
  }

  @Override
  public FramedBody exceptionHandler(Handler<Throwable> h) {
    exceptionHandler = h;
    return this;
  }

  @Override
  public FramedBody handler(Handler<Buffer> h) {
    handler = h;
    drain();
    return this;
  }

  @Override
  public FramedBody pause() {
    if (discardedEnd != null) {
      return this;
    }
    demand = 0;
    socket.pause();
    return this;
  }

  @Override
  public FramedBody resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public FramedBody fetch(long amount) {
    if (amount > 0) {
      demand = demand > Long.MAX_VALUE - amount ? Long.MAX_VALUE : demand + amount;
      drain();
    }
    return this;
  }

  @Override
  public FramedBody endHandler(Handler<Void> h) {
    endHandler = h;
    if (h != null) {
      drain();
    }
    return this;
  }
}
