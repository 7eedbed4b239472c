package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a task's JSON snapshot as text: a header, one row per progress report (grouped by action,
 * in the order the server lists them) and a summary once the task is over. Pure apart from the
 * transfer rates, which it derives from the change of {@code bytesDone} between the snapshots it is
 * given and the times given with them (smoothed exponentially). Knows nothing of terminals; one
 * instance per watched task, used from one thread.
 */
public final class ProgressView {
  /** How many bar cells a report gets. */
  public static final int BAR = 20;
  /** The weight of the newest measurement in the smoothed rate. */
  static final double SMOOTHING = 0.4;
  /** Measurements closer together than this are not used for a rate (too noisy). */
  static final long MIN_WINDOW_NANOS = 200_000_000L;

  private static final String RESET = "\033[0m";

  /**
   * One rendered progress report: its key (action and stage), what a plain log compares to decide
   * whether to print it again (state, done and total) and the text to show.
   */
  public record Row(String key, String signature, String text) {}

  private record Sample(long bytes, long nanos, double perSecond) {}

  private final boolean color;
  private final int width;
  private final Map<String, Sample> samples = new HashMap<>();

  /** A view for lines at most {@code width} columns wide, in colour or not. */
  public ProgressView(boolean color, int width) {
    this.color = color;
    this.width = Math.max(40, width);
  }

  /** {@code task <id>  <name> <repository>  <state>}. */
  public String header(JsonNode task) {
    String state = task.path("state").asText("?");
    String what = (task.path("name").asText("") + " " + task.path("repository").asText("")).trim();
    return "task " + task.path("id").asText("?") + (what.isEmpty() ? "" : "  " + what) + "  " + paint(state, state);
  }

  /** One row per progress report, grouped by action; {@code nanos} is the time of this snapshot. */
  public List<Row> rows(JsonNode task, long nanos) {
    Map<String, List<JsonNode>> byAction = new LinkedHashMap<>();
    for (JsonNode r : task.path("progressReports")) {
      byAction.computeIfAbsent(r.path("action").asText(""), a -> new ArrayList<>()).add(r);
    }
    List<Row> rows = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (List<JsonNode> reports : byAction.values()) {
      for (JsonNode r : reports) {
        String key = r.path("action").asText("") + "/" + r.path("stage").asText("");
        int n = seen.merge(key, 1, Integer::sum);
        rows.add(row(n == 1 ? key : key + "#" + n, r, nanos));
      }
    }
    return rows;
  }

  /**
   * The lines after the task ended: {@code task <id> <state> in <time>}, then the resources it
   * created. The error, if any, is {@link #error}.
   */
  public List<String> summary(JsonNode task) {
    List<String> lines = new ArrayList<>();
    String state = task.path("state").asText("?");
    String took = took(task.path("started").asText(null), task.path("finished").asText(null));
    lines.add("task " + task.path("id").asText("?") + " " + paint(state, state) + (took == null ? "" : " in " + took));
    JsonNode created = task.path("createdResources");
    if (created.isArray() && !created.isEmpty()) {
      lines.add("created:");
      created.forEach(c -> lines.add("  " + c.asText()));
    }
    return lines;
  }

  /** The task's error as a message (the field may be a string or an error object), or null. */
  public static String error(JsonNode task) {
    JsonNode e = task.path("error");
    if (e.isMissingNode() || e.isNull()) {
      return null;
    }
    if (e.isObject()) {
      String m = e.path("message").asText("");
      return m.isEmpty() ? e.path("code").asText(e.toString()) : m;
    }
    String s = e.asText("");
    return s.isEmpty() ? null : s;
  }

