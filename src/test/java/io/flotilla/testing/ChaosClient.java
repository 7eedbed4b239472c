package io.flotilla.testing;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * A raw HTTP client for tests that run while nodes die: it never throws, and tells apart the three
 * outcomes a model of acknowledged operations needs. {@link Result#refused} (the connection was
 * never made, so nothing was sent and nothing can have happened), a response (its status), and
 * {@link Result#unknown} (the request may or may not have been applied: reset, timeout, EOF).
 * Every result carries how long the call took, so a test can also report requests that hung.
 */
public final class ChaosClient {
  /** How a call ended. {@code status} is -1 unless a response arrived. */
  public record Result(int status, byte[] body, HttpResponse<byte[]> response, Failure failure, String error,
      long millis) {
    public boolean refused() {
      return failure == Failure.REFUSED;
    }

    /** No response: the request may have been applied or not (never true for a refused connection). */
    public boolean unknown() {
      return failure == Failure.UNKNOWN || failure == Failure.TIMEOUT;
    }

    public boolean timedOut() {
      return failure == Failure.TIMEOUT;
    }

    public boolean is(int expected) {
      return status == expected;
    }

    public String header(String name) {
      return response == null ? null : response.headers().firstValue(name).orElse(null);
    }

    public String text() {
      return body == null ? "" : new String(body, StandardCharsets.UTF_8);
    }

    /** Status or failure, for reports: {@code 201}, {@code refused}, {@code timeout after 30000 ms}. */
    public String describe() {
      if (failure == null) {
        return Integer.toString(status);
      }
      return switch (failure) {
        case REFUSED -> "refused";
        case TIMEOUT -> "timeout after " + millis + " ms";
        case UNKNOWN -> "no response (" + error + ")";
      };
    }
  }

  /** Why no response arrived. */
  public enum Failure { REFUSED, TIMEOUT, UNKNOWN }

  private final HttpClient http;
  private final Duration timeout;

  /** @param timeout per request, response body included */
  public ChaosClient(Duration timeout) {
    this.timeout = timeout;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(3))
        .build();
  }

  public Result send(String method, String url, byte[] body, Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url))
        .timeout(timeout)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    long started = System.nanoTime();
    try {
      HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
      return new Result(r.statusCode(), r.body(), r, null, null, elapsed(started));
    } catch (HttpConnectTimeoutException e) {
      return new Result(-1, null, null, Failure.REFUSED, "connect timeout", elapsed(started));
    } catch (HttpTimeoutException e) {
      return new Result(-1, null, null, Failure.TIMEOUT, "timeout", elapsed(started));
    } catch (IOException e) {
      boolean refused = e instanceof ConnectException || e.getCause() instanceof ConnectException;
      return new Result(-1, null, null, refused ? Failure.REFUSED : Failure.UNKNOWN, String.valueOf(e),
          elapsed(started));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, null, null, Failure.UNKNOWN, "interrupted", elapsed(started));
    }
  }

  public Result get(String url, Map<String, String> headers) {
    return send("GET", url, null, headers);
  }

  private static long elapsed(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }
}
