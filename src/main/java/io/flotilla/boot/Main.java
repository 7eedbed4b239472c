package io.flotilla.boot;

import io.flotilla.config.ConfigException;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.FlotillaConfig;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code java -jar flotilla.jar [--config FILE]}: loads the configuration (file, then
 * {@code FLOTILLA_*} environment), starts a node and stops it gracefully on SIGTERM/SIGINT.
 * Exits 2 on an invalid configuration (also when found only at start: unreadable TLS files, a
 * webhook target refused), 1 when the node cannot start.
 */
public final class Main {
  static {
    // before any logger exists: the JDK's manager would close the handlers while the node stops
    if (System.getProperty("java.util.logging.manager") == null) {
      System.setProperty("java.util.logging.manager", NodeLogManager.class.getName());
    }
  }

  /**
   * Library loggers turned down to what an operator needs. Held here: java.util.logging keeps
   * loggers weakly, and a collected logger forgets its level (Hazelcast's member lists came back).
   */
  private static final java.util.List<Logger> QUIETED = new java.util.ArrayList<>();

  private Main() {}

  private static void quietLibraries() {
    quiet("com.hazelcast", Level.WARNING);
    // the CP subsystem is not used: its "UNSAFE mode" warning is noise
    quiet("com.hazelcast.cp.CPSubsystem", Level.SEVERE);
    quiet("com.hazelcast.system.logo", Level.SEVERE);
    quiet("org.apache.kafka", Level.WARNING);
    quiet("io.netty", Level.WARNING);
  }

  private static void quiet(String name, Level level) {
    Logger l = Logger.getLogger(name);
    l.setLevel(level);
    QUIETED.add(l);
  }

  private static ConfigException configProblem(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConfigException c) {
        return c;
      }
    }
    return null;
  }

  public static void main(String[] args) {
    quietLibraries();
    if (args.length == 2 && args[0].equals("htpasswd")) {
      htpasswd(args[1]);
      return;
    }
    Path file = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else if (args[i].startsWith("--config=")) {
        file = Path.of(args[i].substring("--config=".length()));
      } else {
        System.err.println("usage: java -jar flotilla.jar [--config FILE]");
        System.exit(2);
      }
    }
    FlotillaConfig config;
    try {
      config = ConfigLoader.load(file, System.getenv());
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Node node;
    try {
      node = Node.start(config).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof io.flotilla.cluster.Membership.DuplicateNameException duplicate) {
          System.err.println("flotilla: refusing to start: " + duplicate.getMessage());
          System.exit(2);
          return;
        }
      }
      ConfigException invalid = configProblem(e);
      if (invalid != null) { // found only when checked against the files or the network (TLS files, webhook hosts)
        System.err.println(invalid.getMessage());
        System.exit(2);
        return;
      }
      System.err.println("flotilla: node failed to start: " + e);
      e.printStackTrace();
      System.exit(1);
      return;
    }
    System.err.println("flotilla: node " + config.nodeName() + " serving " + (node.tls() ? "https" : "http") + "://"
        + config.http().host() + ":" + node.httpPort() + (node.adminPort() < 0 ? ""
        : " (admin API, metrics and health on port " + node.adminPort() + ")")
        + " with data in " + config.storage().dataDir().toAbsolutePath());
    node.onLeft(() -> System.exit(0)); // POST /api/v1/cluster/leave
    NodeLogManager.holdUntilStopped(); // what the graceful stop logs is written, not dropped
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.err.println("flotilla: shutting down gracefully");
      try {
        node.stop().toCompletionStage().toCompletableFuture().get(config.http().shutdownTimeout().toSeconds()
            + config.cluster().handoffTimeout().toSeconds() + 30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.err.println("flotilla: shutdown did not complete cleanly: " + e);
      } finally {
        NodeLogManager.release();
      }
    }, "flotilla-shutdown"));
  }

  /**
   * {@code java -jar flotilla.jar htpasswd USER}: reads a password from standard input (first line)
   * and prints an htpasswd line with its bcrypt hash (cost 10), as {@code htpasswd -nB} does.
   */
  private static void htpasswd(String user) {
    try {
      String password = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
          java.nio.charset.StandardCharsets.UTF_8)).readLine();
      if (password == null || password.isEmpty()) {
        System.err.println("usage: echo PASSWORD | java -jar flotilla.jar htpasswd USER");
        System.exit(2);
      }
      String hash = org.springframework.security.crypto.bcrypt.BCrypt.hashpw(password,
          org.springframework.security.crypto.bcrypt.BCrypt.gensalt(10)).replace("$2a$", "$2y$");
      System.out.println(user + ":" + hash);
    } catch (java.io.IOException e) {
      System.err.println("cannot read the password: " + e.getMessage());
      System.exit(1);
    }
  }
}