  private Row row(String key, JsonNode r, long nanos) {
    String state = r.path("state").asText("waiting");
    long done = r.path("done").asLong(0);
    long total = r.path("total").asLong(0);
    long bytesDone = r.path("bytesDone").asLong(0);
    long bytesTotal = r.path("bytesTotal").asLong(0);
    double rate = rate(key, bytesDone, nanos);

    String count = total == 0 && done == 0 ? "-" : done + "/" + total;
    String bytes = bytesTotal == 0 && bytesDone == 0 ? "" : bytes(bytesDone) + "/" + bytes(bytesTotal);
    String last = state.equals("running") ? (Double.isNaN(rate) || bytesTotal == 0 ? "" : rate(rate)) : state;
    String prefix = String.format("%-10s %-15s ", r.path("action").asText(""), r.path("stage").asText(""));
    String middle = String.format(" %7s  %-21s  ", count, bytes);
    String text = fit(state, List.of(prefix, bar(done, total, state, BAR), middle, String.format("%-10s", last),
        "  " + r.path("message").asText("")), !state.equals("running"));
    return new Row(key, state + " " + done + "/" + total, text);
  }

  /**
   * The cells of a row joined and cut to the width: the bar (cell 1) is painted by state, and the
   * state word (cell 3) too when {@code paintLast}.
   */
  private String fit(String state, List<String> cells, boolean paintLast) {
    StringBuilder b = new StringBuilder();
    int room = width - 1;
    for (int i = 0; i < cells.size() && room > 0; i++) {
      String c = cells.get(i);
      if (c.length() > room) {
        c = c.substring(0, room);
      }
      room -= c.length();
      if (i == cells.size() - 1 || room == 0) {
        c = c.stripTrailing();
      }
      if (i == 1 || i == 3 && paintLast) {
        String word = c.stripTrailing();
        b.append(paint(state, word)).append(" ".repeat(c.length() - word.length()));
      } else {
        b.append(c);
      }
    }
    return b.toString().stripTrailing();
  }

  /** The bytes-per-second rate of one report, smoothed, or NaN while it cannot be told yet. */
  private double rate(String key, long bytes, long nanos) {
    Sample prev = samples.get(key);
    if (prev == null) {
      samples.put(key, new Sample(bytes, nanos, Double.NaN));
      return Double.NaN;
    }
    long dt = nanos - prev.nanos();
    if (dt < MIN_WINDOW_NANOS) {
      return prev.perSecond();
    }
    double now = Math.max(0, bytes - prev.bytes()) * 1e9 / dt;
    double smoothed = Double.isNaN(prev.perSecond()) ? now : SMOOTHING * now + (1 - SMOOTHING) * prev.perSecond();
    samples.put(key, new Sample(bytes, nanos, smoothed));
    return smoothed;
  }

  /** {@code [#####-----]}: {@code done} of {@code total} filled; a finished report with no total is full. */
  public static String bar(long done, long total, String state, int cells) {
    int filled;
    if (total > 0) {
      filled = (int) Math.min(cells, Math.max(0, done * cells / total));
    } else {
      filled = state.equals("completed") ? cells : 0;
    }
    return "[" + "#".repeat(filled) + "-".repeat(cells - filled) + "]";
  }

  /** Bytes in binary units with one decimal: {@code 512 B}, {@code 84.1 MiB}. */
  public static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  /** A rate as {@code 41.2 MiB/s}. */
  public static String rate(double perSecond) {
    return bytes(Math.round(perSecond)) + "/s";
  }

  private static String took(String started, String finished) {
    if (started == null || finished == null) {
      return null;
    }
    try {
      Duration d = Duration.between(OffsetDateTime.parse(started), OffsetDateTime.parse(finished));
      if (d.isNegative()) {
        return null;
      }
      long ms = d.toMillis();
      return ms < 60_000 ? String.format(Locale.ROOT, "%.1fs", ms / 1000.0)
          : Durations.format(d.toSeconds());
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private String paint(String state, String text) {
    if (!color) {
      return text;
    }
    String code = switch (state) {
      case "completed" -> "\033[32m";
      case "failed" -> "\033[31m";
      case "canceled", "skipped" -> "\033[33m";
      case "running" -> "\033[36m";
      default -> "\033[2m";
    };
    return code + text + RESET;
  }
}
