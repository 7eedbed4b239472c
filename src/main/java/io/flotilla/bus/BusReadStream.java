package io.flotilla.bus;

import io.flotilla.bus.Messages.Done;
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
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import java.util.ArrayDeque;
import java.util.UUID;

/**
 * The receiving end of a chunked bus stream: a {@link ReadStream} of the chunks a
 * {@link BusWriteStream} on any node sends to this stream's own address
 * ({@code flotilla.stream.<uuid>}). It owns that address and a buffer of at most
 * {@link StreamOptions#window()} chunks: it grants the sender credit only for room in the window
 * (buffered chunks plus credit not yet used never exceed it), so however slow the consumer, at
 * most {@code window * chunkSize} bytes are in flight or held. Credit is granted as the consumer
 * takes chunks, honouring {@link #pause()}, {@link #resume()} and {@link #fetch(long)}; chunks wait
 * in the buffer until a handler is set. The end is delivered after the sender's end message, once
 * its byte and chunk counts (and the announced length) match what arrived.
 *
 * <p>Threads: confined to the Vert.x context that created it; call it from that context only.
 *
 * <p>Failures: a sender abort, a count mismatch, a chunk without credit or out of sequence, or
 * silence for {@link StreamOptions#idleTimeout()} while credit is outstanding fail the stream with
 * an {@link io.flotilla.oci.OciException} (exception handler), drop the buffer and release the
 * address. {@link #cancel()} (also done by {@link #pipeTo} when the destination fails) tells the
 * sender to stop and release its file.
 */
public final class BusReadStream implements ReadStream<Buffer> {
  private final Vertx vertx;
  private final StreamOptions options;
  private final boolean ackOnEnd;
  private final String address = "flotilla.stream." + UUID.randomUUID();
  private final MessageConsumer<Object> data;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private final Promise<Void> ended = Promise.promise();
  private String controlAddress;
  private long length = -1;
  private int outstanding;
  private long demand = Long.MAX_VALUE;
  private long nextSeq;
  private long receivedBytes;
  private int maxBuffered;
  private boolean endReceived;
  private boolean closed;
  private boolean delivering;
  private Throwable undelivered;
  private Throwable abortOnAttach;
  private long lastHeard = System.nanoTime();
  private long watchdog = -1;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  /**
   * Registers the stream's address; call on the context that will consume it. The whole window
   * counts as granted: the opener hands it to the sender with the open request or reply.
   *
   * @param ackOnEnd answer the sender with {@link Done} as soon as its end message is verified, so it
   *     is released while the consumer still drains the buffer (reads); writes answer with the server
   *     handler's result instead
   */
  BusReadStream(Vertx vertx, StreamOptions options, boolean ackOnEnd) {
    this.vertx = vertx;
    this.options = options;
    this.ackOnEnd = ackOnEnd;
    this.outstanding = options.window();
    this.data = vertx.eventBus().consumer(address, this::onMessage);
  }

  /** Completes once the address is known to the cluster. */
  Future<Void> registered() {
    return data.completion();
  }

  String address() {
    return address;
  }

  /** Connects to the sender's control address; starts delivery and the idle timeout. */
  void attach(String senderControl, long streamLength) {
    this.controlAddress = senderControl;
    this.length = streamLength;
    if (closed) {
      if (abortOnAttach != null) {
        vertx.eventBus().send(senderControl, StreamAbort.of(abortOnAttach, "bus stream"));
      }
      return;
    }
    if (endReceived && ackOnEnd) {
      vertx.eventBus().send(senderControl, new Done());
    }
    lastHeard = System.nanoTime();
    watchdog = vertx.setPeriodic(options.watchdogMillis(), id -> checkIdle());
    drain();
  }

  /** Completes when the end was delivered, fails when the stream failed or was cancelled. */
  Future<Void> ended() {
    return ended.future();
  }

  /** Answers the sender with the consumer's result (after the end) or its failure. */
  void respond(Object resultOrNull, Throwable failure) {
    if (failure == null && !ended.future().succeeded()) {
      failure = OciError.UNKNOWN.with("the receiver finished before the end of the stream");
    }
    if (failure != null) {
      if (!closed) {
        fail(Bus.toOci(failure, "bus stream receiver"), true);
      } else if (ended.future().succeeded() && controlAddress != null) {
        vertx.eventBus().send(controlAddress, StreamAbort.of(failure, "bus stream receiver"));
      }
    } else if (controlAddress != null) {
      vertx.eventBus().send(controlAddress, resultOrNull == null ? new Done() : resultOrNull);
    }
  }

  /** Total bytes of the stream, or -1 when the sender did not announce it. */
  public long length() {
    return length;
  }

  /** Chunks received and not yet handed to the consumer. */
  public int bufferedChunks() {
    return queue.size();
  }

  /** The most chunks ever buffered at once; never more than the window. */
  public int maxBufferedChunks() {
    return maxBuffered;
  }

  /** Payload bytes received so far. */
  public long bytesReceived() {
    return receivedBytes;
  }

  /** Stops the stream: the sender is told to stop and release its resources; no more events. */
  public Future<Void> cancel() {
    if (closed) {
      return Future.succeededFuture();
    }
    var err = OciError.UNAVAILABLE.with("stream cancelled by the receiver");
    notifyAbort(err);
    return close(err);
  }

  /** Fails the stream because the sender's node left the cluster: nobody is left to tell. */
  void peerGone(Throwable err) {
    fail(err, false);
  }

