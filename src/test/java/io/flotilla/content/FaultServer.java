package io.flotilla.content;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted HTTP server on 127.0.0.1 playing a misbehaving upstream: each path has a script that
 * answers the n-th request to it; every request is recorded (path, query, headers, arrival time).
 * Paths without a script answer 404.
 */
final class FaultServer implements AutoCloseable {
  /** Answers the {@code n}-th request (from 1) to its path. */
  interface Script {
    void handle(HttpExchange x, int n) throws IOException;
  }

  /** One request as it arrived. */
  record Seen(String path, String query, Map<String, List<String>> headers, long nanos) {
    String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final List<Seen> seen = new CopyOnWriteArrayList<>();

  FaultServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", x -> {
      String path = x.getRequestURI().getRawPath();
      seen.add(new Seen(path, x.getRequestURI().getRawQuery(), Map.copyOf(x.getRequestHeaders()), System.nanoTime()));
      Script s = scripts.get(path);
      try {
        if (s == null) {
          send(x, 404, Map.of(), "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"nothing here\"}]}".getBytes());
        } else {
          s.handle(x, counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet());
        }
      } catch (IOException e) {
        // the client went away: the script's own business
      } finally {
        x.close();
      }
    });
    server.start();
  }

  void on(String path, Script script) {
    scripts.put(path, script);
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  List<Seen> seen(String path) {
    return seen.stream().filter(s -> s.path().equals(path)).toList();
  }

  static void send(HttpExchange x, int status, Map<String, String> headers, byte[] body) throws IOException {
    headers.forEach((k, v) -> x.getResponseHeaders().add(k, v));
    x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = x.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
