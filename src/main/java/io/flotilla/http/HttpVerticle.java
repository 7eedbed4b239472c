package io.flotilla.http;

import io.flotilla.config.HttpConfig;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One HTTP front-end instance (deployed once per core, all sharing the port): {@code /v2} goes to
 * the {@link V2Api}, everything else to the operator router. Stopping it shuts the server down
 * gracefully: no new connections, in-flight requests finish within the shutdown timeout.
 */
public final class HttpVerticle extends VerticleBase {
  private final HttpConfig config;
  private final Handler<HttpServerRequest> v2;
  private final Function<io.vertx.core.Vertx, Router> ops;
  private final RequestObserver observer;
  private final Handler<HttpServerRequest> token;
  private HttpServer server;

  public HttpVerticle(HttpConfig config, Handler<HttpServerRequest> v2, Function<io.vertx.core.Vertx, Router> ops,
      RequestObserver observer) {
    this(config, v2, ops, observer, null);
  }

  /**
   * @param token the token endpoint ({@code /auth/token}); null when access control is off
   */
  public HttpVerticle(HttpConfig config, Handler<HttpServerRequest> v2, Function<io.vertx.core.Vertx, Router> ops,
      RequestObserver observer, Handler<HttpServerRequest> token) {
    this.token = token;
    this.config = config;
    this.observer = observer;
    this.v2 = v2;
    this.ops = ops;
  }

  @Override
  public Future<?> start() {
    Router router = ops.apply(vertx);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.host())
        .setPort(config.port())
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        .setMaxHeaderSize(16 * 1024)
        .setHandle100ContinueAutomatically(true)
        .setIdleTimeout(300);
    server = vertx.createHttpServer(options).requestHandler(req -> {
      String path = req.path();
      if (path.startsWith("/v2/") || path.equals("/v2")) {
        v2.handle(req);
      } else if (token != null && path.equals(TokenEndpoint.PATH)) {
        observer.observe(req, "token", "anonymous", req.getHeader("X-Request-Id"));
        token.handle(req);
      } else {
        observer.observe(req, RequestObserver.opsRoute(path), "anonymous", req.getHeader("X-Request-Id"));
        router.handle(req);
      }
    });
    return server.listen();
  }

  /** The bound port (useful when configured with port 0). */
  public int actualPort() {
    return server.actualPort();
  }

  @Override
  public Future<?> stop() {
    return server.shutdown(config.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }
}