  /** Pipes into {@code dst}; when the pipe fails (the destination closed or failed) the stream is cancelled. */
  @Override
  public Future<Void> pipeTo(WriteStream<Buffer> dst) {
    return ReadStream.super.pipeTo(dst).onFailure(err -> cancel());
  }

  @Override
  public BusReadStream handler(Handler<Buffer> h) {
    this.handler = h;
    drain();
    return this;
  }

  @Override
  public BusReadStream endHandler(Handler<Void> h) {
    this.endHandler = h;
    return this;
  }

  @Override
  public BusReadStream exceptionHandler(Handler<Throwable> h) {
    this.exceptionHandler = h;
    if (h != null && undelivered != null) {
      Throwable err = undelivered;
      undelivered = null;
      h.handle(err);
    }
    return this;
  }

  @Override
  public BusReadStream pause() {
    demand = 0;
    return this;
  }

  @Override
  public BusReadStream resume() {
    demand = Long.MAX_VALUE;
    drain();
    return this;
  }

  @Override
  public BusReadStream fetch(long amount) {
    if (amount > 0) {
      demand = demand > Long.MAX_VALUE - amount ? Long.MAX_VALUE : demand + amount;
      drain();
    }
    return this;
  }

  private void onMessage(Message<Object> msg) {
    if (closed) {
      return;
    }
    lastHeard = System.nanoTime();
    Object body = msg.body();
    if (body instanceof Chunk c) {
      Buffer chunk = c.data();
      if (outstanding <= 0 || chunk.length() > options.chunkSize() || c.seq() != nextSeq) {
        fail(OciError.UNKNOWN.with("stream protocol violation: chunk " + c.seq() + " (expected " + nextSeq + ", credit "
            + outstanding + ", " + chunk.length() + " bytes)"), true);
        return;
      }
      nextSeq++;
      outstanding--;
      receivedBytes += chunk.length();
      queue.add(chunk);
      maxBuffered = Math.max(maxBuffered, queue.size());
      drain();
    } else if (body instanceof StreamEnd end) {
      if (end.bytes() != receivedBytes || end.chunks() != nextSeq) {
        fail(OciError.SIZE_INVALID.with("stream ended after " + end.bytes() + " bytes in " + end.chunks()
            + " chunks, but " + receivedBytes + " bytes in " + nextSeq + " chunks arrived"), true);
        return;
      }
      endReceived = true;
      if (ackOnEnd && controlAddress != null) {
        vertx.eventBus().send(controlAddress, new Done());
      }
      drain();
    } else if (body instanceof StreamAbort abort) {
      fail(abort.toException(), false);
    } else {
      fail(OciError.UNKNOWN.with("unexpected stream message " + (body == null ? "null" : body.getClass().getSimpleName())),
          true);
    }
  }

  private void drain() {
    if (delivering || closed || controlAddress == null) {
      return;
    }
    delivering = true;
    try {
      while (!closed && demand > 0 && handler != null && !queue.isEmpty()) {
        Buffer chunk = queue.poll();
        if (demand != Long.MAX_VALUE) {
          demand--;
        }
        grant();
        handler.handle(chunk);
      }
      if (!closed && endReceived && queue.isEmpty() && demand > 0) {
        deliverEnd();
      }
    } catch (RuntimeException e) {
      fail(Bus.toOci(e, "bus stream consumer"), true);
    } finally {
      delivering = false;
    }
    grant();
  }

  /**
   * Grants the free part of the window once it is at least half of it (fewer credit messages), or
   * whenever the sender has no credit left (so a paused stream still fills its whole window).
   */
  private void grant() {
    if (closed || endReceived || controlAddress == null) {
      return;
    }
    int free = options.window() - outstanding - queue.size();
    if (free > 0 && (free >= options.window() / 2 || outstanding == 0)) {
      outstanding += free;
      lastHeard = System.nanoTime();
      vertx.eventBus().send(controlAddress, new Credit(free));
    }
  }

  private void deliverEnd() {
    if (length >= 0 && receivedBytes != length) {
      fail(OciError.SIZE_INVALID.with("stream of " + length + " bytes ended after " + receivedBytes), true);
      return;
    }
    closed = true;
    stopTimers();
    data.unregister();
    ended.tryComplete();
    Handler<Void> h = endHandler;
    if (h != null) {
      h.handle(null);
    }
  }

  private void checkIdle() {
    long idleMillis = (System.nanoTime() - lastHeard) / 1_000_000;
    if (!closed && !endReceived && outstanding > 0 && idleMillis > options.idleTimeout().toMillis()) {
      fail(OciError.UNAVAILABLE.with("sender sent nothing for " + idleMillis + " ms"), true);
    }
  }

  private void fail(Throwable err, boolean notifyPeer) {
    if (closed) {
      return;
    }
    if (notifyPeer) {
      notifyAbort(err);
    }
    close(err);
    Handler<Throwable> h = exceptionHandler;
    if (h != null) {
      h.handle(err);
    } else {
      undelivered = err;
    }
  }

  private void notifyAbort(Throwable err) {
    if (controlAddress != null) {
      vertx.eventBus().send(controlAddress, StreamAbort.of(err, "bus stream"));
    } else {
      abortOnAttach = err;
    }
  }

  private Future<Void> close(Throwable err) {
    closed = true;
    queue.clear();
    stopTimers();
    ended.tryFail(err);
    return data.unregister();
  }

  private void stopTimers() {
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
      watchdog = -1;
    }
  }
}
