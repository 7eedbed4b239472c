package io.flotilla.content;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.content.UpstreamException.Kind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The {@code Authorization} an upstream wants: none, HTTP Basic, or a bearer token from the Docker
 * token flow. Learns which from the upstream's 401 challenges; afterwards sends Basic, or a token
 * for the request's scope, up front. Tokens are fetched from the challenge's realm (with
 * {@code service} and {@code scope}, presenting Basic credentials when configured, anonymous
 * otherwise) and cached per scope until {@code expires_in} (60 s when absent) is nearly over;
 * concurrent requests for one scope share one fetch. Credentials go to a realm over plain HTTP only
 * when the registry itself is plain HTTP. Thread-safe; fails with {@link UpstreamException}
 * (UNAUTHORIZED when credentials are missing or refused). Never logs or reports a credential.
 */
final class UpstreamAuth {
  /** Performs the token GET (with retries): the body of a 200, or an UpstreamException. */
  interface TokenGetter {
    Future<Buffer> get(String url, String authorization, String description);
  }

  /** A token and when it stops being used (a little before it expires). */
  record Token(String value, long renewAtMillis) {}

  private static final long DEFAULT_LIFETIME_SECONDS = 60;
  private final UpstreamConfig config;
  private final TokenGetter getter;
  private final LongSupplier clock;
  private final ConcurrentHashMap<String, Future<Token>> tokens = new ConcurrentHashMap<>();
  private volatile WwwAuthenticate bearer;
  private volatile boolean basic;

  UpstreamAuth(UpstreamConfig config, TokenGetter getter, LongSupplier clock) {
    this.config = config;
    this.getter = getter;
    this.clock = clock;
  }

  /** What to send before any challenge: Basic or a (cached or fresh) token once the upstream asked for one, else null. */
  Future<String> header(String scope) {
    if (basic) {
      return Future.succeededFuture(basicHeader());
    }
    WwwAuthenticate challenge = bearer;
    if (challenge == null || scope == null) {
      return Future.succeededFuture(null);
    }
    return token(challenge, scope).map(t -> "Bearer " + t.value());
  }

  /**
   * Answers a 401: the header to try again with. {@code sent} is what the refused request carried
   * (a refused token is dropped from the cache first, so a fresh one is fetched).
   */
  Future<String> answer(List<String> challengeHeaders, String scope, String sent, String description) {
    List<WwwAuthenticate> challenges = WwwAuthenticate.parse(challengeHeaders);
    WwwAuthenticate b = WwwAuthenticate.find(challenges, "Bearer");
    if (b != null && b.param("realm") != null && scope != null) {
      bearer = b;
      if (sent != null && sent.startsWith("Bearer ")) {
        forget(scope, sent.substring("Bearer ".length()));
      }
      return token(b, scope).map(t -> "Bearer " + t.value());
    }
    if (WwwAuthenticate.find(challenges, "Basic") != null) {
      if (!config.hasCredentials()) {
        return unauthorized(description + ": the registry asks for Basic credentials and none are configured");
      }
      if (sent != null && sent.startsWith("Basic ")) {
        return unauthorized(description + ": the registry refused the configured credentials");
      }
      basic = true;
      return Future.succeededFuture(basicHeader());
    }
    return unauthorized(description + ": 401 without a Bearer or Basic challenge this client can answer");
  }

  /** Drops a token the upstream refused (unless a newer one replaced it already). */
  void forget(String scope, String token) {
    Future<Token> current = tokens.get(scope);
    if (current != null && current.succeeded() && current.result().value().equals(token)) {
      tokens.remove(scope, current);
    }
  }

  private Future<Token> token(WwwAuthenticate challenge, String scope) {
    while (true) {
      Future<Token> current = tokens.get(scope);
      if (current != null && (!current.isComplete()
          || (current.succeeded() && clock.getAsLong() < current.result().renewAtMillis()))) {
        return current;
      }
      Promise<Token> fetching = Promise.promise();
      boolean mine = current == null ? tokens.putIfAbsent(scope, fetching.future()) == null
          : tokens.replace(scope, current, fetching.future());
      if (!mine) {
        continue; // another request started a fetch meanwhile: share it
      }
      fetching.future().onFailure(e -> tokens.remove(scope, fetching.future()));
      fetch(challenge, scope).onComplete(fetching);
      return fetching.future();
    }
  }

  private Future<Token> fetch(WwwAuthenticate challenge, String scope) {
    String realm = challenge.param("realm");
    URI realmUri;
    try {
      realmUri = new URI(realm);
    } catch (java.net.URISyntaxException e) {
      return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, "the Bearer challenge's realm is not a URL"));
    }
    String scheme = realmUri.getScheme() == null ? "" : realmUri.getScheme();
    if (!realmUri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || realmUri.getHost() == null) {
      return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, "the Bearer challenge's realm is not an http(s) URL"));
    }
    StringBuilder url = new StringBuilder(realm).append(realm.contains("?") ? '&' : '?');
    String service = challenge.param("service");
    if (service != null) {
      url.append("service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8)).append('&');
    }
    url.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
    boolean mayCarry = scheme.equals("https") || config.url().getScheme().equals("http");
    String authorization = config.hasCredentials() && mayCarry ? basicHeader() : null;
    String description = "token endpoint GET " + realmUri.getRawPath();
    long asked = clock.getAsLong();
    return getter.get(url.toString(), authorization, description).compose(body -> parse(body, asked, description));
  }

  private static Future<Token> parse(Buffer body, long askedMillis, String description) {
    JsonNode json;
    try {
      json = Responses.JSON.readTree(body.getBytes());
    } catch (Exception e) {
      json = null;
    }
    String value = json == null ? "" : json.path("token").asText("");
    if (value.isEmpty() && json != null) {
      value = json.path("access_token").asText("");
    }
    if (value.isEmpty()) {
      return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, description + ": no token in the answer"));
    }
    long lifetime = json.path("expires_in").canConvertToLong() && json.path("expires_in").asLong() > 0
        ? json.path("expires_in").asLong() : DEFAULT_LIFETIME_SECONDS;
    long lifetimeMillis = Math.min(lifetime, 365L * 24 * 3600) * 1000;
    long margin = Math.min(5000, lifetimeMillis / 2); // renew a little early: the clock started before it was issued, and requests take time
    return Future.succeededFuture(new Token(value, askedMillis + lifetimeMillis - margin));
  }

  private String basicHeader() {
    return "Basic " + Base64.getEncoder().encodeToString(
        (config.username() + ":" + config.password()).getBytes(StandardCharsets.UTF_8));
  }

  private static <T> Future<T> unauthorized(String detail) {
    return Future.failedFuture(new UpstreamException(Kind.UNAUTHORIZED, detail));
  }
}
