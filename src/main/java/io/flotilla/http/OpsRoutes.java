package io.flotilla.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageAdmin;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.BooleanSupplier;

/**
 * Operator endpoints: {@code /metrics} (Prometheus text), {@code /health/live},
 * {@code /health/ready}, and the admin API under {@code /api/v1}: cluster membership, storage
 * usage per repository, garbage collection with dry run, and a graceful leave of the cluster
 * ({@code POST /api/v1/cluster/leave}: answers 202 at once; the node hands its repositories off,
 * leaves and exits).
 */
public final class OpsRoutes {
  private static final ObjectMapper JSON = new ObjectMapper();

  private OpsRoutes() {}

  public static Router router(Vertx vertx, PrometheusMeterRegistry prometheus, BooleanSupplier ready,
      StorageAdmin admin, java.util.function.Supplier<Object> clusterStatus, Runnable leave) {
    return router(vertx, prometheus, ready, admin, clusterStatus, leave, null);
  }

  /**
   * @param auth access control of the admin API; null leaves it open (no {@code auth} configured)
   */
  public static Router router(Vertx vertx, PrometheusMeterRegistry prometheus, BooleanSupplier ready,
      StorageAdmin admin, java.util.function.Supplier<Object> clusterStatus, Runnable leave,
      io.flotilla.auth.Authenticator auth) {
    Router router = Router.router(vertx);
    // every answer is JSON, also for paths and methods nothing serves
    router.errorHandler(404, rc -> ErrorRenderer.render(rc.response(),
        io.flotilla.oci.OciError.NOT_FOUND.with("no such endpoint: " + rc.request().path())));
    router.errorHandler(405, rc -> ErrorRenderer.render(rc.response(),
        io.flotilla.oci.OciError.UNSUPPORTED.with(rc.request().method() + " is not supported on " + rc.request().path())));
    router.errorHandler(500, rc -> ErrorRenderer.render(rc.response(), rc.failure() == null
        ? io.flotilla.oci.OciError.UNKNOWN.with("internal error") : rc.failure()));
    if (auth != null) {
      router.route("/api/v1/*").handler(new AdminGate(auth));
    }
    router.get("/metrics").handler(rc -> rc.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(prometheus.scrape()));
    router.get("/health/live").handler(rc -> json(rc.response(), 200, "{\"status\":\"UP\"}"));
    router.get("/health/ready").handler(rc -> {
      boolean ok = ready.getAsBoolean();
      json(rc.response(), ok ? 200 : 503, ok ? "{\"status\":\"UP\"}" : "{\"status\":\"DOWN\"}");
    });
    router.get("/api/v1/cluster").handler(rc -> write(rc, clusterStatus.get()));
    router.post("/api/v1/cluster/leave").handler(rc -> {
      json(rc.response(), 202, "{\"status\":\"leaving\"}");
      leave.run();
    });
    router.get("/api/v1/storage/usage").handler(rc -> {
      String only = rc.request().getParam("repository");
      admin.usage(ctx(rc)).onComplete(ar -> {
        if (ar.failed()) {
          ErrorRenderer.render(rc.response(), ar.cause());
          return;
        }
        var usage = ar.result();
        if (only != null) {
          usage = new io.flotilla.storage.StorageTypes.Usage(usage.storedBytes(), usage.storedBlobs(),
              usage.repositories().stream().filter(r -> r.name().equals(only)).toList());
        }
        write(rc, usage);
      });
    });
    router.deleteWithRegex("/api/v1/repositories/(?<name>.+)").handler(rc ->
        admin.deleteRepository(ctx(rc), rc.pathParam("name")).onComplete(ar -> {
          if (ar.failed()) {
            ErrorRenderer.render(rc.response(), ar.cause());
          } else {
            rc.response().setStatusCode(202).end();
          }
        }));
    router.post("/api/v1/storage/gc").handler(rc -> {
      boolean dryRun = "true".equalsIgnoreCase(rc.request().getParam("dryRun"));
      admin.collectGarbage(ctx(rc), dryRun).onComplete(ar -> {
        if (ar.failed()) {
          ErrorRenderer.render(rc.response(), ar.cause());
        } else {
          write(rc, ar.result());
        }
      });
    });
    return router;
  }

  private static RequestContext ctx(RoutingContext rc) {
    io.flotilla.auth.Principal p = rc.get(io.flotilla.auth.Principal.KEY);
    return new RequestContext(rc.request().getHeader("X-Request-Id"), p == null ? "anonymous" : p.name(),
        rc.request().remoteAddress() == null ? "" : rc.request().remoteAddress().hostAddress(),
        rc.request().getHeader("Host"), rc.request().method().name(), rc.request().getHeader("User-Agent"));
  }

  private static void write(RoutingContext rc, Object value) {
    try {
      json(rc.response(), 200, JSON.writeValueAsString(value));
    } catch (Exception e) {
      ErrorRenderer.render(rc.response(), e);
    }
  }

  private static void json(HttpServerResponse r, int status, String body) {
    r.setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }
}
