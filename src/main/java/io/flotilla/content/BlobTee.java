package io.flotilla.content;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;

/**
 * One upstream blob stream split in two: it is itself the {@link ReadStream} a store consumes
 * ({@code BlobTransfer.monolithic}), and it writes the bytes of a window {@code [from, to)} to a
 * client's response as they pass. The source is paused while either side cannot take more (the
 * store paused it, or the response's write queue is full), so nothing is buffered beyond the
 * response's queue. The response is ended only once the source ended verified (so a client never
 * gets a clean end of unverified bytes); when the source fails, {@link #served()} fails and the
 * response is left for the caller to reset. A client that goes away is dropped and the store goes
 * on; a store that fails is dropped and the client goes on.
 *
 * <p>Everything runs on {@code context}, the source's context: handlers of the response are moved
 * there. Not thread-safe otherwise.
 */
final class BlobTee implements ReadStream<Buffer> {
  private final ReadStream<Buffer> source;
  private final Runnable cancel;
  private final Context context;
  private final long from;
  private final long to;
  private final Promise<Void> served = Promise.promise();
  private HttpServerResponse client;
  private long position;
  private boolean storePaused;
  private boolean storeGone;
  private boolean clientFull;
  private boolean ended;
  private Throwable failed;
  private boolean reported;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  /**
   * @param cancel stops the source for good (called once neither side wants its bytes)
   * @param client the response to serve (null: store only)
   * @param from first byte of the blob the client gets
   * @param to one past the last byte the client gets
   */
  BlobTee(ReadStream<Buffer> source, Runnable cancel, Context context, HttpServerResponse client, long from, long to) {
    this.source = source;
    this.cancel = cancel;
    this.context = context;
    this.client = client;
    this.from = from;
    this.to = to;
    source.pause();
    source.handler(this::data);
    source.endHandler(v -> end());
    source.exceptionHandler(this::fail);
    if (client == null) {
      served.tryComplete();
    } else {
      client.drainHandler(v -> context.runOnContext(x -> {
        clientFull = false;
        update();
      }));
      client.exceptionHandler(e -> context.runOnContext(x -> dropClient(e)));
    }
  }

  /** Completes when the client got its window and the response ended; fails when the source or the client failed. */
  Future<Void> served() {
    return served.future();
  }

  /** The store failed or gave up: its side no longer holds the source back. */
  void storeGone() {
    storeGone = true;
    handler = null;
    update();
  }

  private void data(Buffer chunk) {
    long start = position;
    position += chunk.length();
    HttpServerResponse c = client;
    if (c != null) {
      long a = Math.max(start, from);
      long b = Math.min(position, to);
      if (a < b) {
        c.write(a == start && b == position ? chunk : chunk.slice((int) (a - start), (int) (b - start)));
        if (c.writeQueueFull()) {
          clientFull = true;
          update();
        }
      }
    }
    Handler<Buffer> h = handler;
    if (h != null) {
      h.handle(chunk);
    }
  }

  private void end() {
    ended = true;
    HttpServerResponse c = client;
    client = null;
    if (c != null) {
      c.end().onComplete(served);
    }
    report();
  }

  private void fail(Throwable e) {
    failed = e;
    client = null;
    served.tryFail(e);
    report();
  }

  private void dropClient(Throwable e) {
    if (client != null) {
      client = null;
      clientFull = false;
      served.tryFail(e);
      update();
    }
  }

  private void report() {
    if (reported) {
      return;
    }
    if (ended && endHandler != null) {
      reported = true;
      endHandler.handle(null);
    } else if (failed != null && exceptionHandler != null) {
      reported = true;
      exceptionHandler.handle(failed);
    } else if (storeGone && (ended || failed != null)) {
      reported = true;
    }
  }

  /** Lets the source flow when every side that is still there wants bytes. */
  private void update() {
    if (ended || failed != null) {
      return;
    }
    if (storeGone && client == null) {
      source.pause();
      cancel.run();
      return;
    }
    boolean storeWants = storeGone || (handler != null && !storePaused);
    if (storeWants && !clientFull) {
      source.resume();
    } else {
      source.pause();
    }
  }

  @Override
  public BlobTee handler(Handler<Buffer> h) {
    handler = storeGone ? null : h;
    update();
    return this;
  }

  @Override
  public BlobTee exceptionHandler(Handler<Throwable> h) {
    exceptionHandler = h;
    report();
    return this;
  }

  @Override
  public BlobTee endHandler(Handler<Void> h) {
    endHandler = h;
    report();
    return this;
  }

  @Override
  public BlobTee pause() {
    storePaused = true;
    update();
    return this;
  }

  @Override
  public BlobTee resume() {
    storePaused = false;
    update();
    return this;
  }

  @Override
  public BlobTee fetch(long amount) {
    return amount > 0 ? resume() : this;
  }
}
