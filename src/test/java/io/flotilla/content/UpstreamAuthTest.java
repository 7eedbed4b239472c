package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token flow's bookkeeping, without a network: a fake token endpoint and a hand-moved clock. */
class UpstreamAuthTest {
  private static final String CHALLENGE = "Bearer realm=\"https://auth.example/token\",service=\"reg\","
      + "scope=\"repository:a:pull,push\"";
  private final AtomicLong clock = new AtomicLong(1_000_000);
  private final List<String> asked = new ArrayList<>();
  private final List<String> authorizations = new ArrayList<>();
  private String answer = "{\"token\":\"t1\",\"expires_in\":120}";

  private UpstreamAuth auth(UpstreamConfig config) {
    return new UpstreamAuth(config, (url, authorization, description) -> {
      asked.add(url);
      authorizations.add(authorization);
      return Future.succeededFuture(Buffer.buffer(answer));
    }, clock::get);
  }

  private static <T> T value(Future<T> f) {
    assertTrue(f.succeeded(), () -> "failed: " + f.cause());
    return f.result();
  }

  @Test
  void fetchesATokenPerScopeAndReusesItUntilItNearlyExpires() {
    UpstreamAuth auth = auth(UpstreamConfig.of("https://reg.example").withCredentials("alice", "pw"));
    assertNull(value(auth.header("repository:a:pull")), "nothing before the first challenge");
    assertEquals("Bearer t1", value(auth.answer(List.of(CHALLENGE), "repository:a:pull", null, "GET /v2/a/tags/list")));
    assertEquals(List.of("https://auth.example/token?service=reg&scope=repository%3Aa%3Apull"), asked);
    assertTrue(authorizations.get(0).startsWith("Basic "));
    // the same scope: the cached token, no new fetch
    assertEquals("Bearer t1", value(auth.header("repository:a:pull")));
    assertEquals(1, asked.size());
    // another scope: its own token
    answer = "{\"access_token\":\"t2\"}";
    assertEquals("Bearer t2", value(auth.header("repository:b:pull")));
    assertEquals(2, asked.size());
    // 120 s lifetime, renewed 5 s early
    clock.addAndGet(114_000);
    assertEquals("Bearer t1", value(auth.header("repository:a:pull")));
    clock.addAndGet(2_000);
    answer = "{\"token\":\"t3\"}";
    assertEquals("Bearer t3", value(auth.header("repository:a:pull")));
    assertEquals(3, asked.size());
    // no expires_in: 60 s
    clock.addAndGet(54_000);
    assertEquals("Bearer t3", value(auth.header("repository:a:pull")));
    clock.addAndGet(2_000);
    answer = "{\"token\":\"t4\",\"expires_in\":60}";
    assertEquals("Bearer t4", value(auth.header("repository:a:pull")));
  }

  @Test
  void aRefusedTokenIsReplacedAndConcurrentRequestsShareOneFetch() {
    List<Promise<Buffer>> pending = new ArrayList<>();
    UpstreamAuth auth = new UpstreamAuth(UpstreamConfig.of("https://reg.example"), (url, authorization, d) -> {
      asked.add(url);
      authorizations.add(authorization);
      Promise<Buffer> p = Promise.promise();
      pending.add(p);
      return p.future();
    }, clock::get);
    Future<String> first = auth.answer(List.of(CHALLENGE), "repository:a:pull", null, "GET /");
    Future<String> second = auth.header("repository:a:pull");
    assertEquals(1, pending.size(), "one fetch for both");
    assertNull(authorizations.get(0), "anonymous without credentials");
    pending.get(0).complete(Buffer.buffer("{\"token\":\"t1\"}"));
    assertEquals("Bearer t1", value(first));
    assertEquals("Bearer t1", value(second));
    // the upstream refused t1: answering the next 401 fetches a fresh one
    Future<String> renewed = auth.answer(List.of(CHALLENGE), "repository:a:pull", "Bearer t1", "GET /");
    assertEquals(2, pending.size());
    pending.get(1).complete(Buffer.buffer("{\"token\":\"t2\"}"));
    assertEquals("Bearer t2", value(renewed));
    // a failed fetch is not cached
    Future<String> failing = auth.answer(List.of(CHALLENGE), "repository:c:pull", null, "GET /");
    pending.get(2).fail(new UpstreamException(UpstreamException.Kind.UNAUTHORIZED, "refused"));
    assertTrue(failing.failed());
    auth.header("repository:c:pull");
    assertEquals(4, pending.size());
  }

  @Test
  void basicWhenTheRegistryAsksForItAndOnlyWithCredentials() {
    UpstreamAuth anonymous = auth(UpstreamConfig.of("https://reg.example"));
    Future<String> none = anonymous.answer(List.of("Basic realm=\"r\""), "repository:a:pull", null, "GET /v2/a/tags/list");
    assertEquals(UpstreamException.Kind.UNAUTHORIZED, ((UpstreamException) none.cause()).kind());
    assertTrue(none.cause().getMessage().contains("GET /v2/a/tags/list"));

    UpstreamAuth auth = auth(UpstreamConfig.of("https://reg.example").withCredentials("alice", "pw"));
    String basic = value(auth.answer(List.of("Basic realm=\"r\""), "repository:a:pull", null, "GET /"));
    assertEquals("Basic YWxpY2U6cHc=", basic);
    assertEquals(basic, value(auth.header("repository:b:pull")), "sent up front from then on");
    Future<String> refused = auth.answer(List.of("Basic realm=\"r\""), "repository:a:pull", basic, "GET /");
    assertEquals(UpstreamException.Kind.UNAUTHORIZED, ((UpstreamException) refused.cause()).kind());
    assertTrue(!refused.cause().getMessage().contains("pw"));
    Future<String> odd = auth.answer(List.of("Negotiate abc=="), "repository:a:pull", null, "GET /");
    assertEquals(UpstreamException.Kind.UNAUTHORIZED, ((UpstreamException) odd.cause()).kind());
  }

  @Test
  void credentialsNeverGoToAPlainHttpRealmOfAnHttpsRegistry() {
    UpstreamAuth auth = auth(UpstreamConfig.of("https://reg.example").withCredentials("alice", "pw"));
    value(auth.answer(List.of("Bearer realm=\"http://auth.example/token\""), "repository:a:pull", null, "GET /"));
    assertNull(authorizations.get(0));
    assertEquals("http://auth.example/token?scope=repository%3Aa%3Apull", asked.get(0));
  }
}
