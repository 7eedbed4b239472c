package io.flotilla.http;

import io.flotilla.auth.Authenticator;
import io.flotilla.auth.Principal;
import io.flotilla.oci.AuthChallenge;
import io.flotilla.oci.OciError;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * Access control in front of the admin API ({@code /api/v1/*}): every endpoint needs an
 * authenticated admin (Basic with a password or an API key, or a bearer token), except
 * {@code /api/v1/apikeys}, where every authenticated user manages their own keys. The caller's
 * principal is left in the routing context under {@link Principal#KEY}.
 */
final class AdminGate implements Handler<RoutingContext> {
  static final String SELF_SERVICE = "/api/v1/apikeys";
  private final Authenticator auth;

  AdminGate(Authenticator auth) {
    this.auth = auth;
  }

  @Override
  public void handle(RoutingContext rc) {
    rc.request().pause();
    String address = rc.request().remoteAddress() == null ? "" : rc.request().remoteAddress().hostAddress();
    auth.authenticate(rc.request().getHeader("Authorization"), address).onComplete(ar -> {
      rc.request().resume();
      if (ar.failed()) {
        Throwable err = ar.cause() instanceof io.flotilla.oci.OciException e && e.error() == OciError.UNAUTHORIZED
            ? new AuthChallenge(e.detail(), "Basic realm=\"flotilla\"") : ar.cause();
        rc.response().putHeader("Connection", "close");
        ErrorRenderer.render(rc.response(), err);
        return;
      }
      Principal p = ar.result().principal();
      String path = rc.request().path();
      boolean selfService = path.equals(SELF_SERVICE) || path.startsWith(SELF_SERVICE + "/");
      if (!p.authenticated()) {
        rc.response().putHeader("Connection", "close");
        ErrorRenderer.render(rc.response(), new AuthChallenge("authentication required", "Basic realm=\"flotilla\""));
      } else if (!p.admin() && !selfService) {
        rc.response().putHeader("Connection", "close");
        ErrorRenderer.render(rc.response(), OciError.DENIED.with("the admin API is for admins"));
      } else {
        rc.put(Principal.KEY, p);
        rc.next();
      }
    });
  }
}
