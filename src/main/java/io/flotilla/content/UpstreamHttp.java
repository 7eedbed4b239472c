package io.flotilla.content;

import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.util.Locale;

/**
 * GETs against one upstream registry, the way the distribution API needs them: a request that
 * meets 429, 502, 503, 504 or a connection error before its answer's head is tried again (up to
 * {@code maxAttempts}, {@link Backoff}), a 401 from the registry is answered once through
 * {@link UpstreamAuth}, and redirects are followed (at most {@value #MAX_REDIRECTS}) with the
 * {@code Authorization} header only on the registry's own origin (scheme, host and port), never on
 * object storage or any other host. Completes with the final 2xx response, paused and unread; any
 * other outcome is an {@link UpstreamException} naming the method and path. Callbacks run on the
 * caller's Vert.x context (or one the client picks); nothing blocks.
 */
final class UpstreamHttp {
  static final int MAX_REDIRECTS = 5;
  private static final System.Logger LOG = System.getLogger(UpstreamHttp.class.getName());

  private final Vertx vertx;
  private final UpstreamConfig config;
  private final HttpClientAgent client;
  private final UpstreamAuth auth;
  private final String origin;

  UpstreamHttp(Vertx vertx, UpstreamConfig config) {
    this.vertx = vertx;
    this.config = config;
    HttpClientOptions options = new HttpClientOptions().setKeepAlive(true)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.requestTimeout().toMillis()))
        .setVerifyHost(config.verifyTls()).setTrustAll(!config.verifyTls());
    if (config.caCertificate() != null) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(config.caCertificate().toString()));
    }
    this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(16));
    this.auth = new UpstreamAuth(config, this::token, System::currentTimeMillis);
    this.origin = origin(config.url());
  }

  /** The absolute URL of a path under the registry's base URL, e.g. {@code /v2/a/tags/list}. */
  String url(String path) {
    return config.url() + path;
  }

  /**
   * GETs {@code url}, authenticating for {@code scope} ({@code repository:<name>:pull}) on the
   * registry's origin. A 404 fails as NOT_FOUND rendered with {@code notFound}.
   */
  Future<HttpClientResponse> get(String url, String scope, String accept, OciError notFound) {
    return new Exchange(scope, accept, notFound).run(url, null);
  }

  /** Reads a paused response's body, at most {@code limit} bytes (see {@link Responses#read}). */
  Future<Buffer> read(HttpClientResponse resp, long limit, String what, OciError notFound) {
    return Responses.read(vertx, resp, limit, config.requestTimeout().toMillis(), what, notFound);
  }

  /** Reads and drops an unwanted answer's (small) body; never fails. */
  Future<Buffer> drain(HttpClientResponse resp) {
    return Responses.drain(vertx, resp, config.requestTimeout().toMillis());
  }

  long idleMillis() {
    return config.requestTimeout().toMillis();
  }

  Future<Void> close() {
    return client.close();
  }

  /** One logical GET: its redirects and its one answer to a challenge. */
  private final class Exchange {
    private final String scope;
    private final String accept;
    private final OciError notFound;
    private int redirects;
    private boolean answered;

    Exchange(String scope, String accept, OciError notFound) {
      this.scope = scope;
      this.accept = accept;
      this.notFound = notFound;
    }

    /** @param authorization what to send after answering a challenge; null: what {@link UpstreamAuth} says */
    Future<HttpClientResponse> run(String url, String authorization) {
      URI uri;
      try {
        uri = URI.create(url);
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, "not a URL: " + describe(url)));
      }
      boolean own = origin(uri).equals(origin);
      Future<String> header = !own ? Future.succeededFuture(null)
          : authorization != null ? Future.succeededFuture(authorization) : auth.header(scope);
      return header.compose(h -> attempt(url, h, 1, accept, notFound).compose(resp -> handle(url, own, h, resp)));
    }

    private Future<HttpClientResponse> handle(String url, boolean own, String sent, HttpClientResponse resp) {
      int status = resp.statusCode();
      if (status >= 200 && status < 300) {
        return Future.succeededFuture(resp);
      }
      if (status == 401 && own && !answered) {
        answered = true;
        var challenges = resp.headers().getAll("WWW-Authenticate");
        return drain(resp)
            .compose(b -> auth.answer(challenges, scope, sent, describe(url)))
            .compose(h -> run(url, h));
      }
      String location = resp.getHeader("Location");
      if (status >= 300 && status < 400 && location != null && redirects < MAX_REDIRECTS) {
        redirects++;
        String target;
        try {
          URI next = URI.create(url).resolve(location.trim());
          String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
          if (!scheme.equals("http") && !scheme.equals("https") || next.getHost() == null) {
            throw new IllegalArgumentException();
          }
          target = next.toString();
        } catch (IllegalArgumentException e) {
          resp.request().reset();
          return failed(Kind.PROTOCOL, describe(url) + ": " + status + " to a location this client cannot follow");
        }
        return drain(resp).compose(b -> run(target, null));
      }
      return drain(resp).compose(body -> Future.failedFuture(failure(url, own, status, body)));
    }

    private UpstreamException failure(String url, boolean own, int status, Buffer body) {
      String what = describe(url) + ": " + status + summary(body);
      return switch (status) {
        case 401 -> new UpstreamException(Kind.UNAUTHORIZED, what + (own ? " (credentials refused)" : " (from a host "
            + "this client sends no credentials to)"));
        case 403 -> new UpstreamException(Kind.DENIED, what);
        case 404 -> new UpstreamException(Kind.NOT_FOUND, notFound, what);
        default -> status >= 500 || Backoff.retryable(status) ? new UpstreamException(Kind.UNAVAILABLE, what)
            : new UpstreamException(Kind.PROTOCOL, status >= 300 && status < 400 ? what + " (redirect not followed)" : what);
      };
    }
  }

  /**
   * Sends one GET; retries connection errors and 429/502/503/504 with backoff. Completes with any
   * other response (paused), or fails UNAVAILABLE once the attempts are used up.
   */
  private Future<HttpClientResponse> attempt(String url, String authorization, int attempt, String accept,
      OciError notFound) {
    return send(url, authorization, accept).transform(ar -> {
      if (ar.succeeded() && !Backoff.retryable(ar.result().statusCode())) {
        return Future.succeededFuture(ar.result());
      }
      if (ar.failed() && ar.cause() instanceof UpstreamException u) {
        return Future.failedFuture(u); // ours (an unusable URL): trying again changes nothing
      }
      String why;
      long retryAfter = -1;
      Future<?> drained;
      if (ar.succeeded()) {
        HttpClientResponse resp = ar.result();
        why = Integer.toString(resp.statusCode());
        retryAfter = Backoff.retryAfterMillis(resp.getHeader("Retry-After"), System.currentTimeMillis());
        drained = drain(resp);
      } else {
        why = scrub(ar.cause());
        drained = Future.succeededFuture();
      }
      if (attempt >= config.maxAttempts()) {
        String detail = describe(url) + ": " + why + " after " + attempt + (attempt == 1 ? " attempt" : " attempts");
        return drained.transform(d -> Future.failedFuture(new UpstreamException(Kind.UNAVAILABLE, notFound, detail)));
      }
      long delay = Backoff.delayMillis(config, attempt, retryAfter);
      LOG.log(System.Logger.Level.DEBUG, () -> describe(url) + ": " + why + ", attempt " + (attempt + 1) + " of "
          + config.maxAttempts() + " in " + delay + " ms");
      return drained.transform(d -> vertx.timer(delay))
          .compose(v -> attempt(url, authorization, attempt + 1, accept, notFound));
    });
  }

  /** One GET on the wire; the response comes back paused so that no byte is lost before its reader is set. */
  private Future<HttpClientResponse> send(String url, String authorization, String accept) {
    RequestOptions options;
    try {
      options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url);
    } catch (RuntimeException e) {
      return failed(Kind.PROTOCOL, "not a URL: " + describe(url));
    }
    long timeout = config.requestTimeout().toMillis();
    options.setConnectTimeout(timeout).setIdleTimeout(timeout).putHeader("User-Agent", "flotilla-upstream");
    if (accept != null) {
      options.putHeader("Accept", accept);
    }
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    return client.request(options).compose(req -> {
      // failures reach the caller through the response future or the response's own handlers; a
      // reset we make on purpose (too large, not wanted) is not worth Vert.x's "unhandled" log line
      req.exceptionHandler(e -> { });
      return req.send();
    }).map(resp -> {
      resp.pause();
      resp.exceptionHandler(e -> { });
      return resp;
    });
  }

  /** The token GET of {@link UpstreamAuth}: retried like any GET, no redirects, no challenge answering. */
  private Future<Buffer> token(String url, String authorization, String description) {
    return attempt(url, authorization, 1, "application/json", OciError.NOT_FOUND)
        .recover(e -> Future.failedFuture(e instanceof UpstreamException u ? u
            : new UpstreamException(Kind.UNAVAILABLE, description + ": " + scrub(e))))
        .compose(resp -> {
          int status = resp.statusCode();
          if (status == 200) {
            return read(resp, 1024 * 1024, description, OciError.NOT_FOUND);
          }
          return drain(resp).compose(body -> Future.failedFuture(status == 401 || status == 403
              ? new UpstreamException(Kind.UNAUTHORIZED, description + ": " + status + summary(body)
                  + " (credentials refused)")
              : new UpstreamException(status >= 500 ? Kind.UNAVAILABLE : Kind.PROTOCOL, description + ": " + status
                  + summary(body))));
        });
  }

  private static String summary(Buffer body) {
    String s = Responses.errorSummary(body);
    return s.isEmpty() ? "" : " (" + s + ")";
  }

  /**
   * A transport error's message for ours, without query strings: Vert.x names the request URI in some
   * (timeouts), and a redirect's query may carry object storage's signature.
   */
  static String scrub(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replaceAll("\\?\\S*", "?...");
  }

  /** {@code GET <path>}: a URL for messages, without host, query or user info. */
  static String describe(String url) {
    try {
      String path = URI.create(url).getRawPath();
      return "GET " + (path == null || path.isEmpty() ? "/" : path);
    } catch (IllegalArgumentException e) {
      return "GET (malformed URL)";
    }
  }

  /** scheme://host:port with the default port filled in, lower case. */
  static String origin(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    return scheme + "://" + host + ":" + port;
  }

  private static <T> Future<T> failed(Kind kind, String detail) {
    return Future.failedFuture(new UpstreamException(kind, detail));
  }
}
