package io.flotilla.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A real HTTP webhook receiver on 127.0.0.1 for tests: records every accepted request per path
 * (body and headers) and answers each path with a configurable status (200 unless set).
 * {@link #stop}/{@link #start} play an endpoint that is gone for a while (connections refused);
 * {@link #down}/{@link #up} one that answers 503 for a while (nothing recorded).
 */
public final class WebhookReceiver implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One request received. */
  public record Received(String path, byte[] body, Map<String, List<String>> headers) {
    public String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue().get(0);
        }
      }
      return null;
    }

    /** The events of a distribution envelope. */
    public List<JsonNode> events() {
      try {
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(body).path("events").forEach(out::add);
        return out;
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private final int port;
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, Integer> statuses = new ConcurrentHashMap<>();
  private HttpServer server;
  private volatile boolean down;

  public WebhookReceiver() throws IOException {
    this.port = TestNode.freePort();
    start();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** Listens again on the same port (after {@link #stop}). */
  public synchronized void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      String path = exchange.getRequestURI().getPath();
      int status = down ? 503 : statuses.getOrDefault(path, 200);
      if (status >= 200 && status < 300) {
        received.add(new Received(path, body, Map.copyOf(exchange.getRequestHeaders())));
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }

  /** Stops listening: connections are refused until {@link #start}. */
  public synchronized void stop() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdown();
  }

  /** Every request fails with 503 until {@link #up}. */
  public void down() {
    down = true;
  }

  public void up() {
    down = false;
  }

  public void answer(String path, int status) {
    statuses.put(path, status);
  }

  /** Accepted requests (2xx) to {@code path}, in arrival order. */
  public List<Received> received(String path) {
    return received.stream().filter(r -> r.path().equals(path)).toList();
  }

  /** Every event accepted at {@code path}, in arrival order. */
  public List<JsonNode> events(String path) {
    List<JsonNode> out = new ArrayList<>();
    received(path).forEach(r -> out.addAll(r.events()));
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
