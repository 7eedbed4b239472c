package io.flotilla.http;

import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.BlobUploads;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The OCI distribution API ({@code /v2/...}): parses the route, builds the caller context, hands
 * the request to the resource's handler and renders any failure once. Also writes the access log
 * line and the request metrics. Runs on the HTTP verticle's event loop.
 */
public final class V2Api implements Handler<HttpServerRequest> {
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final String nodeId;
  private final ManifestHandler manifests;
  private final BlobHandler blobs;
  private final UploadHandler uploads;
  private final ListingHandler listings;
  private final RequestObserver observer;
  private final AccessGate gate;
  private final SearchEndpoint extensions;

  public V2Api(String nodeId, RegistryStorage storage, BlobTransfer bytes,
      int maxManifestBytes, int maxPageSize, RequestObserver observer) {
    this(nodeId, storage, bytes, maxManifestBytes, maxPageSize, observer, null, false);
  }

  /**
   * @param auth access control; null serves everyone everything (no {@code auth} configured)
   * @param tls whether clients reach this node over TLS (the token realm it advertises)
   */
  public V2Api(String nodeId, RegistryStorage storage, BlobTransfer bytes,
      int maxManifestBytes, int maxPageSize, RequestObserver observer, io.flotilla.auth.Authenticator auth,
      boolean tls) {
    this(nodeId, storage, bytes, maxManifestBytes, maxPageSize, observer, auth, tls, null);
  }

  /**
   * @param auth access control; null serves everyone everything (no {@code auth} configured)
   * @param tls whether clients reach this node over TLS (the token realm it advertises)
   * @param search zot's search API behind {@code /v2/_zot/ext/search} ({@link SearchEndpoint});
   *     null offers no extensions
   */
  public V2Api(String nodeId, RegistryStorage storage, BlobTransfer bytes,
      int maxManifestBytes, int maxPageSize, RequestObserver observer, io.flotilla.auth.Authenticator auth,
      boolean tls, io.flotilla.search.SearchService search) {
    this(nodeId, storage, bytes, maxManifestBytes, maxPageSize, observer, auth, tls, search, null);
  }

  /**
   * As above, with {@code prefs} behind {@code PUT /v2/_zot/ext/userprefs} (null: no such endpoint);
   * the caller's read access is checked with the authenticator's policies.
   */
  public V2Api(String nodeId, RegistryStorage storage, BlobTransfer bytes,
      int maxManifestBytes, int maxPageSize, RequestObserver observer, io.flotilla.auth.Authenticator auth,
      boolean tls, io.flotilla.search.SearchService search, io.flotilla.search.PrefToggles prefs) {
    this.extensions = new SearchEndpoint(search, auth != null, tls, prefs, storage,
        auth == null ? (identity, repository) -> true : auth.policy()::mayRead);
    this.gate = auth == null ? null : new AccessGate(auth, storage, tls);
    this.nodeId = nodeId;
    this.manifests = new ManifestHandler(storage, maxManifestBytes);
    this.blobs = new BlobHandler(storage, bytes);
    this.uploads = new UploadHandler(storage, bytes);
    this.listings = new ListingHandler(storage, maxPageSize);
    this.observer = observer;
  }

