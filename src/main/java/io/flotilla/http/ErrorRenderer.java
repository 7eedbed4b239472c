package io.flotilla.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * The one place failures become HTTP responses: {@code {"errors":[{"code","message","detail"}]}}
 * with the code's status. Anything that is not an {@link OciException} is logged and rendered as
 * UNKNOWN (500) without internal details.
 */
public final class ErrorRenderer {
  private static final System.Logger LOG = System.getLogger(ErrorRenderer.class.getName());

  private ErrorRenderer() {}

  /** Maps any failure to an OCI error. */
  public static OciException toOci(Throwable t) {
    if (t instanceof OciException e) {
      return e;
    }
    LOG.log(System.Logger.Level.ERROR, "request failed", t);
    return OciError.UNKNOWN.with("internal error");
  }

  public static String body(OciException e) {
    JsonStringEncoder enc = JsonStringEncoder.getInstance();
    return "{\"errors\":[{\"code\":\"" + e.error().name() + "\",\"message\":\""
        + new String(enc.quoteAsString(e.error().message())) + "\",\"detail\":\""
        + new String(enc.quoteAsString(e.detail())) + "\"}]}";
  }

  /**
   * Renders the failure on {@code request}'s response; one already started (a blob body cut short)
   * ends at once instead: over HTTP/1 its connection is closed without Vert.x's flush-first close,
   * which never ends while a client that stopped reading leaves bytes queued (the connection would
   * stay); over HTTP/2 only its stream is reset (the connection carries other requests).
   */
  public static void render(HttpServerRequest request, Throwable t) {
    HttpServerResponse response = request.response();
    if (!response.headWritten() || response.ended()) {
      render(response, t);
      return;
    }
    toOci(t); // logged if it is not an OCI error
    if (request.version() != HttpVersion.HTTP_2 && request.connection() instanceof ConnectionBase conn) {
      conn.channel().unsafe().close(conn.channel().voidPromise());
    } else {
      response.reset();
    }
  }

  /** Renders the failure unless a response was already started (then it is reset). */
  public static void render(HttpServerResponse response, Throwable t) {
    OciException e = toOci(t);
    if (response.headWritten() || response.ended()) {
      if (!response.ended()) {
        response.reset();
      }
      return;
    }
    String body = body(e);
    if (e instanceof io.flotilla.oci.AuthChallenge c) {
      response.putHeader("WWW-Authenticate", c.challenge());
    } else if (e instanceof io.flotilla.oci.Throttled r) {
      response.putHeader("Retry-After", Long.toString(r.retryAfterSeconds()));
    }
    response.setStatusCode(e.status())
        .putHeader("Content-Type", "application/json")
        .putHeader("Content-Length", Integer.toString(body.length()))
        .end(body);
  }
}
