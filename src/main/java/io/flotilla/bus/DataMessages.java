package io.flotilla.bus;

import io.flotilla.storage.RequestContext;
import java.util.Map;

/**
 * The bus half of a data-channel transfer: the request that names the blob region or the upload
 * write, and the grant that answers it (where to connect, the ticket to present). Values only.
 */
public final class DataMessages {
  private DataMessages() {}

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

  /** Asks a node to send a blob region over its data channel ({@link Addresses#DATA_READ}). */
  public record DataReadRequest(OpenRead open, String fromNode) {}

  /** Asks a node to take a write over its data channel ({@link Addresses#DATA_WRITE}). */
  public record DataWriteRequest(OpenWrite open, String fromNode) {}

  /**
   * Where and how to connect: the data channel's {@code host:port}, a single-use ticket for this one
   * transfer, and the byte count that will follow (reads; the announced length, or -1, for writes).
   */
  public record DataGrant(String host, int port, String ticket, long length) {}
}
