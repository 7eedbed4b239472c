package io.flotilla.storage;

/**
 * Who asked, and through which request: travels with every storage call (and so with every bus
 * message) so that the node doing the work can apply policies and emit events for it.
 */
public record RequestContext(String requestId, String identity, String remoteAddress, String host,
    String method, String userAgent) {

  public RequestContext {
    requestId = requestId == null ? "" : requestId;
    identity = identity == null || identity.isEmpty() ? "anonymous" : identity;
    remoteAddress = remoteAddress == null ? "" : remoteAddress;
    host = host == null ? "" : host;
    method = method == null ? "" : method;
    userAgent = userAgent == null ? "" : userAgent;
  }

  /** Identity of work the node does on its own behalf. */
  public static final String INTERNAL_IDENTITY = "flotilla";

  /** Work the node does on its own behalf (GC, start-up, replication): no events are emitted for it. */
  public static RequestContext internal(String what) {
    return new RequestContext(what, INTERNAL_IDENTITY, "", "", "", "");
  }

  /**
   * A finding of the node's own work that is reported as an event (a tag conflict resolved while
   * copies merge): the actor is the node, the request names what was found.
   */
  public static RequestContext reported(String what, String node) {
    return new RequestContext(what, INTERNAL_IDENTITY, node, "", "SYNC", "flotilla");
  }

  /**
   * Work the node does for an operator that changes content, such as a sync from an upstream
   * registry: not internal, so its pushes and deletes are reported like a client's (actor
   * {@value #INTERNAL_IDENTITY}, method {@code SYNC}, the upstream as the request's address).
   */
  public static RequestContext sync(String requestId, String upstream) {
    return new RequestContext(requestId, INTERNAL_IDENTITY, upstream, "", "SYNC", "flotilla-sync");
  }

  public boolean isInternal() {
    return INTERNAL_IDENTITY.equals(identity) && remoteAddress.isEmpty();
  }
}
