package io.flotilla.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the client takes from its surroundings, so that tests can give their own: environment
 * variables, stdin, stdout and stderr, whether stdout is a terminal, its width, and how often
 * {@code --wait} polls.
 */
public record CliEnv(Map<String, String> vars, InputStream in, PrintWriter out, PrintWriter err, boolean tty,
    int width, Duration pollInterval) {
  /** The default poll interval of {@code --wait}. */
  public static final Duration POLL = Duration.ofMillis(300);

  /** The process's own: {@code System.getenv()}, the standard streams, {@code System.console()}. */
  public static CliEnv system() {
    boolean tty = System.console() != null && !"dumb".equals(System.getenv("TERM"));
    Charset cs = Charset.defaultCharset();
    return new CliEnv(System.getenv(), System.in, new PrintWriter(System.out, true, cs),
        new PrintWriter(System.err, true, cs), tty, tty ? columns() : 120, POLL);
  }

  /** A variable, or null when unset or empty. */
  public String var(String name) {
    String v = vars.get(name);
    return v == null || v.isEmpty() ? null : v;
  }

  /** All of stdin as text, without the line break that ends it. */
  public String readStdin() throws IOException {
    String s = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    return s.replaceFirst("\\r?\\n\\z", "");
  }

  /** The terminal's width: $COLUMNS, else what {@code stty size} says, else 120. */
  private static int columns() {
    try {
      String c = System.getenv("COLUMNS");
      if (c != null && !c.isBlank()) {
        return Integer.parseInt(c.trim());
      }
      Process p = new ProcessBuilder("stty", "size").redirectInput(ProcessBuilder.Redirect.INHERIT)
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      if (p.waitFor(1, TimeUnit.SECONDS) && p.exitValue() == 0) {
        int columns = Integer.parseInt(out.split("\\s+")[1]);
        return columns > 0 ? columns : 120;
      }
    } catch (IOException | RuntimeException e) {
      // no stty: the default below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 120;
  }
}