  @Override
  public void handle(HttpServerRequest request) {
    request.pause();
    V2Route route = V2Route.parse(request.path());
    String requestId = request.getHeader("X-Request-Id");
    if (requestId == null || requestId.isEmpty() || requestId.length() > 128) {
      requestId = nodeId + "-" + Long.toHexString(SEQUENCE.incrementAndGet());
    }
    HttpServerResponse response = request.response();
    response.putHeader("Docker-Distribution-API-Version", "registry/2.0");
    response.putHeader("X-Request-Id", requestId);
    if (route.kind() == V2Route.Kind.EXTENSION && extensions.enabled()) {
      // also on what the gate answers: a browser reads a 401 only with these
      SearchEndpoint.cors(response, request.method() == HttpMethod.OPTIONS, route.ref());
    }
    if (gate == null) {
      serve(request, route, requestId, io.flotilla.auth.Principal.ANONYMOUS, true);
      return;
    }
    String id = requestId;
    Future<AccessGate.Admitted> admitted;
    try {
      admitted = gate.admit(request, route, remote(request));
    } catch (RuntimeException e) {
      admitted = Future.failedFuture(e);
    }
    admitted.onComplete(ar -> {
      if (ar.succeeded()) {
        serve(request, route, id, ar.result().principal().name(), ar.result().mountAllowed());
      } else {
        RequestContext ctx = context(request, id, io.flotilla.auth.Principal.ANONYMOUS);
        observer.observe(request, route.kind().name().toLowerCase(), ctx.identity(), id);
        fail(new Exchange(request, route, ctx, false), ar.cause());
      }
    });
  }

  private void serve(HttpServerRequest request, V2Route route, String requestId, String identity,
      boolean mountAllowed) {
    RequestContext ctx = context(request, requestId, identity);
    observer.observe(request, route.kind().name().toLowerCase(), ctx.identity(), requestId);
    Exchange x = new Exchange(request, route, ctx, mountAllowed);
    Future<Void> result;
    try {
      result = dispatch(x);
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    result.onFailure(err -> fail(x, err));
  }

  private static RequestContext context(HttpServerRequest request, String requestId, String identity) {
    return new RequestContext(requestId, identity, remote(request), request.getHeader("Host"),
        request.method().name(), request.getHeader("User-Agent"));
  }

  private Future<Void> dispatch(Exchange x) {
    return switch (x.route().kind()) {
      case BASE -> base(x);
      case CATALOG -> listings.catalog(x);
      case TAGS -> listings.tags(x);
      case MANIFEST -> manifests.handle(x);
      case BLOB -> blobs.handle(x);
      case UPLOADS -> uploads.start(x);
      case UPLOAD -> uploads.handle(x);
      case REFERRERS -> listings.referrers(x);
      case EXTENSION -> extensions.handle(x);
      case UNKNOWN -> Future.failedFuture(io.flotilla.oci.OciError.NOT_FOUND.with("no such endpoint: " + x.request().path()));
    };
  }

  private static Future<Void> base(Exchange x) {
    HttpMethod m = x.request().method();
    if (m != HttpMethod.GET && m != HttpMethod.HEAD) {
      return Future.failedFuture(io.flotilla.oci.OciError.UNSUPPORTED.with(m + " is not supported on /v2/"));
    }
    return x.response().putHeader("Content-Type", "application/json").putHeader("Content-Length", "2")
        .end(m == HttpMethod.HEAD ? "" : "{}");
  }

  private void fail(Exchange x, Throwable err) {
    HttpServerResponse r = x.response();
    if (!r.headWritten()) {
      if (err instanceof BlobHandler.RangeNotSatisfiable rn) {
        r.putHeader("Content-Range", "bytes */" + rn.size);
      } else if (err instanceof BlobUploads.RangeMismatch rm) {
        r.putHeader("Location", "/v2/" + x.route().name() + "/blobs/uploads/" + x.route().ref())
            .putHeader("Range", "0-" + Math.max(0, rm.offset() - 1))
            .putHeader("Docker-Upload-UUID", x.route().ref());
      }
      if (!x.request().isEnded() && x.hasBody() && x.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
        // The body was not (fully) read: do not leave it in the connection (HTTP/2 resets the stream instead).
        r.putHeader("Connection", "close");
      }
    }
    ErrorRenderer.render(x.request(), err);
    if (!x.request().isEnded()) {
      x.request().resume();
    }
  }

  private static String remote(HttpServerRequest r) {
    var a = r.remoteAddress();
    return a == null ? "" : a.hostAddress();
  }
}
