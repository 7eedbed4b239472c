package io.flotilla.http;

import io.flotilla.config.HttpConfig;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.ServerSSLOptions;
import io.vertx.ext.web.Router;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One HTTP front-end instance (deployed once per core, all sharing the ports): {@code /v2} goes to
 * the {@link V2Api}, {@code /auth/token} to the token endpoint, everything else to the operator router. With {@code http.adminPort} set, the
 * operator router ({@code /metrics}, {@code /health/*}, {@code /api/v1/*}) is served on a second
 * listener at that port, and the public one answers only {@code /v2} and {@code /health/*} (404
 * for the rest). With TLS, both listeners serve the same certificate, with HTTP/2 offered through
 * ALPN, and {@link #updateTls} swaps it for new connections. Stopping it shuts the servers down
 * gracefully: no new connections, in-flight requests finish within the shutdown timeout.
 */
public final class HttpVerticle extends VerticleBase {
  /** The longest request line read (method, target and version); longer is 414. */
  static final int MAX_REQUEST_LINE = 64 * 1024;

  private final HttpConfig config;
  private final ServerSSLOptions tls;
  private final Handler<HttpServerRequest> v2;
  private final Function<io.vertx.core.Vertx, Router> ops;
  private final RequestObserver observer;
  private final Handler<HttpServerRequest> token;
  private HttpServer server;
  private HttpServer admin;

  /**
   * @param tls the certificate to serve ({@link ServerTls#load}); null for plain HTTP
   * @param ops builds the operator router (metrics, health, admin API) for this instance
   * @param token the token endpoint ({@code /auth/token}, always on the public listener); null when
   *     access control is off
   */
  public HttpVerticle(HttpConfig config, ServerSSLOptions tls, Handler<HttpServerRequest> v2,
      Function<io.vertx.core.Vertx, Router> ops, RequestObserver observer, Handler<HttpServerRequest> token) {
    this.token = token;
    this.config = config;
    this.tls = tls;
    this.observer = observer;
    this.v2 = v2;
    this.ops = ops;
  }

  @Override
  public Future<?> start() {
    Router router = ops.apply(vertx);
    boolean separate = config.separateAdmin();
    server = vertx.createHttpServer(options(config.port())).requestHandler(req -> {
      String path = req.path();
      if (path.startsWith("/v2/") || path.equals("/v2")) {
        v2.handle(req);
      } else if (token != null && path.equals(TokenEndpoint.PATH)) {
        observer.observe(req, "token", "anonymous", req.getHeader("X-Request-Id"));
        token.handle(req);
      } else if (!separate || path.startsWith("/health/")) {
        operator(router, req);
      } else {
        // the operator endpoints live on the admin listener: here they do not exist
        ErrorRenderer.render(req.response(), io.flotilla.oci.OciError.NOT_FOUND.with("no such endpoint: " + path));
      }
    });
    if (!separate) {
      return server.listen();
    }
    admin = vertx.createHttpServer(options(config.adminPort())).requestHandler(req -> operator(router, req));
    return server.listen().compose(s -> admin.listen());
  }

  private void operator(Router router, HttpServerRequest req) {
    observer.observe(req, RequestObserver.opsRoute(req.path()), "anonymous", req.getHeader("X-Request-Id"));
    router.handle(req);
  }

  private HttpServerOptions options(int port) {
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.host())
        .setPort(port)
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        .setMaxHeaderSize(16 * 1024)
        // GraphQL queries of zot's search API come in the URL (GET ?query=), past Vert.x's 4 KiB default
        .setMaxInitialLineLength(MAX_REQUEST_LINE)
        .setHandle100ContinueAutomatically(true)
        .setIdleTimeout(300);
    if (tls != null) {
      options.setSsl(true).setUseAlpn(true).setKeyCertOptions(tls.getKeyCertOptions());
    }
    return options;
  }

  /**
   * Serves {@code options} on new TLS connections of both listeners (open connections keep the
   * certificate they were made with). The ports are shared by every instance, so one call updates them all.
   */
  public Future<?> updateTls(ServerSSLOptions options) {
    List<Future<Boolean>> updates = new ArrayList<>();
    updates.add(server.updateSSLOptions(options));
    if (admin != null) {
      updates.add(admin.updateSSLOptions(options));
    }
    return Future.all(updates);
  }

  /** The bound port (useful when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** The admin listener's bound port, or -1 when there is none. */
  public int adminPort() {
    return admin == null ? -1 : admin.actualPort();
  }

  @Override
  public Future<?> stop() {
    long timeout = config.shutdownTimeout().toMillis();
    Future<Void> stopped = server.shutdown(timeout, TimeUnit.MILLISECONDS);
    return admin == null ? stopped : Future.join(stopped, admin.shutdown(timeout, TimeUnit.MILLISECONDS));
  }
}
