package io.flotilla.bus;

import io.flotilla.bus.StreamMessages.Chunk;
import io.flotilla.bus.StreamMessages.Credit;
import io.flotilla.bus.StreamMessages.StreamAbort;
import io.flotilla.bus.StreamMessages.StreamEnd;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.streams.WriteStream;
import java.util.ArrayDeque;
import java.util.UUID;

/**
 * The sending end of a chunked bus stream: a {@link WriteStream} whose bytes go, in chunks of at
 * most the negotiated chunk size, to a receiver ({@link BusReadStream}) on any node. It owns a
 * per-stream control address ({@code flotilla.stream.<uuid>}) on which the receiver grants credit
 * (one credit = one chunk) and finally answers with its result of type {@code R}. Chunks wait here
 * while there is no credit; {@link #writeQueueFull()} turns true once {@link #setWriteQueueMaxSize}
 * bytes wait (default one chunk), so a pipe pauses its source and the sender holds about one chunk.
 *
 * <p>Threads: confined to the Vert.x context that created it; call it from that context only.
 *
 * <p>Failures: when the receiver aborts (cancel, failed handler), when no credit came for
 * {@link StreamOptions#idleTimeout()}, or when the result did not come within
 * {@link StreamOptions#ackTimeout()} after the end, every pending write, {@link #end()} and
 * {@link #result()} fail with an {@link io.flotilla.oci.OciException}, the exception handler is
 * called and the control address is released. {@link #outcome()} says how it finished.
 */
public final class BusWriteStream<R> implements WriteStream<Buffer> {
  /** How a sending end finished. */
  public enum Outcome {
    /** The receiver verified the end and answered with its result. */
    COMPLETED,
    /** Either side stopped the stream (receiver cancel or failure, {@link #cancel()}). */
    CANCELLED,
    /** No credit for the idle timeout, or no result for the ack timeout. */
    TIMED_OUT,
    /** A local failure, e.g. the source of the bytes failed. */
    FAILED,
    /** The receiver's node left the cluster. */
    PEER_GONE
  }

  private record Pending(Buffer chunk, Promise<Void> written) {}

  private final Vertx vertx;
  private final StreamOptions options;
  private final Class<R> resultType;
  private final String controlAddress = "flotilla.stream." + UUID.randomUUID();
  private final MessageConsumer<Object> control;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private final Promise<Void> ended = Promise.promise();
  private final Promise<R> result = Promise.promise();
  private final Promise<Outcome> outcome = Promise.promise();
  private String dataAddress;
  private int chunkSize;
  private int credit;
  private long pendingBytes;
  private int maxQueueBytes;
  private long seq;
  private long bytesSent;
  private boolean ending;
  private boolean endSent;
  private boolean closed;
  private boolean full;
  private long lastProgress = System.nanoTime();
  private long watchdog = -1;
  private Handler<Void> drainHandler;
  private Handler<Throwable> exceptionHandler;

  /** Registers the control address; call on the context that will use the stream. */
  BusWriteStream(Vertx vertx, StreamOptions options, Class<R> resultType) {
    this.vertx = vertx;
    this.options = options;
    this.resultType = resultType;
    this.chunkSize = options.chunkSize();
    this.maxQueueBytes = options.chunkSize();
    this.control = vertx.eventBus().consumer(controlAddress, this::onControl);
  }

  /** Completes once the control address is known to the cluster. */
  Future<Void> registered() {
    return control.completion();
  }

  String controlAddress() {
    return controlAddress;
  }

  /** Connects to the receiver's chunk address with its initial credit; starts the timeouts. */
  void attach(String receiverAddress, int initialCredit, int negotiatedChunkSize) {
    if (closed) {
      vertx.eventBus().send(receiverAddress, new StreamAbort(OciError.UNAVAILABLE.name(), "stream cancelled by the sender"));
      return;
    }
    this.dataAddress = receiverAddress;
    this.chunkSize = negotiatedChunkSize;
    this.credit += initialCredit;
    this.lastProgress = System.nanoTime();
    this.watchdog = vertx.setPeriodic(options.watchdogMillis(), id -> checkTimeouts());
    flush();
  }

  @Override
  public Future<Void> write(Buffer data) {
    if (closed || ending) {
      return ended.future().failed() ? Future.failedFuture(ended.future().cause())
          : Future.failedFuture(new IllegalStateException("stream is ended"));
    }
    int len = data.length();
    if (len == 0) {
      return Future.succeededFuture();
    }
    Promise<Void> written = Promise.promise();
    for (int pos = 0; pos < len; pos += chunkSize) {
      int end = Math.min(len, pos + chunkSize);
      Buffer chunk = pos == 0 && end == len ? data : data.slice(pos, end);
      pending.add(new Pending(chunk, end == len ? written : null));
      pendingBytes += end - pos;
    }
    if (pendingBytes >= maxQueueBytes) {
      full = true;
    }
    flush();
    return written.future();
  }

