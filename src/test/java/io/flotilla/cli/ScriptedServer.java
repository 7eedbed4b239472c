package io.flotilla.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An HTTP server on 127.0.0.1 (port chosen by the system) that answers each {@code METHOD path}
 * with a script of responses, one per call, repeating the last one; it records every request.
 * Anything unscripted gets a 404 in the API's error format.
 */
final class ScriptedServer implements AutoCloseable {
  /** A request as received: method, raw path with query, body, Authorization header. */
  record Request(String method, String path, String body, String authorization) {}

  /** A scripted answer. */
  record Response(int status, String body) {}

  private final HttpServer server;
  private final Map<String, Deque<Response>> scripts = new HashMap<>();
  private final List<Request> requests = new ArrayList<>();

  ScriptedServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Answers {@code method path} with these responses in turn, the last one from then on. */
  synchronized ScriptedServer on(String method, String path, Response... responses) {
    scripts.put(method + " " + path, new ArrayDeque<>(Arrays.asList(responses)));
    return this;
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The requests other than polls of tasks. */
  synchronized List<Request> requestsBut(String method, String path) {
    return requests.stream().filter(r -> !(r.method().equals(method) && r.path().equals(path))).toList();
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getRawPath()
        + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Response r;
    synchronized (this) {
      requests.add(new Request(ex.getRequestMethod(), path, body, ex.getRequestHeaders().getFirst("Authorization")));
      Deque<Response> script = scripts.get(ex.getRequestMethod() + " " + path);
      if (script == null) {
        r = new Response(404, "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"nothing at " + path + "\"}]}");
      } else {
        r = script.size() > 1 ? script.poll() : script.peek();
      }
    }
    byte[] bytes = r.body() == null ? new byte[0] : r.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(r.status(), bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
