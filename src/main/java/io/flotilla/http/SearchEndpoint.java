package io.flotilla.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.auth.Principal;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.search.PrefToggles;
import io.flotilla.search.SearchService;
import io.flotilla.storage.RegistryStorage;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import java.io.IOException;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * The HTTP side of zot's extensions ({@link V2Route.Kind#EXTENSION}): the GraphQL search endpoint
 * {@code /v2/_zot/ext/search} (and its sub-paths; {@code GET ?query=&variables=&operationName=} or
 * {@code POST} of a JSON body), {@code GET /v2/_zot/ext/mgmt} (the auth methods this node offers,
 * for zot's UI), {@code PUT /v2/_zot/ext/userprefs?action=toggleStar|toggleBookmark&repo=} (a
 * signed-in user's star or bookmark on a repository it may read, through {@link PrefToggles}) and
 * {@code GET /v2/_oci/ext/discover} (the extensions there are). It only decodes
 * and bounds the request and renders the answer; the query runs in {@link SearchService}, which
 * filters what it returns by the caller of the request's context. Every answer carries zot's CORS
 * headers, {@code OPTIONS} answers an empty 200. Without a search service there are no extensions:
 * discover lists none and the other paths are 404 like any unknown {@code /v2} path.
 */
public final class SearchEndpoint {
  /** The largest request body read (a POST): larger is 413. */
  static final int MAX_BODY = 1024 * 1024;
  /** The longest GraphQL text run: longer is 422. */
  static final int MAX_QUERY = 64 * 1024;

  static final String SEARCH = "_zot/ext/search";
  static final String MGMT = "_zot/ext/mgmt";
  static final String USERPREFS = "_zot/ext/userprefs";
  static final String DISCOVER = "_oci/ext/discover";
  static final String ZOT_DOC = "https://github.com/project-zot/zot/blob/main/pkg/extensions/_zot.md";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SearchService search;
  private final boolean auth;
  private final boolean tls;
  private final PrefToggles prefs;
  private final RegistryStorage storage;
  private final BiPredicate<String, String> mayRead;

  /**
   * @param search runs the queries; null when search is off (then no extension is offered)
   * @param auth whether access control is on: users log in with htpasswd passwords (Basic) and the
   *     node issues bearer tokens at {@code /auth/token}, which is what {@code mgmt} reports
   * @param tls whether clients reach this node over TLS (the scheme of the token realm)
   */
  public SearchEndpoint(SearchService search, boolean auth, boolean tls) {
    this(search, auth, tls, null, null, null);
  }

  /**
   * As above, with zot's user preferences.
   *
   * @param prefs toggles stars and bookmarks; null: no {@code userprefs} endpoint
   * @param storage where a repository's existence is checked (a tag listing with the caller's context)
   * @param mayRead (identity, repository) -> may the caller read it
   */
  public SearchEndpoint(SearchService search, boolean auth, boolean tls, PrefToggles prefs, RegistryStorage storage,
      BiPredicate<String, String> mayRead) {
    this.search = search;
    this.auth = auth;
    this.tls = tls;
    this.prefs = search == null ? null : prefs;
    this.storage = storage;
    this.mayRead = mayRead;
  }

  /** Whether the extensions are offered (a search service is there). */
  boolean enabled() {
    return search != null;
  }

  /** zot's CORS headers of the extension endpoints, and {@code nosniff} on everything but OPTIONS. */
  static void cors(HttpServerResponse r, boolean options) {
    cors(r, options, "");
  }

  /** As above, for the endpoint at {@code ref} (userprefs allows PUT, the others GET and POST). */
  static void cors(HttpServerResponse r, boolean options, String ref) {
    r.putHeader("Access-Control-Allow-Origin", "*")
        .putHeader("Access-Control-Allow-Methods", USERPREFS.equals(ref) ? "PUT,OPTIONS" : "GET,POST,OPTIONS")
        .putHeader("Access-Control-Allow-Headers", "Authorization,content-type");
    if (!options) {
      r.putHeader("X-Content-Type-Options", "nosniff");
    }
  }

  Future<Void> handle(Exchange x) {
    String ref = x.route().ref();
    HttpMethod m = x.request().method();
    boolean discover = ref.equals(DISCOVER);
    boolean searchPath = search != null && (ref.equals(SEARCH) || ref.startsWith(SEARCH + "/"));
    boolean mgmt = search != null && ref.equals(MGMT);
    boolean userprefs = prefs != null && ref.equals(USERPREFS);
    if (!discover && !searchPath && !mgmt && !userprefs) {
      return Future.failedFuture(OciError.NOT_FOUND.with("no such endpoint: " + x.request().path()));
    }
    cors(x.response(), m == HttpMethod.OPTIONS, ref);
    if (m == HttpMethod.OPTIONS) {
      return done(x, x.response().setStatusCode(200).putHeader("Content-Length", "0").end());
    }
    if (userprefs) {
      return m == HttpMethod.PUT ? userprefs(x) : notAllowed(x, "PUT,OPTIONS");
    }
    if (searchPath) {
      if (m == HttpMethod.GET) {
        return get(x);
      }
      if (m == HttpMethod.POST) {
        return post(x);
      }
      return notAllowed(x, "GET,POST,OPTIONS");
    }
    if (m != HttpMethod.GET) {
      return notAllowed(x, "GET,OPTIONS");
    }
    return done(x, json(x, 200, discover ? discover() : mgmt(x)));
  }

  private String discover() {
    if (search == null) {
      return "{\"extensions\":[]}";
    }
    ObjectNode zot = JSON.createObjectNode().put("name", "_zot").put("url", ZOT_DOC)
        .put("description", "zot registry extensions");
    var endpoints = zot.putArray("endpoints").add("/v2/" + SEARCH);
    if (prefs != null) {
      endpoints.add("/v2/" + USERPREFS);
    }
    endpoints.add("/v2/" + MGMT);
    ObjectNode body = JSON.createObjectNode();
    body.putArray("extensions").add(zot);
    return body.toString();
  }

  private String mgmt(Exchange x) {
    ObjectNode body = JSON.createObjectNode().put("distSpecVersion", "1.1.0").put("commit", "")
        .put("releaseTag", "").put("binaryType", "");
    ObjectNode methods = body.putObject("http").putObject("auth");
    if (auth) {
      methods.putObject("htpasswd");
      methods.putObject("bearer").put("realm", AccessGate.realm(x.request(), tls)).put("service", AccessGate.SERVICE);
    }
    return body.toString();
  }

  /**
   * zot's statuses: 400 without an action, with an unknown one or without a {@code repo} parameter;
   * 404 for {@code repo=} or a repository that does not exist; 403 for an anonymous caller or one
   * that may not read the repository (checked before existence, so it learns nothing); 200 without
   * a body once the toggle is saved here and passed on to the other nodes.
   */
  private Future<Void> userprefs(Exchange x) {
    String action;
    String repo;
    try {
      action = x.param("action");
      repo = x.param("repo");
    } catch (RuntimeException e) {
      return done(x, error(x, 400, "malformed query string"));
    }
    if (action == null) {
      return done(x, error(x, 400, "the action parameter is missing"));
    }
    if (repo == null) {
      return done(x, error(x, 400, "the repo parameter is missing"));
    }
    PrefToggles.Kind kind = PrefToggles.Kind.ofAction(action);
    if (kind == null) {
      return done(x, error(x, 400, "unknown action: use toggleStar or toggleBookmark"));
    }
    if (repo.isEmpty()) {
      return done(x, error(x, 404, "no repository given"));
    }
    String user = x.ctx().identity();
    if (user == null || user.isEmpty() || Principal.ANONYMOUS.equals(user)) {
      return done(x, error(x, 403, "stars and bookmarks are kept for signed-in users only"));
    }
    if (mayRead != null && !mayRead.test(user, repo)) {
      return done(x, error(x, 403, user + " may not read " + repo));
    }
    return storage.listTags(x.ctx(), repo, 1, null).transform(ar -> {
      if (ar.failed()) {
        return ar.cause() instanceof OciException e && (e.status() == 404 || e.status() == 400)
            ? done(x, error(x, 404, "no such repository: " + repo)) : Future.failedFuture(ar.cause());
      }
      return prefs.toggle(user, repo, kind)
          .compose(on -> done(x, x.response().setStatusCode(200).putHeader("Content-Length", "0").end()));
    });
  }

  private Future<Void> get(Exchange x) {
    String query;
    String variables;
    String operationName;
    try {
      query = x.param("query");
      variables = x.param("variables");
      operationName = x.param("operationName");
    } catch (RuntimeException e) {
      return done(x, error(x, 400, "malformed query string"));
    }
    Map<String, Object> vars = null;
    if (variables != null && !variables.isBlank()) {
      try {
        JsonNode v = JSON.readTree(variables);
        if (!v.isObject() && !v.isNull()) {
          return done(x, error(x, 422, "variables must be a JSON object"));
        }
        vars = v.isNull() ? null : toMap(v);
      } catch (JsonProcessingException e) {
        return done(x, error(x, 422, "variables could not be decoded"));
      }
    }
    return run(x, query, operationName, vars);
  }

  private Future<Void> post(Exchange x) {
    String type = x.request().getHeader("Content-Type");
    String media = type == null ? "" : type.split(";", 2)[0].trim();
    if (!media.equalsIgnoreCase("application/json")) {
      return done(x, error(x, 400, "transport not supported"));
    }
    if (x.contentLength() > MAX_BODY) {
      return done(x, error(x, 413, "the request body is larger than " + MAX_BODY + " bytes"));
    }
    return x.readBody(MAX_BODY).compose(body -> {
      if (body == null) {
        return done(x, error(x, 413, "the request body is larger than " + MAX_BODY + " bytes"));
      }
      JsonNode request;
      try {
        request = JSON.readTree(body.getBytes());
      } catch (IOException e) {
        return done(x, error(x, 400, "json request body could not be decoded"));
      }
      if (request == null || !request.isObject()) {
        return done(x, error(x, 400, "json request body could not be decoded"));
      }
      JsonNode q = request.path("query");
      JsonNode op = request.path("operationName");
      JsonNode v = request.path("variables");
      if ((!q.isMissingNode() && !q.isNull() && !q.isTextual())
          || (!op.isMissingNode() && !op.isNull() && !op.isTextual())) {
        return done(x, error(x, 400, "json request body could not be decoded"));
      }
      if (!v.isMissingNode() && !v.isNull() && !v.isObject()) {
        return done(x, error(x, 422, "variables must be a JSON object"));
      }
      return run(x, q.isTextual() ? q.asText() : null, op.isTextual() ? op.asText() : null,
          v.isObject() ? toMap(v) : null);
    });
  }

  private Future<Void> run(Exchange x, String query, String operationName, Map<String, Object> variables) {
    if (query == null || query.isBlank()) {
      return done(x, error(x, 422, "no query"));
    }
    if (query.length() > MAX_QUERY) {
      return done(x, error(x, 422, "the query is longer than " + MAX_QUERY + " characters"));
    }
    return search.execute(x.ctx(), query, operationName == null || operationName.isEmpty() ? null : operationName,
        variables).compose(a -> done(x, json(x, a.status(), a.json())));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> toMap(JsonNode object) {
    return JSON.convertValue(object, Map.class);
  }

  private static Future<Void> notAllowed(Exchange x, String allow) {
    x.response().putHeader("Allow", allow);
    return done(x, error(x, 405, x.request().method() + " is not allowed here"));
  }

  private static Future<Void> error(Exchange x, int status, String message) {
    return json(x, status, "{\"errors\":[{\"message\":\""
        + new String(JsonStringEncoder.getInstance().quoteAsString(message)) + "\"}]}");
  }

  private static Future<Void> json(Exchange x, int status, String body) {
    var req = x.request();
    if (!req.isEnded() && x.hasBody() && req.version() != HttpVersion.HTTP_2) {
      // a body left unread (too large, or sent where none is read) does not stay in the connection
      x.response().putHeader("Connection", "close");
    }
    return x.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
  }

  /** After the answer: the paused request is let go (what is left of a body is dropped). */
  private static Future<Void> done(Exchange x, Future<Void> answered) {
    var req = x.request();
    if (!req.isEnded()) {
      req.resume();
    }
    return answered;
  }
}
