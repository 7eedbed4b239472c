package io.flotilla.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Flotilla node in its own JVM, started from the packaged jar ({@code FLOTILLA_JAR}, set by the
 * build for integration tests). Used where a real process boundary matters: {@code kill -9}.
 */
public final class NodeProcess implements AutoCloseable {
  /** How long a starting node may take to get ready; generous, since CI machines may be busy. */
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(180); // a node starts in ~1 min on a loaded 2-core machine
  /** Every node process started by this JVM: killed when the JVM exits, even if a test did not close it. */
  private static final java.util.Set<Process> STARTED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(Process::destroyForcibly)));
  }
  private final Process process;
  private final int httpPort;
  private final Path log;
  private final int dataPort;

  private NodeProcess(Process process, int httpPort, Path log, int dataPort) {
    this.process = process;
    this.httpPort = httpPort;
    this.log = log;
    this.dataPort = dataPort;
  }

  public static Path jar() {
    String env = System.getenv("FLOTILLA_JAR");
    Path jar = env != null ? Path.of(env) : Path.of("target", "flotilla.jar");
    if (!Files.exists(jar)) {
      throw new IllegalStateException("packaged jar not found at " + jar + " (run mvn verify)");
    }
    return jar;
  }

  /** Starts a node process on the given ports and waits until it is ready. */
  public static NodeProcess start(Path dataDir, int httpPort, int clusterPort, Map<String, String> env)
      throws IOException, InterruptedException {
    NodeProcess node = launch(dataDir, httpPort, clusterPort, env);
    try {
      node.awaitReady(READY_TIMEOUT);
    } catch (IOException | InterruptedException | RuntimeException e) {
      node.close(); // a node that did not get ready must not outlive the test
      throw e;
    }
    return node;
  }

  /** Starts a node process on the given ports without waiting for anything (see {@link #awaitExit}). */
  public static NodeProcess launch(Path dataDir, int httpPort, int clusterPort, Map<String, String> env)
      throws IOException {
    // beside the data folder (in the test's temporary folder, removed with it), not in /tmp for good
    Path parent = dataDir.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path log = Files.createTempFile(parent, dataDir.getFileName() + "-", ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-jar", jar().toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("FLOTILLA_HTTP_HOST", "127.0.0.1");
    pb.environment().put("FLOTILLA_HTTP_PORT", Integer.toString(httpPort));
    pb.environment().put("FLOTILLA_DATA_DIR", dataDir.toString());
    pb.environment().put("FLOTILLA_CLUSTER_PORT", Integer.toString(clusterPort));
    pb.environment().put("FLOTILLA_CLUSTER_HOST", "127.0.0.1");
    pb.environment().put("FLOTILLA_NODE_NAME", "proc-" + httpPort);
    pb.environment().put("FLOTILLA_CLUSTER_NAME", "proc-" + httpPort);
    pb.environment().put("FLOTILLA_STORAGE_GC_INTERVAL", "0");
    // each process its own data-channel port (the default, cluster port + 100, could be taken)
    pb.environment().put("FLOTILLA_CLUSTER_DATA_PORT", Integer.toString(TestNode.freePort()));
    pb.environment().putAll(env);
    int dataPort = Integer.parseInt(pb.environment().get("FLOTILLA_CLUSTER_DATA_PORT"));
    Process process = pb.start();
    STARTED.add(process);
    process.onExit().thenRun(() -> STARTED.remove(process));
    return new NodeProcess(process, httpPort, log, dataPort);
  }

  /** Waits up to {@code timeout} for the process to end; returns its exit code, or -1 if it still runs. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  /** Sends SIGTERM (a graceful stop) and returns at once. */
  public void sigterm() {
    process.destroy();
  }

  private void awaitReady(Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("node process exited: " + Files.readString(log));
      }
      try {
        var r = http.send(HttpRequest.newBuilder(URI.create(url() + "/health/ready")).build(),
            HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("node not ready in time: " + Files.readString(log));
  }

  /** The port of this node's data channel (blob bytes between nodes). */
  public int dataPort() {
    return dataPort;
  }

  public String url() {
    return "http://127.0.0.1:" + httpPort;
  }

  public boolean alive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook, no flush. */
  public void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, then wait for the graceful shutdown; returns the exit code. */
  public int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(); // the kill is asynchronous: exitValue() before the end would throw
    }
    return process.exitValue();
  }

  public String output() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill9();
    }
  }
}
