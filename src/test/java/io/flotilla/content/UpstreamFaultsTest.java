package io.flotilla.content;

import static io.flotilla.content.UpstreamTesting.await;
import static io.flotilla.content.UpstreamTesting.collect;
import static io.flotilla.content.UpstreamTesting.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.testing.Images;
import io.flotilla.testing.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against a scripted upstream that misbehaves on purpose: throttling and outages with
 * Retry-After, blobs whose bytes are wrong or cut short or stall, a manifest far over the limit, a
 * redirect to object storage on another host, the token flow and Basic. Waits are bounded; the only
 * times checked are lower bounds (a retry came no earlier than Retry-After allowed).
 */
class UpstreamFaultsTest {
  private static final RepositoryName REPO = RepositoryName.of("lib/app");
  private Vertx vertx;
  private FaultServer server;
  private UpstreamRegistry upstream;

  @BeforeEach
  void start() throws IOException {
    vertx = Vertx.vertx();
    server = new FaultServer();
    upstream = client(config());
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private UpstreamConfig config() {
    return UpstreamConfig.of(server.url()).withRetries(3, Duration.ofMillis(10), Duration.ofSeconds(5))
        .withRequestTimeout(Duration.ofSeconds(10));
  }

  private UpstreamRegistry client(UpstreamConfig config) {
    return new UpstreamRegistry(vertx, config);
  }

  private static byte[] manifestBody() {
    return UpstreamTesting.manifest(Digest.sha256("{}".getBytes()), 2);
  }

  private void serveManifest(int status, Map<String, String> headers, int times) {
    byte[] body = manifestBody();
    server.on("/v2/lib/app/manifests/v1", (x, n) -> {
      if (n <= times) {
        FaultServer.send(x, status, headers, new byte[0]);
      } else {
        FaultServer.send(x, 200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST), body);
      }
    });
  }

  private static long gapMillis(List<FaultServer.Seen> seen) {
    return TimeUnit.NANOSECONDS.toMillis(seen.get(1).nanos() - seen.get(0).nanos());
  }

  @Test
  void a503IsRetriedNoEarlierThanItsRetryAfterSeconds() throws Exception {
    serveManifest(503, Map.of("Retry-After", "1"), 1);
    UpstreamManifest m = await(upstream.manifest(REPO, Reference.parse("v1")));
    assertEquals(Digest.sha256(manifestBody()), m.digest());
    List<FaultServer.Seen> seen = server.seen("/v2/lib/app/manifests/v1");
    assertEquals(2, seen.size());
    assertTrue(gapMillis(seen) >= 950, "retried after " + gapMillis(seen) + " ms, before Retry-After: 1");
  }

