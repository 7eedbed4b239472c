package io.flotilla.testing;

import io.flotilla.oci.Digest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** A minimal distribution-API client for tests, speaking raw HTTP so tests see exact statuses. */
public final class OciClient {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final Map<String, String> defaults;
  private final Duration timeout;

  public OciClient(String base) {
    this(base, Map.of(), Duration.ofSeconds(60));
  }

  /** A client whose requests give up after {@code timeout} (HttpTimeoutException, as UncheckedIOException). */
  public OciClient(String base, Duration timeout) {
    this(base, Map.of(), timeout);
  }

  /** A client that sends {@code defaults} (e.g. an Authorization header) with every request. */
  public OciClient(String base, Map<String, String> defaults) {
    this(base, defaults, Duration.ofSeconds(60));
  }

  private OciClient(String base, Map<String, String> defaults, Duration timeout) {
    this.base = base;
    this.defaults = Map.copyOf(defaults);
    this.timeout = timeout;
  }

  /** The same client sending {@code authorization} with every request. */
  public OciClient as(String authorization) {
    return new OciClient(base, Map.of("Authorization", authorization), timeout);
  }

  public HttpResponse<byte[]> send(String method, String path, byte[] body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : base + path))
        .timeout(timeout)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    defaults.forEach((k, v) -> {
      if (!headers.containsKey(k)) {
        b.header(k, v);
      }
    });
    headers.forEach(b::header);
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<byte[]> get(String path) {
    return send("GET", path, null, Map.of());
  }

  public HttpResponse<byte[]> get(String path, Map<String, String> headers) {
    return send("GET", path, null, headers);
  }

  /** Pushes a blob monolithically (POST then PUT) and returns its digest; fails the test on error. */
  public Digest pushBlob(String repo, byte[] content) {
    Digest d = Digest.sha256(content);
    var post = send("POST", "/v2/" + repo + "/blobs/uploads/", null, Map.of());
    expect(post, 202);
    String location = post.headers().firstValue("Location").orElseThrow();
    var put = send("PUT", location + (location.contains("?") ? "&" : "?") + "digest=" + d, content,
        Map.of("Content-Type", "application/octet-stream"));
    expect(put, 201);
    return d;
  }

  /** Puts a manifest and returns the response. */
  public HttpResponse<byte[]> putManifest(String repo, String reference, String mediaType, byte[] body) {
    return send("PUT", "/v2/" + repo + "/manifests/" + reference, body, Map.of("Content-Type", mediaType));
  }

  public static String text(HttpResponse<byte[]> r) {
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  public static void expect(HttpResponse<byte[]> r, int status) {
    if (r.statusCode() != status) {
      throw new AssertionError("expected " + status + " but got " + r.statusCode() + " for " + r.request().method()
          + " " + r.request().uri() + ": " + text(r));
    }
  }
}
