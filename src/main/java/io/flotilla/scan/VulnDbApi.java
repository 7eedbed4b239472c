package io.flotilla.scan;

import io.vertx.ext.web.Router;

/**
 * {@code GET /api/v1/vulndb}: the configured database reference, the active database, and each member's
 * database state and scanner counters ({@link VulnDbState}). Mounted behind the admin API's gate.
 */
public final class VulnDbApi {
  private VulnDbApi() {}

  /** Adds the route to {@code router}. */
  public static void mount(Router router, VulnDbRollout rollout) {
    router.get("/api/v1/vulndb").handler(rc -> rollout.status().onComplete(ar -> {
      if (ar.failed()) {
        rc.response().setStatusCode(503).putHeader("Content-Type", "application/json")
            .end("{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"database states unavailable\"}]}");
        return;
      }
      rc.response().putHeader("Content-Type", "application/json").end(ar.result().encodePrettily());
    }));
  }
}
