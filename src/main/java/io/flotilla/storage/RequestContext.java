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

  /** Work the node does on its own behalf (GC, start-up). */
  public static RequestContext internal(String what) {
    return new RequestContext(what, "flotilla", "", "", "", "");
  }
}
