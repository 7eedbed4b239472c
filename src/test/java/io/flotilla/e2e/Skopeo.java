package io.flotilla.e2e;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs the real {@code skopeo} binary. Tests that need it call {@link #require()}: when skopeo is
 * missing the test is skipped, unless {@code CI=true}, where a missing skopeo is a failure (CI
 * must not silently lose the end-to-end coverage). The binary is taken from {@code SKOPEO} if set,
 * else from the {@code PATH}.
 */
public final class Skopeo {
  /** The outcome of one skopeo run: exit code, stdout and stderr. */
  public record Result(int exitCode, String stdout, String stderr, List<String> command) {
    /** stdout and stderr together, for failure messages. */
    public String output() {
      return stdout + (stderr.isEmpty() ? "" : "\n[stderr]\n" + stderr);
    }

    public boolean ok() {
      return exitCode == 0;
    }

    /** Fails the test (with the command and skopeo's output) unless skopeo exited 0. */
    public Result assertOk() {
      if (exitCode != 0) {
        fail("skopeo exited " + exitCode + ": " + String.join(" ", command) + "\n" + output());
      }
      return this;
    }
  }

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private Skopeo() {}

  /** The skopeo executable, if one can be found. */
  public static Optional<Path> binary() {
    String env = System.getenv("SKOPEO");
    if (env != null && !env.isBlank()) {
      Path p = Path.of(env);
      return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Path.of(dir, "skopeo");
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  public static boolean available() {
    return binary().isPresent();
  }

  /** Skips the calling test when skopeo is missing, or fails it when the environment says CI=true. */
  public static void require() {
    if (available()) {
      return;
    }
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail("skopeo is required when CI=true but was not found (set SKOPEO or put it on the PATH)");
    }
    Assumptions.abort("skopeo not installed; skipping (set CI=true to make this a failure)");
  }

  /** Runs {@code skopeo --insecure-policy <args>} with the default timeout. */
  public static Result run(String... args) {
    return run(DEFAULT_TIMEOUT, args);
  }

  /** Runs skopeo and asserts it exited 0. */
  public static Result runOk(String... args) {
    return run(args).assertOk();
  }

  /**
   * Runs {@code skopeo --insecure-policy <args>}; the process is killed and the test failed if it
   * does not finish within {@code timeout}. The policy flag keeps the run independent of the
   * machine's {@code /etc/containers/policy.json}.
   */
  public static Result run(Duration timeout, String... args) {
    require();
    List<String> cmd = new ArrayList<>();
    cmd.add(binary().orElseThrow().toString());
    cmd.add("--insecure-policy");
    cmd.addAll(List.of(args));
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("skopeo", ".out");
      err = Files.createTempFile("skopeo", ".err");
      Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        fail("skopeo did not finish within " + timeout + ": " + String.join(" ", cmd) + "\n"
            + Files.readString(out, StandardCharsets.UTF_8) + Files.readString(err, StandardCharsets.UTF_8));
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8), cmd);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      delete(out);
      delete(err);
    }
  }

  private static void delete(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // temp file cleanup only
      }
    }
  }
}
