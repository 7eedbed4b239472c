package io.flotilla.bus;

import java.time.Duration;

/**
 * A typed event bus address: the request record it takes, the reply record it answers with, and
 * how long a caller waits. Storage addresses are node-scoped: {@link #on(String)} gives the
 * concrete address served by one node.
 */
public record Address<Q, R>(String name, Class<Q> request, Class<R> reply, Duration timeout) {
  /** The address as served by the node with this id. */
  public String on(String nodeId) {
    return name + "@" + nodeId;
  }
}
