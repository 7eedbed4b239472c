package io.flotilla.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A real, single-node Apache Kafka broker for integration tests, run in KRaft mode (combined broker
 * and controller, no ZooKeeper) as a child JVM.
 *
 * <p>The child runs {@code kafka.Kafka} from the {@code org.apache.kafka:kafka_2.13} test dependency
 * on the test JVM's own class path, listening on free loopback ports. Everything it writes (config,
 * storage, log) lives under the folder given to {@link #start(Path)}. Topics are created on first
 * use, with 3 partitions and replication factor 1.
 *
 * <pre>{@code
 * try (KafkaBroker kafka = KafkaBroker.start(tempDir)) {
 *   producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 *   ...
 * }
 * }</pre>
 *
 * <p>The broker logs at WARN level and above to {@code broker.log} in that folder (see {@link #log()}).
 * Kafka logs through SLF4J and is configured for log4j 1.x, and {@code kafka_2.13} brings no binding; the
 * build copies reload4j and slf4j-reload4j to {@code target/kafka-broker-logging} (override with the
 * system property {@value #LOGGING_JARS_PROPERTY}) and only the child JVM gets them, so that the test JVM's
 * logging is unchanged. Without those jars the broker still runs, and its log holds only what it prints to
 * stdout and stderr.
 */
public final class KafkaBroker implements AutoCloseable {
  /** System property naming the folder of jars added to the broker's class path for logging. */
  public static final String LOGGING_JARS_PROPERTY = "flotilla.kafka.loggingJars";

  private static final Duration FORMAT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
  private static final long PROBE_PAUSE_MS = 200;

  private final Process process;
  private final Path logFile;
  private final int port;
  private final Thread shutdownHook;

  private KafkaBroker(Process process, Path logFile, int port) {
    this.process = process;
    this.logFile = logFile;
    this.port = port;
    this.shutdownHook = new Thread(process::destroyForcibly, "kafka-broker-reaper-" + port);
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Formats storage under {@code dir}, starts the broker and waits (at most 60 s) until it answers an
   * admin request.
   *
   * @param dir a folder of this broker's own; created if missing
   * @throws IllegalStateException if the broker cannot be formatted or started in time; the message
   *     carries the end of its log
   */
  public static KafkaBroker start(Path dir) {
    try {
      Files.createDirectories(dir);
      int port = TestNode.freePort();
      int controllerPort = TestNode.freePort();
      while (controllerPort == port) {
        controllerPort = TestNode.freePort();
      }
      Path log4j = writeLog4jConfig(dir);
      Path serverProperties = writeServerProperties(dir, port, controllerPort);

      format(dir, log4j, serverProperties);

      Path logFile = dir.resolve("broker.log");
      Process process =
          new ProcessBuilder(javaCommand(log4j, "-Xmx256m", "kafka.Kafka", serverProperties.toString()))
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(logFile.toFile())
              .start();
      KafkaBroker broker = new KafkaBroker(process, logFile, port);
      try {
        broker.awaitReady();
        return broker;
      } catch (RuntimeException | InterruptedException e) {
        broker.close();
        throw e;
      }
    } catch (IOException e) {
      throw new IllegalStateException("Kafka broker did not start in " + dir, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the Kafka broker", e);
    }
  }

  /**
   * Runs a broker for the benchmark ({@code bench/events.sh}): {@code KafkaBroker DIR SECONDS} starts
   * it in DIR, prints {@code bootstrap=<host:port>} and stops it after SECONDS (or when this JVM is
   * terminated: the reaper hook stops the broker too), so it never outlives its caller by long.
   */
  public static void main(String[] args) throws Exception {
    long seconds = args.length > 1 ? Long.parseLong(args[1]) : 3600;
    try (KafkaBroker broker = start(Path.of(args[0]))) {
      System.out.println("bootstrap=" + broker.bootstrapServers());
      System.out.flush();
      broker.process.waitFor(seconds, TimeUnit.SECONDS);
    }
  }

  /** {@code 127.0.0.1:<port>}, the value for a client's {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The broker's log so far (WARN and above, plus anything printed to stdout/stderr), for diagnostics. */
  public String log() {
    try {
      return Files.readString(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e + ")";
    }
  }

  /** Stops the broker: a normal shutdown, then a forced one if it has not exited after 10 s. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook will run anyway
    }
    process.destroy();
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void awaitReady() throws InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    Map<String, Object> config =
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) PROBE_TIMEOUT.toMillis(),
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) PROBE_TIMEOUT.toMillis(),
            AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
    Exception last = null;
    try (Admin admin = Admin.create(config)) {
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw failure("Kafka broker exited with code " + process.exitValue(), null);
        }
        try {
          if (!admin.describeCluster().nodes().get(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e;
        }
        // bounded pause that ends early if the broker dies
        process.waitFor(PROBE_PAUSE_MS, TimeUnit.MILLISECONDS);
      }
    }
    throw failure("Kafka broker did not answer within " + START_TIMEOUT.toSeconds() + " s", last);
  }

  private IllegalStateException failure(String message, Exception cause) {
    return new IllegalStateException(message + "; log " + logFile + " ends with:\n" + tail(log()), cause);
  }

  private static void format(Path dir, Path log4j, Path serverProperties)
      throws IOException, InterruptedException {
    Path formatLog = dir.resolve("format.log");
    Process format =
        new ProcessBuilder(
                javaCommand(
                    log4j,
                    "-Xmx128m",
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    Uuid.randomUuid().toString(),
                    "-c",
                    serverProperties.toString()))
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(formatLog.toFile())
            .start();
    if (!format.waitFor(FORMAT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      format.destroyForcibly();
      throw new IllegalStateException("Kafka storage format did not finish within " + FORMAT_TIMEOUT.toSeconds() + " s");
    }
    if (format.exitValue() != 0) {
      throw new IllegalStateException(
          "Kafka storage format failed with code " + format.exitValue() + ":\n"
              + tail(Files.readString(formatLog, StandardCharsets.UTF_8)));
    }
  }

  private static List<String> javaCommand(Path log4j, String heap, String mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add(heap);
    command.add("-XX:+UseSerialGC");
    command.add("-Djava.awt.headless=true");
    command.add("-Dlog4j.configuration=" + log4j.toUri());
    command.add("-cp");
    command.add(classPath());
    command.add(mainClass);
    command.addAll(List.of(args));
    return command;
  }

  /** The test JVM's class path, preceded by the logging jars if there are any. */
  private static String classPath() {
    StringBuilder classPath = new StringBuilder();
    Path loggingJars = Path.of(System.getProperty(LOGGING_JARS_PROPERTY, "target/kafka-broker-logging"));
    if (Files.isDirectory(loggingJars)) {
      try (Stream<Path> jars = Files.list(loggingJars)) {
        jars.filter(jar -> jar.toString().endsWith(".jar"))
            .sorted()
            .forEach(jar -> classPath.append(jar.toAbsolutePath()).append(File.pathSeparator));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return classPath.append(System.getProperty("java.class.path")).toString();
  }

  private static Path writeLog4jConfig(Path dir) throws IOException {
    return Files.writeString(
        dir.resolve("log4j.properties"),
        String.join(
            "\n",
            "log4j.rootLogger=WARN, stdout",
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
            ""));
  }

  private static Path writeServerProperties(Path dir, int port, int controllerPort) throws IOException {
    String listener = "127.0.0.1:" + port;
    String controller = "127.0.0.1:" + controllerPort;
    List<String> lines =
        List.of(
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@" + controller,
            "listeners=PLAINTEXT://" + listener + ",CONTROLLER://" + controller,
            "advertised.listeners=PLAINTEXT://" + listener,
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "log.dirs=" + dir.resolve("data").toAbsolutePath(),
            "num.partitions=3",
            "auto.create.topics.enable=true",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=5",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "transaction.state.log.num.partitions=5",
            "group.initial.rebalance.delay.ms=0",
            // small segments and indexes: tests write little, and the disk may be shared
            "log.segment.bytes=1048576",
            "log.index.size.max.bytes=65536",
            "log.cleaner.dedupe.buffer.size=8388608",
            // a 2-core test machine does not need Kafka's default thread counts
            "num.network.threads=2",
            "num.io.threads=2",
            "num.recovery.threads.per.data.dir=1",
            "background.threads=2");
    return Files.write(dir.resolve("server.properties"), lines, StandardCharsets.UTF_8);
  }

  private static String tail(String text) {
    int max = 4000;
    return text.length() <= max ? text : "..." + text.substring(text.length() - max);
  }

  @Override
  public String toString() {
    return "KafkaBroker[" + bootstrapServers() + ", " + (process.isAlive() ? "running" : "stopped") + "]";
  }
}