  /** Sends the end once every chunk is sent; completes when the receiver answered with its result. */
  @Override
  public Future<Void> end() {
    if (!closed && !ending) {
      ending = true;
      flush();
    }
    return ended.future();
  }

  /** The receiver's result; completes with {@link #end()}. */
  public Future<R> result() {
    return result.future();
  }

  /** How the stream finished; completes once it is over, whichever way. */
  public Future<Outcome> outcome() {
    return outcome.future();
  }

  /** Payload bytes handed to the bus so far. */
  public long bytesSent() {
    return bytesSent;
  }

  /** Stops the stream: the receiver is told, pending writes and {@link #end()} fail. */
  public void cancel() {
    finish(OciError.UNAVAILABLE.with("stream cancelled by the sender"), Outcome.CANCELLED, true);
  }

  /** Stops the stream because its source failed; the receiver gets the failure as an OCI error. */
  void fail(Throwable cause) {
    finish(Bus.toOci(cause, "bus stream source"), Outcome.FAILED, true);
  }

  /** Stops the stream because the receiver's node left the cluster: nobody is left to tell. */
  void peerGone(Throwable err) {
    finish(err, Outcome.PEER_GONE, false);
  }

  @Override
  public BusWriteStream<R> setWriteQueueMaxSize(int maxSize) {
    this.maxQueueBytes = Math.max(1, maxSize);
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return pendingBytes >= maxQueueBytes;
  }

  @Override
  public BusWriteStream<R> drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
    return this;
  }

  @Override
  public BusWriteStream<R> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    return this;
  }

  private void flush() {
    while (!closed && dataAddress != null && credit > 0 && !pending.isEmpty()) {
      Pending p = pending.poll();
      int len = p.chunk().length();
      pendingBytes -= len;
      credit--;
      vertx.eventBus().send(dataAddress, new Chunk(seq++, p.chunk()));
      bytesSent += len;
      if (p.written() != null) {
        p.written().complete();
      }
    }
    if (closed || dataAddress == null) {
      return;
    }
    if (ending && !endSent && pending.isEmpty()) {
      endSent = true;
      lastProgress = System.nanoTime();
      vertx.eventBus().send(dataAddress, new StreamEnd(bytesSent, seq));
    }
    if (full && pendingBytes < maxQueueBytes) {
      full = false;
      Handler<Void> h = drainHandler;
      if (h != null) {
        h.handle(null);
      }
    }
  }

  private void onControl(Message<Object> msg) {
    if (closed) {
      return;
    }
    Object body = msg.body();
    if (body instanceof Credit c && c.chunks() > 0) {
      credit += c.chunks();
      lastProgress = System.nanoTime();
      flush();
    } else if (body instanceof StreamAbort a) {
      finish(a.toException(), Outcome.CANCELLED, false);
    } else if (endSent && resultType.isInstance(body)) {
      close(Outcome.COMPLETED);
      result.complete(resultType.cast(body));
      ended.complete();
    } else {
      finish(OciError.UNKNOWN.with("unexpected stream message " + (body == null ? "null" : body.getClass().getSimpleName())),
          Outcome.FAILED, true);
    }
  }

  private void checkTimeouts() {
    long idleMillis = (System.nanoTime() - lastProgress) / 1_000_000;
    if (!endSent && credit == 0 && idleMillis > options.idleTimeout().toMillis()) {
      finish(OciError.UNAVAILABLE.with("receiver granted no credit for " + idleMillis + " ms"), Outcome.TIMED_OUT, true);
    } else if (endSent && idleMillis > options.ackTimeout().toMillis()) {
      finish(OciError.UNAVAILABLE.with("receiver did not acknowledge the end within " + idleMillis + " ms"),
          Outcome.TIMED_OUT, true);
    }
  }

  private void finish(Throwable err, Outcome how, boolean notifyPeer) {
    if (closed) {
      return;
    }
    if (notifyPeer && dataAddress != null) {
      vertx.eventBus().send(dataAddress, StreamAbort.of(err, "bus stream"));
    }
    close(how);
    for (Pending p : pending) {
      if (p.written() != null) {
        p.written().tryFail(err);
      }
    }
    pending.clear();
    pendingBytes = 0;
    ended.tryFail(err);
    result.tryFail(err);
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(err);
    }
  }

  private void close(Outcome how) {
    closed = true;
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
    }
    control.unregister();
    outcome.tryComplete(how);
  }
}
