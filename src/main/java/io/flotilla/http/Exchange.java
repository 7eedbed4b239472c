package io.flotilla.http;

import io.flotilla.storage.RequestContext;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * One {@code /v2} request in flight: the raw request, its parsed route and the caller context that
 * travels to storage, and whether access control lets a requested cross-repository mount read its
 * source. Owned by the event loop that received the request.
 */
record Exchange(HttpServerRequest request, V2Route route, RequestContext ctx, boolean mountAllowed) {
  HttpServerResponse response() {
    return request.response();
  }

  String param(String name) {
    return request.getParam(name);
  }

  /** Declared body length, or -1 when absent or chunked. */
  long contentLength() {
    String v = request.getHeader("Content-Length");
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** True when the request may carry a body (declared non-zero length or chunked). */
  boolean hasBody() {
    long len = contentLength();
    if (len > 0) {
      return true;
    }
    String te = request.getHeader("Transfer-Encoding");
    return len < 0 && te != null && te.toLowerCase().contains("chunked");
  }

  /**
   * Reads the body into memory, at most {@code max} bytes: the body, or null once it grows past
   * {@code max}. The rest is then not kept, and an HTTP/1 connection is marked to close after the
   * answer (the unread bytes cannot be left in it).
   */
  io.vertx.core.Future<io.vertx.core.buffer.Buffer> readBody(int max) {
    io.vertx.core.Promise<io.vertx.core.buffer.Buffer> promise = io.vertx.core.Promise.promise();
    io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer();
    request.handler(chunk -> {
      if (promise.future().isComplete()) {
        return;
      }
      if (body.length() + chunk.length() > max) {
        if (request.version() != io.vertx.core.http.HttpVersion.HTTP_2) { // no connection headers in HTTP/2
          response().putHeader("Connection", "close");
        }
        promise.tryComplete(null);
        return;
      }
      body.appendBuffer(chunk);
    });
    request.exceptionHandler(promise::tryFail);
    request.endHandler(v -> promise.tryComplete(body));
    request.resume();
    return promise.future();
  }
}
