package io.flotilla.bus;

import io.flotilla.bus.StreamMessages.OpenRead;
import io.flotilla.bus.StreamMessages.OpenWrite;

/**
 * The bus half of a data-channel transfer: the request that names the blob region or the upload
 * write, and the grant that answers it (where to connect, the ticket to present). Values only.
 */
public final class DataMessages {
  private DataMessages() {}

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
