package io.flotilla.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.vertx.core.http.HttpServerResponse;

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

  /** Renders the failure unless a response was already started. */
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