  @Test
  void a429IsRetriedNoEarlierThanItsRetryAfterDate() throws Exception {
    // an HTTP date has whole seconds: two seconds ahead is at least one second ahead
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.now().plusSeconds(2).atZone(ZoneOffset.UTC));
    serveManifest(429, Map.of("Retry-After", date), 1);
    await(upstream.manifest(REPO, Reference.parse("v1")));
    List<FaultServer.Seen> seen = server.seen("/v2/lib/app/manifests/v1");
    assertEquals(2, seen.size());
    assertTrue(gapMillis(seen) >= 950, "retried after " + gapMillis(seen) + " ms, before the Retry-After date");
  }

  @Test
  void givesUpUnavailableAfterMaxAttemptsAndDoesNotRetryOtherErrors() throws Exception {
    serveManifest(502, Map.of(), 100);
    UpstreamException e = failure(upstream.manifest(REPO, Reference.parse("v1")));
    assertEquals(Kind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("GET /v2/lib/app/manifests/v1: 502 after 3 attempts"), e.getMessage());
    assertEquals(3, server.seen("/v2/lib/app/manifests/v1").size());

    server.on("/v2/lib/app/manifests/v2", (x, n) -> FaultServer.send(x, 500, Map.of(), new byte[0]));
    assertEquals(Kind.UNAVAILABLE, failure(upstream.manifest(REPO, Reference.parse("v2"))).kind());
    assertEquals(1, server.seen("/v2/lib/app/manifests/v2").size(), "a 500 is not retried");

    UpstreamException missing = failure(upstream.manifest(REPO, Reference.parse("v3")));
    assertEquals(Kind.NOT_FOUND, missing.kind());
    assertTrue(missing.getMessage().contains("NOT_FOUND: nothing here"), missing.getMessage());
    assertEquals(404, missing.status());
    assertEquals(1, server.seen("/v2/lib/app/manifests/v3").size());
  }

  @Test
  void connectionErrorsAreRetriedThenUnavailable() {
    UpstreamRegistry nowhere = client(UpstreamConfig.of("http://127.0.0.1:" + TestNode.freePort())
        .withRetries(2, Duration.ofMillis(10), Duration.ofMillis(100)));
    UpstreamException e = failure(nowhere.listTags(REPO));
    assertEquals(Kind.UNAVAILABLE, e.kind());
    assertTrue(e.getMessage().contains("GET /v2/lib/app/tags/list") && e.getMessage().contains("after 2 attempts"),
        e.getMessage());
  }

  @Test
  void aBlobIsRetriedBeforeItsBytesFlowAndVerifiedAsTheyDo() throws Exception {
    byte[] bytes = Images.random(300_000, 1);
    Digest d = Digest.sha256(bytes);
    server.on("/v2/lib/app/blobs/" + d, (x, n) -> {
      if (n == 1) {
        FaultServer.send(x, 503, Map.of("Retry-After", "0"), new byte[0]);
      } else {
        FaultServer.send(x, 200, Map.of(), bytes);
      }
    });
    AtomicLong size = new AtomicLong();
    Buffer got = await(upstream.blob(REPO, d).compose(blob -> {
      size.set(blob.size());
      assertEquals(d, blob.digest());
      return collect(blob);
    }));
    assertArrayEquals(bytes, got.getBytes());
    assertEquals(bytes.length, size.get());
    assertEquals(2, server.seen("/v2/lib/app/blobs/" + d).size());
  }

  @Test
  void aBlobWhoseBytesDoNotMatchItsDigestEndsInFailure() throws Exception {
    byte[] bytes = Images.random(200_000, 2);
    Digest claimed = Digest.sha256(Images.random(200_000, 3));
    server.on("/v2/lib/app/blobs/" + claimed, (x, n) -> FaultServer.send(x, 200, Map.of(), bytes));
    AtomicLong handedOn = new AtomicLong();
    AtomicBoolean ended = new AtomicBoolean();
    UpstreamException e = failure(upstream.blob(REPO, claimed).compose(blob -> {
      io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
      blob.exceptionHandler(done::tryFail);
      blob.endHandler(v -> {
        ended.set(true);
        done.tryComplete();
      });
      blob.handler(b -> handedOn.addAndGet(b.length()));
      return done.future();
    }));
    assertEquals(Kind.DIGEST_MISMATCH, e.kind());
    assertTrue(e.getMessage().contains("GET /v2/lib/app/blobs/" + claimed), e.getMessage());
    assertEquals(bytes.length, handedOn.get(), "streamed as it came");
    assertFalse(ended.get(), "never ended successfully");
    assertEquals(1, server.seen("/v2/lib/app/blobs/" + claimed).size(), "not retried once bytes flowed");
  }

  @Test
  void aBlobCutShortEndsInFailureAndIsNotRetried() throws Exception {
    byte[] bytes = Images.random(100_000, 4);
    Digest d = Digest.sha256(bytes);
    server.on("/v2/lib/app/blobs/" + d, (x, n) -> {
      x.sendResponseHeaders(200, bytes.length);
      OutputStream out = x.getResponseBody();
      out.write(bytes, 0, 60_000);
      out.flush();
      x.close(); // fewer bytes than announced: the connection is closed
    });
    UpstreamException e = failure(upstream.blob(REPO, d).compose(UpstreamTesting::collect));
    assertTrue(e.kind() == Kind.UNAVAILABLE || e.kind() == Kind.PROTOCOL, e.toString());
    assertTrue(e.getMessage().contains("of 100000 bytes"), e.getMessage());
    assertEquals(1, server.seen("/v2/lib/app/blobs/" + d).size());
  }

  @Test
  void aBlobThatStallsFailsAfterTheRequestTimeout() throws Exception {
    byte[] bytes = Images.random(100_000, 5);
    Digest d = Digest.sha256(bytes);
    CompletableFuture<Void> released = new CompletableFuture<>();
    server.on("/v2/lib/app/blobs/" + d, (x, n) -> {
      x.sendResponseHeaders(200, bytes.length);
      x.getResponseBody().write(bytes, 0, 50_000);
      x.getResponseBody().flush();
      try {
        released.get(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        // released or interrupted: done
      }
    });
    UpstreamRegistry impatient = client(config().withRequestTimeout(Duration.ofSeconds(1)));
    try {
      UpstreamException e = failure(impatient.blob(REPO, d).compose(UpstreamTesting::collect));
      assertEquals(Kind.UNAVAILABLE, e.kind());
    } finally {
      released.complete(null);
    }
  }

  @Test
  void aHugeManifestIsRefusedWithoutReadingIt() throws Exception {
    for (boolean announced : new boolean[] {true, false}) {
      String path = "/v2/lib/app/manifests/" + (announced ? "huge" : "huge-chunked");
      CompletableFuture<Long> written = new CompletableFuture<>();
      server.on(path, (x, n) -> {
        long sent = 0;
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) ' ');
        try {
          x.getResponseHeaders().add("Content-Type", MediaTypes.OCI_MANIFEST);
          x.sendResponseHeaders(200, announced ? 30L * 1024 * 1024 : 0);
          OutputStream out = x.getResponseBody();
          while (sent < 30L * 1024 * 1024) {
            out.write(chunk);
            sent += chunk.length;
          }
          out.close();
        } finally {
          written.complete(sent);
        }
      });
      UpstreamException e = failure(upstream.manifest(REPO, Reference.parse(announced ? "huge" : "huge-chunked")));
      assertEquals(Kind.TOO_LARGE, e.kind());
      assertTrue(e.getMessage().contains(path), e.getMessage());
      long sent = written.get(60, TimeUnit.SECONDS);
      assertTrue(sent < 30L * 1024 * 1024, "the client read all 30 MiB (" + announced + ")");
    }
  }

  @Test
  void manifestsMustHashToTheirDigests() throws Exception {
    byte[] body = manifestBody();
    Digest right = Digest.sha256(body);
    Digest wrong = Digest.sha256("other".getBytes());
    server.on("/v2/lib/app/manifests/" + wrong, (x, n) -> FaultServer.send(x, 200,
        Map.of("Content-Type", MediaTypes.OCI_MANIFEST), body));
    assertEquals(Kind.DIGEST_MISMATCH, failure(upstream.manifest(REPO, Reference.of(wrong))).kind());

    server.on("/v2/lib/app/manifests/lying", (x, n) -> FaultServer.send(x, 200,
        Map.of("Content-Type", MediaTypes.OCI_MANIFEST, "Docker-Content-Digest", wrong.toString()), body));
    assertEquals(Kind.DIGEST_MISMATCH, failure(upstream.manifest(REPO, Reference.parse("lying"))).kind());

    server.on("/v2/lib/app/manifests/honest", (x, n) -> FaultServer.send(x, 200,
        Map.of("Content-Type", MediaTypes.OCI_MANIFEST, "Docker-Content-Digest", right.toString()), body));
    UpstreamManifest m = await(upstream.manifest(REPO, Reference.parse("honest")));
    assertEquals(right, m.digest());
    assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
    assertArrayEquals(body, m.body());
    String accept = server.seen("/v2/lib/app/manifests/honest").get(0).header("Accept");
    for (String type : List.of(MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX, MediaTypes.DOCKER_MANIFEST,
        MediaTypes.DOCKER_MANIFEST_LIST)) {
      assertTrue(accept.contains(type), accept);
    }

    server.on("/v2/lib/app/manifests/garbage", (x, n) -> FaultServer.send(x, 200,
        Map.of("Content-Type", MediaTypes.OCI_MANIFEST), "{\"schemaVersion\":1}".getBytes()));
    assertEquals(Kind.PROTOCOL, failure(upstream.manifest(REPO, Reference.parse("garbage"))).kind());
  }

  @Test
  void aRedirectToAnotherHostCarriesNoAuthorization() throws Exception {
    byte[] bytes = Images.random(150_000, 6);
    Digest d = Digest.sha256(bytes);
    try (FaultServer storage = new FaultServer()) {
      String challenge = "Bearer realm=\"" + server.url() + "/token\",service=\"fault\",scope=\"repository:lib/app:pull,push\"";
      server.on("/token", (x, n) -> FaultServer.send(x, 200, Map.of("Content-Type", "application/json"),
          "{\"access_token\":\"tok-1\",\"expires_in\":300}".getBytes()));
      server.on("/v2/lib/app/blobs/" + d, (x, n) -> {
        if (!"Bearer tok-1".equals(x.getRequestHeaders().getFirst("Authorization"))) {
          FaultServer.send(x, 401, Map.of("WWW-Authenticate", challenge), new byte[0]);
        } else {
          FaultServer.send(x, 307, Map.of("Location", storage.url() + "/bucket/blob?X-Amz-Signature=topsecret"), new byte[0]);
        }
      });
      storage.on("/bucket/blob", (x, n) -> {
        if (n <= 2) {
          FaultServer.send(x, 200, Map.of(), bytes);
        } else {
          FaultServer.send(x, 403, Map.of(), "<Error>AccessDenied</Error>".getBytes());
        }
      });
      UpstreamRegistry withCredentials = client(config().withCredentials("alice", "alice-pw"));
      for (int i = 0; i < 2; i++) {
        Buffer got = await(withCredentials.blob(REPO, d).compose(UpstreamTesting::collect));
        assertArrayEquals(bytes, got.getBytes());
      }
      for (FaultServer.Seen s : storage.seen("/bucket/blob")) {
        assertNull(s.header("Authorization"), "Authorization sent to another host");
        assertEquals("X-Amz-Signature=topsecret", s.query());
      }
      List<FaultServer.Seen> registry = server.seen("/v2/lib/app/blobs/" + d);
      assertEquals(List.of("none", "Bearer tok-1", "Bearer tok-1"),
          registry.stream().map(s -> s.header("Authorization") == null ? "none" : s.header("Authorization")).toList(),
          "one challenge, then the cached token up front");
      List<FaultServer.Seen> tokens = server.seen("/token");
      assertEquals(1, tokens.size(), "the token is cached");
      assertEquals("service=fault&scope=repository%3Alib%2Fapp%3Apull", tokens.get(0).query());
      assertEquals(io.flotilla.auth.AuthFixture.basic("alice"), tokens.get(0).header("Authorization"));

      UpstreamException denied = failure(withCredentials.blob(REPO, d));
      assertEquals(Kind.DENIED, denied.kind());
      assertTrue(denied.getMessage().contains("GET /bucket/blob: 403"), denied.getMessage());
      assertFalse(denied.getMessage().contains("topsecret"), denied.getMessage());
      assertFalse(denied.getMessage().contains("alice-pw"), denied.getMessage());
    }
  }

  @Test
  void basicWhenTheUpstreamChallengesWithBasic() throws Exception {
    String good = io.flotilla.auth.AuthFixture.basic("alice");
    server.on("/v2/lib/app/tags/list", (x, n) -> {
      if (!good.equals(x.getRequestHeaders().getFirst("Authorization"))) {
        FaultServer.send(x, 401, Map.of("WWW-Authenticate", "Basic realm=\"fault\""), new byte[0]);
      } else {
        FaultServer.send(x, 200, Map.of("Content-Type", "application/json"),
            "{\"name\":\"lib/app\",\"tags\":[\"a\",\"b\"]}".getBytes());
      }
    });
    UpstreamRegistry alice = client(config().withCredentials("alice", "alice-pw"));
    assertEquals(List.of(new Tag("a"), new Tag("b")), await(alice.listTags(REPO)));
    assertEquals(List.of(new Tag("a"), new Tag("b")), await(alice.listTags(REPO)));
    assertEquals(3, server.seen("/v2/lib/app/tags/list").size(), "Basic up front after the first challenge");

    UpstreamException wrong = failure(client(config().withCredentials("alice", "nope")).listTags(REPO));
    assertEquals(Kind.UNAUTHORIZED, wrong.kind());
    assertFalse(wrong.getMessage().contains("nope"));
    assertEquals(Kind.UNAUTHORIZED, failure(upstream.listTags(REPO)).kind());
  }

  @Test
  void paginationLoopsAreRefusedAndReferrersMayBeUnsupported() throws Exception {
    server.on("/v2/lib/app/tags/list", (x, n) -> FaultServer.send(x, 200,
        Map.of("Content-Type", "application/json", "Link", "</v2/lib/app/tags/list?n=1&last=a>; rel=\"next\""),
        "{\"name\":\"lib/app\",\"tags\":[\"a\"]}".getBytes()));
    UpstreamException loop = failure(upstream.listTags(REPO, 1));
    assertEquals(Kind.PROTOCOL, loop.kind());
    assertTrue(server.seen("/v2/lib/app/tags/list").size() <= 3);

    Digest subject = Digest.sha256(manifestBody());
    UpstreamReferrers none = await(upstream.referrers(REPO, subject));
    assertFalse(none.supported());
    server.on("/v2/lib/app/referrers/" + subject, (x, n) -> FaultServer.send(x, 200,
        Map.of("Content-Type", MediaTypes.OCI_INDEX), ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
            + "\",\"manifests\":[]}").getBytes()));
    UpstreamReferrers empty = await(upstream.referrers(REPO, subject));
    assertTrue(empty.supported());
    assertEquals(List.of(), empty.manifests());
  }
}
