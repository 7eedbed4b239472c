package io.flotilla.bus;

import io.flotilla.bus.StreamMessages.Chunk;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Binary codec of stream {@link Chunk}s: on the wire a sequence number, a length and the bytes,
 * nothing else (no per-message headers map). Decoding slices the payload out of the received
 * message instead of copying it: the clustered event bus hands every received message its own
 * buffer, so the slice is never shared with another message. Within a node the chunk is copied,
 * as the built-in buffer codec does, so a sender may reuse its buffer once written.
 */
final class ChunkCodec implements MessageCodec<Chunk, Chunk> {
  static final String NAME = "flotilla.stream.chunk";

  @Override
  public void encodeToWire(Buffer buffer, Chunk chunk) {
    buffer.appendLong(chunk.seq()).appendInt(chunk.data().length()).appendBuffer(chunk.data());
  }

  @Override
  public Chunk decodeFromWire(int pos, Buffer buffer) {
    long seq = buffer.getLong(pos);
    int length = buffer.getInt(pos + 8);
    int start = pos + 12;
    return new Chunk(seq, buffer.slice(start, start + length));
  }

  @Override
  public Chunk transform(Chunk chunk) {
    return new Chunk(chunk.seq(), chunk.data().copy());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
