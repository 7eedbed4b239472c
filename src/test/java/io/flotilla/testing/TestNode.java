package io.flotilla.testing;

import io.flotilla.boot.Node;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.FlotillaConfig;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** A Flotilla node started in this JVM on loopback, on free ports, with its own data folder. */
public final class TestNode implements AutoCloseable {
  private final Node node;

  private TestNode(Node node) {
    this.node = node;
  }

  public static TestNode start(Path dataDir) {
    return start(dataDir, Map.of());
  }

  /** Starts a node; {@code overrides} are flat config keys such as {@code storage.deleteEnabled}. */
  public static TestNode start(Path dataDir, Map<String, String> overrides) {
    Map<String, String> values = new HashMap<>();
    values.put("node.name", "test-" + UUID.randomUUID().toString().substring(0, 8));
    values.put("http.host", "127.0.0.1");
    values.put("http.port", "0");
    values.put("http.instances", "2");
    values.put("http.accessLog", "false");
    values.put("http.shutdownTimeout", "5s");
    values.put("storage.dataDir", dataDir.toString());
    values.put("storage.gcInterval", "0");
    values.put("cluster.name", "test-" + UUID.randomUUID());
    values.put("cluster.host", "127.0.0.1");
    values.put("cluster.port", Integer.toString(freePort()));
    values.put("cluster.dataPort", "0");
    values.putAll(overrides);
    FlotillaConfig config = ConfigLoader.build(values);
    try {
      return new TestNode(Node.start(config).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS));
    } catch (Exception e) {
      throw new IllegalStateException("node did not start", e);
    }
  }

  /** The public listener's base URL ({@code https} when TLS is configured). */
  public String url() {
    return (node.tls() ? "https" : "http") + "://127.0.0.1:" + node.httpPort();
  }

  /** The admin listener's base URL ({@code http.adminPort}), same scheme as {@link #url}. */
  public String adminUrl() {
    if (node.adminPort() < 0) {
      throw new IllegalStateException("this node has no admin listener");
    }
    return (node.tls() ? "https" : "http") + "://127.0.0.1:" + node.adminPort();
  }

  /** host:port, as OCI clients name a registry. */
  public String hostPort() {
    return "127.0.0.1:" + node.httpPort();
  }

  public Node node() {
    return node;
  }

  @Override
  public void close() {
    try {
      node.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("node did not stop", e);
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
