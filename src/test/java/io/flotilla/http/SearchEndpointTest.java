package io.flotilla.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.auth.AccessPolicy;
import io.flotilla.auth.AuthFixture;
import io.flotilla.auth.Authenticator;
import io.flotilla.auth.Htpasswd;
import io.flotilla.auth.LoginThrottle;
import io.flotilla.auth.TokenKeys;
import io.flotilla.auth.TokenService;
import io.flotilla.config.AuthConfig;
import io.flotilla.config.HttpConfig;
import io.flotilla.search.SearchService;
import io.flotilla.storage.RequestContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP side of the search extension on a real HTTP server (the {@link V2Api} with access control,
 * one without and one without a search service) in front of a fake {@link SearchService} that
 * records what reached it.
 */
class SearchEndpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What one call of the fake search service got. */
  record Call(RequestContext ctx, String query, String operationName, Map<String, Object> variables) {}

  static final List<Call> CALLS = new CopyOnWriteArrayList<>();
  static final SearchService FAKE = (ctx, query, operationName, variables) -> {
    CALLS.add(new Call(ctx, query, operationName, variables));
    return Future.succeededFuture(new SearchService.Answer(query.startsWith("bad") ? 422 : 200,
        "{\"data\":{\"echo\":" + JSON.valueToTree(query) + "}}"));
  };

  static Vertx vertx;
  static Authenticator authenticator;
  static String secured;
  static String open;
  static String off;
  static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    vertx = Vertx.vertx();
    Path htpasswd = AuthFixture.htpasswd(dir);
    AuthConfig config = new AuthConfig(true, htpasswd, List.of("admin"), Map.of(), List.of(),
        Duration.ofMinutes(5), Duration.ofHours(24), 1000);
    Clock clock = Clock.systemUTC();
    TokenService tokens = new TokenService(new TokenKeys("n1", config.tokenTtl(), clock), config.tokenTtl(), clock,
        (node, kid) -> Future.failedFuture("no peers"));
    authenticator = new Authenticator(vertx, new AccessPolicy(config), Htpasswd.load(htpasswd), key -> Optional.empty(),
        tokens, new LoginThrottle(1000, clock), clock, new SimpleMeterRegistry());
    secured = listen(new V2Api("n1", null, null, 1 << 20, 100, observer(), authenticator, false, FAKE));
    open = listen(new V2Api("n1", null, null, 1 << 20, 100, observer(), null, false, FAKE));
    off = listen(new V2Api("n1", null, null, 1 << 20, 100, observer(), null, false));
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void clear() {
    CALLS.clear();
  }

  private static RequestObserver observer() {
    return new RequestObserver(new RegistryMetrics(new SimpleMeterRegistry()), null);
  }

  /** The API behind the node's own HTTP front end (its listener options, its {@code /v2} dispatch). */
  private static String listen(V2Api api) throws Exception {
    HttpVerticle http = new HttpVerticle(new HttpConfig("127.0.0.1", 0, 1, Duration.ofSeconds(1), false), null, api,
        Router::router, observer(), null);
    vertx.deployVerticle(http).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return "127.0.0.1:" + http.actualPort();
  }

  private static HttpResponse<String> send(String base, String method, String path, String contentType, String body,
      String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + base + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String base, String path) throws Exception {
    return send(base, "GET", path, null, null, null);
  }

  private static void assertCors(HttpResponse<?> r, boolean options) {
    assertEquals(Optional.of("*"), r.headers().firstValue("Access-Control-Allow-Origin"), r.uri().toString());
    assertEquals(Optional.of("GET,POST,OPTIONS"), r.headers().firstValue("Access-Control-Allow-Methods"));
    assertEquals(Optional.of("Authorization,content-type"), r.headers().firstValue("Access-Control-Allow-Headers"));
    assertEquals(options ? Optional.empty() : Optional.of("nosniff"),
        r.headers().firstValue("X-Content-Type-Options"));
  }

  private static String message(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).path("errors").path(0).path("message").asText();
  }

  @Test
  void getRunsTheDecodedQueryWithVariablesAndOperation() throws Exception {
    String query = "query Q($n: String) { RepoListWithNewestImage { Page { TotalCount } } }";
    String path = "/v2/_zot/ext/search?query=" + enc(query) + "&variables=" + enc("{\"n\":\"a b\",\"k\":[1,2]}")
        + "&operationName=Q";
    var r = get(open, path);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(Optional.of("application/json"), r.headers().firstValue("Content-Type"));
    assertCors(r, false);
    assertEquals(query, JSON.readTree(r.body()).path("data").path("echo").asText());
    assertEquals(1, CALLS.size());
    Call c = CALLS.get(0);
    assertEquals(query, c.query());
    assertEquals("Q", c.operationName());
    assertEquals(Map.of("n", "a b", "k", List.of(1, 2)), c.variables());
    assertEquals("anonymous", c.ctx().identity());
    assertEquals("GET", c.ctx().method());
    assertFalse(c.ctx().requestId().isEmpty());
  }

  @Test
  void theServicesStatusIsTheAnswers() throws Exception {
    var r = get(open, "/v2/_zot/ext/search?query=" + enc("bad {"));
    assertEquals(422, r.statusCode());
    assertEquals("bad {", JSON.readTree(r.body()).path("data").path("echo").asText());
  }

  @Test
  void subPathsOfSearchAreSearch() throws Exception {
    var r = get(open, "/v2/_zot/ext/search/anything?query=" + enc("{ a }"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(1, CALLS.size());
  }

  @Test
  void postRunsTheJsonBody() throws Exception {
    String body = "{\"query\":\"{ ImageListForCVE(id:\\\"CVE-2002-1119\\\") { Results { RepoName Tag } } }\","
        + "\"variables\":{\"x\":{\"y\":true}},\"operationName\":null}";
    var r = send(open, "POST", "/v2/_zot/ext/search", "application/json; charset=utf-8", body, null);
    assertEquals(200, r.statusCode(), r.body());
    assertCors(r, false);
    assertEquals(1, CALLS.size());
    Call c = CALLS.get(0);
    assertEquals("{ ImageListForCVE(id:\"CVE-2002-1119\") { Results { RepoName Tag } } }", c.query());
    assertNull(c.operationName());
    assertEquals(Map.of("x", Map.of("y", true)), c.variables());
    assertEquals("POST", c.ctx().method());
  }

  @Test
  void postOfAnotherContentTypeIs400() throws Exception {
    for (String type : new String[] {null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
      var r = send(open, "POST", "/v2/_zot/ext/search", type, "{\"query\":\"{ a }\"}", null);
      assertEquals(400, r.statusCode(), String.valueOf(type));
      assertEquals("transport not supported", message(r));
      assertCors(r, false);
    }
    assertTrue(CALLS.isEmpty());
  }

  @Test
  void badBodiesAndVariables() throws Exception {
    var r = send(open, "POST", "/v2/_zot/ext/search", "application/json", "{\"query\":", null);
    assertEquals(400, r.statusCode());
    r = send(open, "POST", "/v2/_zot/ext/search", "application/json", "[1]", null);
    assertEquals(400, r.statusCode());
    r = send(open, "POST", "/v2/_zot/ext/search", "application/json", "{\"query\":\"{ a }\",\"variables\":[1]}", null);
    assertEquals(422, r.statusCode());
    r = send(open, "POST", "/v2/_zot/ext/search", "application/json", "{\"variables\":{}}", null);
    assertEquals(422, r.statusCode());
    assertEquals("no query", message(r));
    r = get(open, "/v2/_zot/ext/search?query=" + enc("{ a }") + "&variables=" + enc("{\"a\":"));
    assertEquals(422, r.statusCode());
    assertCors(r, false);
    r = get(open, "/v2/_zot/ext/search?query=" + enc("{ a }") + "&variables=" + enc("[]"));
    assertEquals(422, r.statusCode());
    assertTrue(CALLS.isEmpty());
  }

  @Test
  void getWithoutQueryIs422() throws Exception {
    for (String path : new String[] {"/v2/_zot/ext/search", "/v2/_zot/ext/search?query=", "/v2/_zot/ext/search?q=x"}) {
      var r = get(open, path);
      assertEquals(422, r.statusCode(), path);
      assertEquals("no query", message(r));
      assertCors(r, false);
    }
    assertTrue(CALLS.isEmpty());
  }

  @Test
  void boundsTheQueryAndTheBody() throws Exception {
    String longQuery = "{ a }" + " ".repeat(SearchEndpoint.MAX_QUERY);
    var r = send(open, "POST", "/v2/_zot/ext/search", "application/json", "{\"query\":\"" + longQuery + "\"}", null);
    assertEquals(422, r.statusCode());
    assertTrue(message(r).contains("longer than"), r.body());
    String huge = "{\"query\":\"{ a }\",\"pad\":\"" + "x".repeat(SearchEndpoint.MAX_BODY) + "\"}";
    r = send(open, "POST", "/v2/_zot/ext/search", "application/json", huge, null);
    assertEquals(413, r.statusCode());
    assertCors(r, false);
    assertTrue(CALLS.isEmpty());
    // the node still serves after the body it did not read
    assertEquals(200, get(open, "/v2/_zot/ext/search?query=" + enc("{ a }")).statusCode());
  }

  @Test
  void optionsIsAnEmpty200WithCors() throws Exception {
    for (String path : new String[] {"/v2/_zot/ext/search", "/v2/_zot/ext/mgmt", "/v2/_oci/ext/discover"}) {
      var r = send(secured, "OPTIONS", path, null, null, null);
      assertEquals(200, r.statusCode(), path);
      assertEquals("", r.body());
      assertCors(r, true);
    }
  }

  @Test
  void otherMethodsAre405WithCors() throws Exception {
    for (String m : new String[] {"PUT", "DELETE", "PATCH"}) {
      var r = send(open, m, "/v2/_zot/ext/search", "application/json", "{}", null);
      assertEquals(405, r.statusCode(), m);
      assertCors(r, false);
    }
    var r = send(open, "POST", "/v2/_oci/ext/discover", "application/json", "{}", null);
    assertEquals(405, r.statusCode());
    assertCors(r, false);
  }

  @Test
  void discoverListsSearchAndMgmt() throws Exception {
    var r = get(open, "/v2/_oci/ext/discover");
    assertEquals(200, r.statusCode());
    assertCors(r, false);
    assertEquals(JSON.readTree("{\"extensions\":[{\"name\":\"_zot\","
        + "\"url\":\"https://github.com/project-zot/zot/blob/main/pkg/extensions/_zot.md\","
        + "\"description\":\"zot registry extensions\","
        + "\"endpoints\":[\"/v2/_zot/ext/search\",\"/v2/_zot/ext/mgmt\"]}]}"), JSON.readTree(r.body()));
  }

  @Test
  void mgmtTellsTheAuthMethods() throws Exception {
    var r = get(open, "/v2/_zot/ext/mgmt");
    assertEquals(200, r.statusCode());
    assertCors(r, false);
    assertEquals(JSON.readTree("{\"distSpecVersion\":\"1.1.0\",\"commit\":\"\",\"releaseTag\":\"\",\"binaryType\":\"\","
        + "\"http\":{\"auth\":{}}}"), JSON.readTree(r.body()));
    r = get(secured, "/v2/_zot/ext/mgmt");
    assertEquals(200, r.statusCode());
    JsonNode auth = JSON.readTree(r.body()).path("http").path("auth");
    assertEquals(JSON.readTree("{\"htpasswd\":{},\"bearer\":{\"realm\":\"http://" + secured + "/auth/token\","
        + "\"service\":\"flotilla\"}}"), auth);
    // the realm is the one the 401 challenge names
    var challenged = get(secured, "/v2/");
    assertEquals(401, challenged.statusCode());
    assertTrue(challenged.headers().firstValue("WWW-Authenticate").orElseThrow()
        .contains("realm=\"" + auth.path("bearer").path("realm").asText() + "\""));
  }

  @Test
  void withoutSearchThereAreNoExtensions() throws Exception {
    var r = get(off, "/v2/_oci/ext/discover");
    assertEquals(200, r.statusCode());
    assertEquals(JSON.readTree("{\"extensions\":[]}"), JSON.readTree(r.body()));
    for (String path : new String[] {"/v2/_zot/ext/search?query=%7Ba%7D", "/v2/_zot/ext/mgmt"}) {
      r = get(off, path);
      assertEquals(404, r.statusCode(), path);
      assertEquals(io.flotilla.oci.OciError.NOT_FOUND.name(), code(r));
    }
    assertEquals(404, get(open, "/v2/_zot/ext/nothing").statusCode());
    assertEquals(404, get(open, "/v2/_oci/ext/other").statusCode());
    assertTrue(CALLS.isEmpty());
  }

  private static String code(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body()).path("errors").path(0).path("code").asText();
  }

  @Test
  void anonymousAndAuthenticatedCallersPassTheGateBadCredentialsDoNot() throws Exception {
    String path = "/v2/_zot/ext/search?query=" + enc("{ a }");
    var r = send(secured, "GET", path, null, null, null);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("anonymous", CALLS.get(0).ctx().identity());

    r = send(secured, "GET", path, null, null, AuthFixture.basic("alice"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("alice", CALLS.get(1).ctx().identity());

    String token = authenticator.tokens().issue("bob", List.of()).token();
    r = send(secured, "POST", "/v2/_zot/ext/search", "application/json", "{\"query\":\"{ a }\"}", "Bearer " + token);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("bob", CALLS.get(2).ctx().identity());

    for (String bad : new String[] {AuthFixture.basic("alice", "wrong"), "Bearer not-a-token", "Basic !!"}) {
      r = send(secured, "GET", path, null, null, bad);
      assertEquals(401, r.statusCode(), bad);
      assertTrue(r.headers().firstValue("WWW-Authenticate").isPresent());
      assertCors(r, false);
    }
    r = send(secured, "GET", "/v2/_zot/ext/mgmt", null, null, AuthFixture.basic("nobody", "x"));
    assertEquals(401, r.statusCode());
    assertEquals(3, CALLS.size());
  }

  @Test
  void aBrowsersRawQueryArrivesDecoded() throws Exception {
    // what a browser puts on the wire: { } : ( ) , " raw, a space as %20, a literal + as %2B
    String raw = "/v2/_zot/ext/search?query={GlobalSearch(query:\"a%20b%2Bc\",requestedPage:{limit:3,offset:0,"
        + "sortBy:RELEVANCE}){Repos{Name}}}&variables={\"x\":%201}";
    String response = rawGet(open, raw);
    assertTrue(response.startsWith("HTTP/1.1 200 "), response);
    assertTrue(response.contains("Access-Control-Allow-Origin: *"), response);
    assertEquals(1, CALLS.size(), response);
    assertEquals("{GlobalSearch(query:\"a b+c\",requestedPage:{limit:3,offset:0,sortBy:RELEVANCE}){Repos{Name}}}",
        CALLS.get(0).query());
    assertEquals(Map.of("x", 1), CALLS.get(0).variables());

    // the same percent-encoded, through the gate of a node with access control
    String encoded = "/v2/_zot/ext/search?query=%7BGlobalSearch%28query%3A%22%22%2CrequestedPage%3A%7Blimit%3A3%7D"
        + "%29%7BRepos%7BName%7D%7D%7D";
    response = rawGet(secured, encoded);
    assertTrue(response.startsWith("HTTP/1.1 200 "), response);
    assertEquals("{GlobalSearch(query:\"\",requestedPage:{limit:3}){Repos{Name}}}", CALLS.get(1).query());
  }

  @Test
  void aLongQueryInTheUrlIsServed() throws Exception {
    // zot's UI sends its longest queries (ExpandedRepoInfo with every field) in the URL: well past 4 KiB encoded
    StringBuilder fields = new StringBuilder();
    for (int i = 0; i < 900; i++) {
      fields.append(" Field").append(i);
    }
    String query = "{ ExpandedRepoInfo(repo:\"a\") { Summary {" + fields + " } } }";
    String target = "/v2/_zot/ext/search?query=" + enc(query).replace("+", "%20");
    assertTrue(target.length() > 8 * 1024, "long enough: " + target.length());
    String response = rawGet(open, target);
    assertTrue(response.startsWith("HTTP/1.1 200 "), response.lines().findFirst().orElse(""));
    assertEquals(query, CALLS.get(0).query());
  }

  private static String rawGet(String base, String target) throws Exception {
    String[] hostPort = base.split(":");
    try (Socket s = new Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(("GET " + target + " HTTP/1.1\r\nHost: " + base + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      in.transferTo(got);
      return got.toString(StandardCharsets.UTF_8);
    }
  }

  private static String enc(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
