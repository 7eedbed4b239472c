package io.flotilla.bus;

import io.flotilla.oci.OciError;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollMode;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A relayed pull moved by the kernel: the data socket's bytes are spliced through a pipe into the
 * client's socket ({@code splice(2)}, via Netty's native epoll transport), so they never enter the
 * JVM. It applies only where both sockets are plain TCP on the native transport and share an event
 * loop (the data connection is opened from the request's context, so they do); otherwise
 * {@link #channels} answers null and the caller relays through {@link DataRelay}.
 *
 * <p>Order of events: the data socket is connected with reads off; the response's head is written;
 * once it left, both sockets switch to level-triggered epoll (which splicing needs), the splice is
 * queued, and reads are switched on. After the last byte the response is ended (its head announced
 * the length, so nothing more is written). A short transfer (the sender died, the connection was
 * aborted) fails the splice and closes the client's connection, so a truncated body never looks
 * whole. Spliced bytes pass neither connection's pipeline, so their idle handlers are taken out
 * for the splice (the client's is put back after it) and a watchdog fails a splice that moves no
 * {@link #PART} within the data channel's idle timeout.
 */
public final class DataSplice {
  /**
   * Bytes per {@code spliceTo} call. Each finished part counts as progress for the watchdog that
   * stands in for the idle timeouts (spliced bytes pass neither pipeline, so Netty's idle handlers,
   * which only see reads and writes, would call a busy splice idle); small enough that a slow but
   * steady client (a part per idle timeout: 70 KiB/s at 30 s) is not taken for a stalled one.
   */
  static final int PART = 2 * 1024 * 1024;

  private final Vertx vertx;
  private final Channels ch;
  private final HttpServerResponse response;
  private final DataChannelStats stats;
  private final long idleMillis;
  private final Promise<Void> done = Promise.promise();
  private long lastProgress;
  private long watchdog = -1;
  private Runnable restoreIdle = () -> { };

  private DataSplice(Vertx vertx, Channels ch, HttpServerResponse response, DataChannelStats stats, long idleMillis) {
    this.vertx = vertx;
    this.ch = ch;
    this.response = response;
    this.stats = stats;
    this.idleMillis = idleMillis;
  }

  /** The two epoll channels of a relay from {@code socket} into {@code request}'s response, or null when they cannot be spliced. */
  static Channels channels(HttpServerRequest request, NetSocketInternal socket) {
    if (request.version() == HttpVersion.HTTP_2 || !(request.connection() instanceof ConnectionBase conn)) {
      return null;
    }
    Channel out = conn.channel();
    Channel in = socket.channelHandlerContext().channel();
    if (in instanceof AbstractEpollStreamChannel src && out instanceof AbstractEpollStreamChannel dst
        && src.eventLoop() == dst.eventLoop() && src.pipeline().get(SslHandler.class) == null
        && dst.pipeline().get(SslHandler.class) == null) {
      return new Channels(src, dst);
    }
    return null;
  }

  /** The source (data socket) and destination (client) channels of a splice. */
  record Channels(AbstractEpollStreamChannel src, AbstractEpollStreamChannel dst) {
  }

  /**
   * Splices {@code length} bytes from the data socket into {@code response}, whose Content-Length
   * is already set; the data socket's reads must be off (the sender may already be sending) and are
   * switched on here. Completes once the response ended. Call it on the channels' event loop.
   */
  static Future<Void> run(Vertx vertx, Channels ch, HttpServerResponse response, long length, DataChannelStats stats,
      long idleMillis) {
    DataSplice splice = new DataSplice(vertx, ch, response, stats, idleMillis);
    splice.start(length);
    return splice.done.future();
  }

  private void start(long length) {
    response.write(Buffer.buffer()).onComplete(head -> {
      if (head.failed()) {
        ch.src().close();
        done.fail(head.cause());
        return;
      }
      try {
        ch.src().pipeline().remove(IDLE); // the data socket closes after the splice: nothing to restore
        restoreIdle = suspendIdle(ch.dst());
        lastProgress = System.nanoTime();
        watchdog = vertx.setPeriodic(Math.max(1, idleMillis / 4), t -> checkProgress());
        ch.src().config().setOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        ch.dst().config().setOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED);
        splice(length);
        ch.src().config().setAutoRead(true);
      } catch (RuntimeException e) {
        abort(e);
      }
    });
  }

  /**
   * Queues every part at once: a part whose bytes are all in the pipe leaves Netty's splice queue
   * before they are out, and a source with an empty queue is read the ordinary way, so a part queued
   * only after the previous one completed could lose bytes to a plain read.
   */
  @SuppressWarnings("deprecation") // spliceTo: Netty marks it for removal one day; DataRelay is the fallback
  private void splice(long length) {
    if (length == 0) {
      finish();
      return;
    }
    long left = length;
    while (left > 0) {
      int n = (int) Math.min(PART, left);
      left -= n;
      boolean last = left == 0;
      long rest = left;
      ch.src().spliceTo(ch.dst(), n).addListener(ar -> {
        if (!ar.isSuccess()) {
          abort(OciError.UNAVAILABLE.with("the data connection ended with " + (rest + n) + " bytes not yet spliced: "
              + ar.cause()));
          return;
        }
        lastProgress = System.nanoTime();
        stats.received(n);
        if (last) {
          finish();
        }
      });
    }
  }

  /** Every byte is in the client's socket: the data socket closes and the response ends (no more bytes). */
  private void finish() {
    if (done.future().isComplete()) {
      return;
    }
    stopWatchdog();
    ch.src().close();
    ch.dst().config().setOption(EpollChannelOption.EPOLL_MODE, EpollMode.EDGE_TRIGGERED);
    restoreIdle.run();
    stats.completed();
    response.end().onComplete(done);
  }

  private void checkProgress() {
    if (System.nanoTime() - lastProgress > idleMillis * 1_000_000L) {
      abort(OciError.UNAVAILABLE.with("a spliced transfer moved no part for " + idleMillis + " ms"));
    }
  }

  private void stopWatchdog() {
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
      watchdog = -1;
    }
  }

  /** A splice cut short: both connections close (the client sees a body shorter than announced). */
  private void abort(Throwable err) {
    if (done.future().isComplete()) {
      return;
    }
    stopWatchdog();
    ch.src().close();
    hardClose(ch.dst());
    done.tryFail(err);
  }

  /**
   * Closes a connection at once. A plain close goes through Vert.x, which first flushes what is
   * queued, and a client that stopped reading never lets that flush end, so the connection (and
   * whatever it holds) would stay; a body cut short must end with the connection anyway.
   */
  static void hardClose(Channel channel) {
    channel.unsafe().close(channel.voidPromise());
  }

  /**
   * Ends a response whose body was cut short: over HTTP/1 with {@link #hardClose(Channel)} of its
   * connection; over HTTP/2 with a reset of its stream only (the connection carries other requests).
   */
  static void cutShort(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_2 && request.connection() instanceof ConnectionBase conn) {
      hardClose(conn.channel());
    } else {
      request.response().reset();
    }
  }

  /** Vert.x names its idle-timeout handler so in every pipeline. */
  private static final String IDLE = "idle";

  /**
   * Takes the idle-timeout handler out of a connection that lives on after the splice, and gives
   * back what puts a fresh one (same timeouts, same place) in again.
   */
  private static Runnable suspendIdle(Channel channel) {
    ChannelPipeline p = channel.pipeline();
    if (!(p.get(IDLE) instanceof IdleStateHandler idle)) {
      return () -> { };
    }
    List<String> names = p.names();
    int at = names.indexOf(IDLE);
    String next = at + 1 < names.size() ? names.get(at + 1) : null;
    p.remove(IDLE);
    return () -> {
      if (!channel.isOpen() || p.get(IDLE) != null) {
        return;
      }
      IdleStateHandler fresh = new IdleStateHandler(idle.getReaderIdleTimeInMillis(), idle.getWriterIdleTimeInMillis(),
          idle.getAllIdleTimeInMillis(), TimeUnit.MILLISECONDS);
      if (next != null && p.get(next) != null) {
        p.addBefore(next, IDLE, fresh);
      } else {
        p.addLast(IDLE, fresh);
      }
    };
  }
}
