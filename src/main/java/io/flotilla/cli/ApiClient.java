package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The admin API over HTTP, blocking: sends JSON, returns the answer's JSON tree, and turns every
 * failure into an {@link ApiException} carrying the status (0 when there was no answer) and the
 * first message of the API's {@code {"errors":[...]}} body. Used from the command's thread only.
 */
public final class ApiClient {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http;
  private final URI base;
  private final String authorization;
  private final ObjectMapper json;

  /** A client of the server at {@code base}; {@code user} null sends no credentials. */
  public ApiClient(URI base, String user, String password, boolean insecure, ObjectMapper json) {
    HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (insecure) {
      b.sslContext(trustingEverything());
    }
    this.http = b.build();
    String s = base.toString();
    this.base = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
    this.authorization = user == null ? null : "Basic " + Base64.getEncoder()
        .encodeToString((user + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
    this.json = json;
  }

  /** {@code GET path}. */
  public JsonNode get(String path) throws ApiException {
    return send("GET", path, null);
  }

  /** {@code POST path} with a JSON body. */
  public JsonNode post(String path, JsonNode body) throws ApiException {
    return send("POST", path, body);
  }

  /** {@code PUT path} with a JSON body. */
  public JsonNode put(String path, JsonNode body) throws ApiException {
    return send("PUT", path, body);
  }

  /** {@code PATCH path} with a JSON body. */
  public JsonNode patch(String path, JsonNode body) throws ApiException {
    return send("PATCH", path, body);
  }

  /** {@code DELETE path}. */
  public JsonNode delete(String path) throws ApiException {
    return send("DELETE", path, null);
  }

  /**
   * A path under {@code /api/v1}: each argument is a path segment, percent-encoded, except that the
   * slashes of a repository name stay slashes ({@code library/alpine} is two segments).
   */
  public static String path(String... segments) {
    StringBuilder b = new StringBuilder("/api/v1");
    for (String s : segments) {
      for (String part : s.split("/", -1)) {
        b.append('/').append(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"));
      }
    }
    return b.toString();
  }

  /** {@code path} with the query parameters whose values are not null, in the given order. */
  public static String query(String path, Map<String, String> params) {
    List<String> pairs = new ArrayList<>();
    params.forEach((k, v) -> {
      if (v != null) {
        pairs.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
      }
    });
    return pairs.isEmpty() ? path : path + "?" + String.join("&", pairs);
  }

  private JsonNode send(String method, String path, JsonNode body) throws ApiException {
    URI uri = URI.create(base + path);
    HttpRequest.Builder r = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).header("Accept", "application/json");
    if (authorization != null) {
      r.header("Authorization", authorization);
    }
    if (body != null) {
      r.header("Content-Type", "application/json");
      r.method(method, HttpRequest.BodyPublishers.ofByteArray(bytes(body)));
    } else {
      r.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<byte[]> response;
    try {
      response = http.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(0, "", "interrupted");
    } catch (IOException e) {
      throw new ApiException(0, "", unreachable(e));
    }
    int status = response.statusCode();
    byte[] bytes = response.body();
    if (status >= 200 && status < 300) {
      if (bytes.length == 0) {
        return MissingNode.getInstance();
      }
      try {
        return json.readTree(bytes);
      } catch (IOException e) {
        throw new ApiException(status, "", method + " " + path + ": the server's answer is not JSON");
      }
    }
    throw failure(method, path, status, bytes);
  }

  private ApiException failure(String method, String path, int status, byte[] bytes) {
    try {
      JsonNode errors = json.readTree(bytes).path("errors");
      if (errors.isArray() && !errors.isEmpty()) {
        List<String> messages = new ArrayList<>();
        for (JsonNode e : errors) {
          String m = e.path("message").asText("");
          messages.add(m.isEmpty() ? e.path("code").asText("") : m);
        }
        return new ApiException(status, errors.get(0).path("code").asText(""), String.join("; ", messages));
      }
    } catch (IOException ignored) {
      // not the API's error body: described by its status below
    }
    return new ApiException(status, "", method + " " + path + ": HTTP " + status
        + (status == 401 ? " (give --user and --password)" : ""));
  }

  private String unreachable(IOException e) {
    String why;
    if (e instanceof HttpConnectTimeoutException) {
      why = "connection timed out";
    } else if (e instanceof HttpTimeoutException) {
      why = "no answer within " + REQUEST_TIMEOUT.toSeconds() + "s";
    } else if (e instanceof ConnectException) {
      why = "connection refused";
    } else if (e instanceof SSLException) {
      why = "TLS failed (" + e.getMessage() + "); --insecure skips verification";
    } else {
      why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    return "cannot reach " + base + ": " + why;
  }

  private byte[] bytes(JsonNode body) {
    try {
      return json.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext trustingEverything() {
    TrustManager all = new X509ExtendedTrustManager() {
      @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
      @Override public void checkClientTrusted(X509Certificate[] c, String a, Socket s) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a, Socket s) {}
      @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}
      @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}
      @Override public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {all}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
