package io.flotilla.content;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.util.function.LongConsumer;

/** A stream of bytes passed on unchanged, telling {@code counted} the size of each chunk on its way. */
final class CountingStream implements ReadStream<Buffer> {
  private final ReadStream<Buffer> delegate;
  private final LongConsumer counted;

  CountingStream(ReadStream<Buffer> delegate, LongConsumer counted) {
    this.delegate = delegate;
    this.counted = counted;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> h) {
    delegate.handler(h == null ? null : chunk -> {
      counted.accept(chunk.length());
      h.handle(chunk);
    });
    return this;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
    delegate.exceptionHandler(h);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> h) {
    delegate.endHandler(h);
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    delegate.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    delegate.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    delegate.fetch(amount);
    return this;
  }
}
