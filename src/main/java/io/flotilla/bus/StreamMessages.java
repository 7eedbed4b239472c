package io.flotilla.bus;

import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RequestContext;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;

/**
 * Records of the chunked bus streams ({@link BusReadStream}, {@link BusWriteStream}). Chunks
 * travel as {@link Chunk}s in a binary {@link ChunkCodec}; everything else is one of these records,
 * carried by {@link RecordCodec}. Values only: no thread, no failure mode.
 */
public final class StreamMessages {

  /** The records that travel on per-stream addresses (not as requests of an {@link Address}). */
  static final List<Class<?>> STREAM_RECORDS = List.of(Credit.class, StreamEnd.class, StreamAbort.class);

  private StreamMessages() {}

  /**
   * What a reader asks for: {@code length} bytes of a blob from {@code offset}; a length of -1
   * means up to the end of the blob.
   */
  public record OpenRead(RequestContext ctx, String digest, long offset, long length) {
    /** The whole blob. */
    public static OpenRead whole(RequestContext ctx, String digest) {
      return new OpenRead(ctx, digest, 0, -1);
    }
  }

  /**
   * What a writer announces: the purpose (which server-side handler takes the bytes), free-form
   * parameters for that handler (repository, upload id, ...) and the length, or -1 when unknown.
   */
  public record OpenWrite(RequestContext ctx, String purpose, Map<String, String> params, long length) {
    public OpenWrite {
      params = params == null ? Map.of() : Map.copyOf(params);
    }
  }

  /** Wire request of {@link Addresses#BLOB_READ}: the reader's chunk address and initial window. */
  public record ReadStreamRequest(OpenRead open, String dataAddress, int window, int chunkSize) {}

  /** Wire request of {@link Addresses#BLOB_WRITE}: the writer's control address and chunk size. */
  public record WriteStreamRequest(OpenWrite open, String controlAddress, int chunkSize) {}

  /**
   * Reply to both opens: the peer's per-stream address (the sender's control address for a read,
   * the receiver's chunk address for a write), the stream length (-1: unknown), the credit granted
   * with the reply (0 for reads: the reader granted its window in the request) and the chunk size
   * the sender must not exceed.
   */
  public record StreamOpened(String address, long length, int credit, int chunkSize) {}

  /**
   * Sender to receiver: the bytes of chunk number {@code seq} (0, 1, 2, ...), numbered so that
   * reordering or loss is detected.
   */
  record Chunk(long seq, Buffer data) {}

  /** Receiver to sender: you may send this many more chunks. */
  public record Credit(int chunks) {}

  /** Sender to receiver, after the last chunk: what was sent, for the receiver to verify. */
  public record StreamEnd(long bytes, long chunks) {}

  /** Either direction: the stream is over because of this OCI error (code name, detail). */
  public record StreamAbort(String code, String detail) {
    static StreamAbort of(Throwable t, String where) {
      OciException e = Bus.toOci(t, where);
      return new StreamAbort(e.error().name(), e.detail());
    }

    OciException toException() {
      return new OciException(OciError.byName(code), detail);
    }
  }
}
