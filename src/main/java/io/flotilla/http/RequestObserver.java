package io.flotilla.http;

import io.vertx.core.http.HttpServerRequest;

/**
 * Observes every finished HTTP request: one access-log line and the request metrics. Installed
 * once per request by the HTTP verticle, before routing, so no request escapes it.
 */
public final class RequestObserver {
  private final RegistryMetrics metrics;
  private final AccessLog accessLog;

  /** @param accessLog null when the access log is off */
  public RequestObserver(RegistryMetrics metrics, AccessLog accessLog) {
    this.metrics = metrics;
    this.accessLog = accessLog;
  }

  /** Arranges for the request to be recorded when its response ends. */
  void observe(HttpServerRequest req, String route, String identity, String requestId) {
    long started = System.nanoTime();
    req.response().endHandler(v -> {
      long nanos = System.nanoTime() - started;
      int status = req.response().getStatusCode();
      long sent = req.response().bytesWritten();
      metrics.record(route, req.method().name(), status, req.bytesRead(), sent, nanos);
      if (accessLog != null) {
        var remote = req.remoteAddress();
        String ua = req.getHeader("User-Agent");
        accessLog.log(remote == null ? "" : remote.hostAddress(), identity, req.method().name(), req.uri(), status,
            sent, nanos / 1000, ua == null ? "" : ua, requestId == null ? "-" : requestId);
      }
    });
  }

  /** The route label of a non-registry request. */
  static String opsRoute(String path) {
    if (path.equals("/metrics")) {
      return "metrics";
    }
    if (path.startsWith("/health/")) {
      return "health";
    }
    if (path.startsWith("/api/")) {
      return "admin";
    }
    return "other";
  }
}
