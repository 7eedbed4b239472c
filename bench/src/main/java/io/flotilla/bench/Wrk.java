package io.flotilla.bench;

import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Figure 4's load through wrk (Debian's {@code wrk}): a closed loop of N connections from a light C
 * process, so the load generator takes little of the CPU the server under test needs (the built-in
 * Vert.x loop in this JVM took about half of a 2-core machine). Runs a warm-up, then the measured
 * run with {@code --latency}, and parses its summary.
 */
final class Wrk {
  private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
  private static final Pattern TOTAL = Pattern.compile("(\\d+) requests in ([0-9.]+)(us|ms|s|m)");
  private static final Pattern PCT = Pattern.compile("^\\s+(50|75|90|99)%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);
  private static final Pattern MAX = Pattern.compile("Latency\\s+\\S+\\s+\\S+\\s+([0-9.]+)(us|ms|s)");
  private static final Pattern BAD = Pattern.compile("Non-2xx or 3xx responses:\\s+(\\d+)|Socket errors:.*");

  private Wrk() {}

  /** Whether figure 4 runs on wrk: always for "wrk", never for "builtin", and for "auto" when it is on PATH. */
  static boolean use(String mode) {
    return switch (mode) {
      case "wrk" -> true;
      case "builtin" -> false;
      default -> onPath();
    };
  }

  private static boolean onPath() {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (new File(dir, "wrk").canExecute()) {
        return true;
      }
    }
    return false;
  }

  /** Warms up for {@code warmupS}, then measures for {@code durationS}; fails on any non-200 answer or socket error. */
  static JsonObject measure(String url, String accept, String authorization, int connections, int threads,
      int warmupS, int durationS, int expectedBytes) throws IOException, InterruptedException {
    if (warmupS > 0) {
      run(url, accept, authorization, connections, threads, warmupS, false);
    }
    String out = run(url, accept, authorization, connections, threads, durationS, true);
    Matcher bad = BAD.matcher(out);
    if (bad.find()) {
      throw new Driver.BenchException("wrk saw failed requests (" + bad.group().trim() + "):\n" + out);
    }
    Matcher rps = RPS.matcher(out);
    Matcher total = TOTAL.matcher(out);
    if (!rps.find() || !total.find()) {
      throw new Driver.BenchException("could not read wrk's summary:\n" + out);
    }
    JsonObject fig = new JsonObject()
        .put("rps", Math.round(Double.parseDouble(rps.group(1)) * 10) / 10.0)
        .put("requests", Long.parseLong(total.group(1)))
        .put("seconds", (double) durationS);
    Matcher p = PCT.matcher(out);
    while (p.find()) {
      fig.put("p" + p.group(1) + "_ms", ms(p.group(2), p.group(3)));
    }
    Matcher max = MAX.matcher(out);
    if (max.find()) {
      fig.put("max_ms", ms(max.group(1), max.group(2)));
    }
    if (!fig.containsKey("p50_ms") || !fig.containsKey("p99_ms")) {
      throw new Driver.BenchException("wrk printed no latency distribution:\n" + out);
    }
    // wrk reports bytes, not bodies; a 200 of the wrong manifest was ruled out before the load began
    fig.put("expected_bytes", expectedBytes);
    return fig;
  }

  private static double ms(String value, String unit) {
    double v = Double.parseDouble(value);
    double ms = switch (unit) {
      case "us" -> v / 1000;
      case "s" -> v * 1000;
      default -> v;
    };
    return Math.round(ms * 1000) / 1000.0;
  }

  private static String run(String url, String accept, String authorization, int connections, int threads,
      int seconds, boolean latency) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("wrk", "-t" + Math.min(threads, connections), "-c" + connections,
        "-d" + seconds + "s", "--timeout", "10s", "-H", "Accept: " + accept));
    if (authorization != null && !authorization.isEmpty()) {
      cmd.add("-H");
      cmd.add("Authorization: " + authorization);
    }
    if (latency) {
      cmd.add("--latency");
    }
    cmd.add(url);
    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = proc.getInputStream().readAllBytes();
    int rc = proc.waitFor();
    String text = new String(out, StandardCharsets.UTF_8);
    if (rc != 0) {
      throw new Driver.BenchException(String.format(Locale.ROOT, "wrk exited with %d:%n%s", rc, text));
    }
    return text;
  }
}
