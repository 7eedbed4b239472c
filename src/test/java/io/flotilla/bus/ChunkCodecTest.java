package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import io.flotilla.bus.StreamMessages.Chunk;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class ChunkCodecTest {
  private final ChunkCodec codec = new ChunkCodec();

  @Test
  void wireRoundTripKeepsSequenceAndBytesAfterAnEnvelope() {
    Buffer payload = Buffer.buffer("some chunk bytes");
    Buffer wire = Buffer.buffer().appendString("envelope");
    codec.encodeToWire(wire, new Chunk(42, payload));
    wire.appendString("trailer");

    Chunk decoded = codec.decodeFromWire("envelope".length(), wire);

    assertEquals(42, decoded.seq());
    assertEquals(payload, decoded.data());
  }

  @Test
  void emptyChunkRoundTrips() {
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, new Chunk(0, Buffer.buffer()));
    assertEquals(0, codec.decodeFromWire(0, wire).data().length());
  }

  @Test
  void localDeliveryCopiesTheBytes() {
    Buffer payload = Buffer.buffer("abc");
    Chunk local = codec.transform(new Chunk(7, payload));
    payload.setByte(0, (byte) 'x');
    assertEquals(7, local.seq());
    assertEquals(Buffer.buffer("abc"), local.data());
    assertNotSame(payload, local.data());
  }
}
