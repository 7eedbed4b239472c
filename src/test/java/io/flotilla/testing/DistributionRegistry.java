package io.flotilla.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * A CNCF distribution registry ({@code docker-registry}, Debian's package of distribution 2.8) run
 * as a child process on a free loopback port, storing in a folder of its own, optionally behind
 * htpasswd Basic auth. The binary is {@code DOCKER_REGISTRY} if set, else {@code docker-registry}
 * on the PATH. Tests call {@link #require()}: without the binary the test is skipped, unless
 * {@code CI=true}, where that is a failure (as for skopeo).
 */
public final class DistributionRegistry implements AutoCloseable {
  private final Process process;
  private final int port;
  private final Path log;

  private DistributionRegistry(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** The binary, if one can be found. */
  public static Optional<Path> binary() {
    String env = System.getenv("DOCKER_REGISTRY");
    if (env != null && !env.isBlank()) {
      Path p = Path.of(env);
      return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = System.getenv("PATH");
    for (String d : (path == null ? "" : path).split(File.pathSeparator)) {
      Path p = d.isEmpty() ? null : Path.of(d, "docker-registry");
      if (p != null && Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Skips the calling test when docker-registry is missing, or fails it when CI=true. */
  public static void require() {
    if (binary().isPresent()) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("docker-registry is required when CI=true but was not found (set DOCKER_REGISTRY or put it on the PATH)");
    }
    Assumptions.abort("docker-registry not installed; skipping (set CI=true to make this a failure)");
  }

  /**
   * Starts a registry storing under {@code dir} and waits (30 s at most) until it answers.
   *
   * @param users user names whose password is {@code <user>-pw}; none: no authentication
   */
  public static DistributionRegistry start(Path dir, String... users) throws IOException, InterruptedException {
    require();
    Files.createDirectories(dir);
    int port = TestNode.freePort();
    StringBuilder config = new StringBuilder("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
        + "storage:\n  filesystem:\n    rootdirectory: " + dir.resolve("storage") + "\n"
        + "http:\n  addr: 127.0.0.1:" + port + "\n  secret: " + UUID.randomUUID() + "\n");
    if (users.length > 0) {
      StringBuilder htpasswd = new StringBuilder();
      for (String u : users) {
        htpasswd.append(u).append(':').append(BCrypt.hashpw(u + "-pw", BCrypt.gensalt(4))).append('\n');
      }
      Path file = Files.writeString(dir.resolve("htpasswd"), htpasswd.toString());
      config.append("auth:\n  htpasswd:\n    realm: flotilla-test\n    path: ").append(file).append('\n');
    }
    Path configFile = Files.writeString(dir.resolve("config.yml"), config.toString());
    Path log = dir.resolve("registry.log");
    Process p = new ProcessBuilder(List.of(binary().orElseThrow().toString(), "serve", configFile.toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    DistributionRegistry r = new DistributionRegistry(p, port, log);
    try {
      OciClient client = new OciClient(r.url(), Duration.ofSeconds(5));
      Await.until("docker-registry answering on " + r.url(), Duration.ofSeconds(30), () -> {
        if (!p.isAlive()) {
          throw new IllegalStateException("docker-registry exited " + p.exitValue() + ": " + r.log());
        }
        int status = client.get("/v2/").statusCode();
        return status == 200 || status == 401;
      });
    } catch (Exception | AssertionError e) {
      r.close();
      throw new IllegalStateException("docker-registry did not start: " + r.log(), e);
    }
    return r;
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** What the registry wrote so far. */
  public String log() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
