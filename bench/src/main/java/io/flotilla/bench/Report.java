package io.flotilla.bench;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Renders driver JSON results (one per server) as a markdown table, the first result's column
 * compared with the second one's.
 *
 * <p>{@code report --result flotilla=f.json --result distribution=d.json [--rss-kb flotilla=123]
 * [--meta "key=value"] [--out FILE.md]}. Exits 3 if the two catalogs saw a different number of
 * repositories (the table is still written).
 */
final class Report {

  private Report() {}

  private record Row(String label, String better, Function<JsonObject, Double> value, String fmt) {}

  static void main(String[] args) throws Exception {
    Map<String, JsonObject> results = new LinkedHashMap<>();
    Map<String, Long> rssKb = new LinkedHashMap<>();
    List<String> meta = new ArrayList<>();
    Path out = null;
    for (int i = 0; i + 1 < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--result" -> {
          String[] kv = split(v);
          results.put(kv[0], new JsonObject(Files.readString(Path.of(kv[1]))));
        }
        case "--rss-kb" -> {
          String[] kv = split(v);
          if (!kv[1].isBlank()) rssKb.put(kv[0], Long.parseLong(kv[1].trim()));
        }
        case "--meta" -> meta.add(v);
        case "--out" -> out = Path.of(v);
        default -> throw new IllegalArgumentException("unknown report option " + args[i]);
      }
    }
    if (results.isEmpty()) throw new IllegalArgumentException("report needs --result NAME=FILE");
    List<String> names = new ArrayList<>(results.keySet());
    JsonObject params = results.get(names.get(0)).getJsonObject("params");
    int blobMb = params.getInteger("blob_mb");
    int reps = params.getInteger("reps");
    String blob = blobMb + " MiB blob";

    List<Row> rows = List.of(
        new Row("1. Monolithic blob push, " + blob + " (MiB/s, median of " + reps + ")", "higher",
            r -> num(r, "mono_push", "median"), "%.1f"),
        new Row("2. Chunked blob push, " + blob + ", " + params.getInteger("chunk_mb")
            + " MiB PATCHes (MiB/s, median of " + reps + ")", "higher",
            r -> num(r, "chunked_push", "median"), "%.1f"),
        new Row("3. Blob pull, " + blob + " (MiB/s, median of " + params.getInteger("pull_reps")
            + ")", "higher", r -> num(r, "pull", "median"), "%.1f"),
        new Row("4. Manifest GET, " + params.getInteger("connections") + " connections, "
            + params.getInteger("duration_s") + " s (requests/s)", "higher",
            r -> num(r, "manifest_get", "rps"), "%.0f"),
        new Row("4. Manifest GET latency p50 (ms)", "lower",
            r -> num(r, "manifest_get", "p50_ms"), "%.3f"),
        new Row("4. Manifest GET latency p99 (ms)", "lower",
            r -> num(r, "manifest_get", "p99_ms"), "%.3f"),
        new Row("5. Small-image push, " + params.getInteger("images") + " images, "
            + params.getInteger("image_concurrency") + " in flight"
            + (params.getInteger("image_warmup", 0) > 0 ? ", after " + params.getInteger("image_warmup") + " unmeasured" : "")
            + " (images/s)", "higher",
            r -> num(r, "image_push", "images_per_s"), "%.1f"),
        new Row("6. Full catalog listing, n=" + params.getInteger("catalog_n")
            + " per page (ms, median of " + params.getInteger("catalog_runs") + ")", "lower",
            r -> num(r, "catalog", "median_ms"), "%.1f"),
        new Row("6. Repositories seen in catalog (must match)", "equal",
            r -> num(r, "catalog", "repositories"), "%.0f"),
        new Row("6. Catalog pages (largest page)", "info",
            r -> num(r, "catalog", "pages"), "%.0f"));

    StringBuilder md = new StringBuilder();
    md.append("# Flotilla benchmark\n\n");
    for (String m : meta) md.append("- ").append(m).append('\n');
    md.append("- MiB/s = 2^20 bytes per second of wall-clock time, client and server on the same "
        + "host over 127.0.0.1.\n\n");

    boolean cmp = names.size() >= 2;
    String a = names.get(0);
    String b = cmp ? names.get(1) : null;
    md.append("| Figure |");
    for (String n : names) md.append(' ').append(n).append(" |");
    if (cmp) md.append(' ').append(a).append(" / ").append(b).append(" | Better |");
    md.append('\n').append("|---|");
    for (int i = 0; i < names.size(); i++) md.append("---:|");
    if (cmp) md.append("---:|---|");
    md.append('\n');

    for (Row row : rows) {
      md.append("| ").append(row.label()).append(" |");
      List<Double> vals = new ArrayList<>();
      for (String n : names) {
        Double v = row.value().apply(results.get(n).getJsonObject("figures"));
        vals.add(v);
        String cell = v == null ? "n/a" : String.format(Locale.ROOT, row.fmt(), v);
        if (row.label().startsWith("6. Catalog pages") && v != null) {
          cell += " (" + num(results.get(n).getJsonObject("figures"), "catalog", "largest_page")
              .intValue() + ")";
        }
        md.append(' ').append(cell).append(" |");
      }
      if (cmp) {
        md.append(' ').append(ratio(vals.get(0), vals.get(1), row.better())).append(" | ")
            .append(betterText(row.better())).append(" |");
      }
      md.append('\n');
    }
    // Peak RSS row.
    md.append("| Peak RSS of the server process, VmHWM (MiB) |");
    List<Double> rss = new ArrayList<>();
    for (String n : names) {
      Long kb = rssKb.get(n);
      Double v = kb == null ? null : kb / 1024.0;
      rss.add(v);
      md.append(' ').append(v == null ? "n/a" : String.format(Locale.ROOT, "%.0f", v)).append(" |");
    }
    if (cmp) {
      md.append(' ').append(ratio(rss.get(0), rss.get(1), "lower")).append(" | ")
          .append(betterText("lower")).append(" |");
    }
    md.append('\n');

    md.append('\n');
    if (cmp) {
      md.append("Ratio = ").append(a).append(" / ").append(b).append(". For rows where higher "
          + "is better a ratio above 1 means ").append(a).append(" is better; for latency, time "
          + "and memory rows (lower is better) a ratio below 1 means ").append(a)
          .append(" is better.\n\n");
    }
    md.append("Details per server:\n\n");
    for (String n : names) {
      JsonObject f = results.get(n).getJsonObject("figures");
      md.append("- **").append(n).append("** (").append(results.get(n).getString("url"))
          .append(", driver ran ").append(results.get(n).getValue("total_seconds")).append(" s)");
      JsonObject mg = f.getJsonObject("manifest_get");
      if (mg != null) {
        md.append(String.format(Locale.ROOT, "; manifest GET (load: %s) p90 %s ms, p99.9 %s ms, max %s ms, "
                + "%d requests measured", mg.getString("load", "builtin"), mg.getValue("p90_ms"),
            mg.getValue("p999_ms", "n/a"), mg.getValue("max_ms", "n/a"), mg.getLong("requests")));
        if (mg.containsKey("connections_opened")) {
          md.append(", ").append(mg.getLong("connections_opened")).append(" connections opened");
        }
      }
      for (String k : List.of("mono_push", "chunked_push", "pull")) {
        JsonObject x = f.getJsonObject(k);
        if (x != null) md.append("; ").append(k).append(" samples ").append(x.getJsonArray("samples"));
      }
      JsonObject cat = f.getJsonObject("catalog");
      if (cat != null) md.append("; catalog samples (ms) ").append(cat.getJsonArray("samples_ms"));
      md.append('\n');
    }

    int rc = 0;
    if (cmp) {
      Double ra = num(results.get(a).getJsonObject("figures"), "catalog", "repositories");
      Double rb = num(results.get(b).getJsonObject("figures"), "catalog", "repositories");
      if (ra != null && rb != null && !ra.equals(rb)) {
        md.append("\n**WARNING: the catalogs differ: ").append(a).append(" listed ")
            .append(ra.intValue()).append(" repositories, ").append(b).append(" listed ")
            .append(rb.intValue()).append(".**\n");
        rc = 3;
      }
    }
    String text = md.toString();
    if (out != null) Files.writeString(out, text);
    System.out.print(text);
    if (rc != 0) System.exit(rc);
  }

  private static String[] split(String kv) {
    int i = kv.indexOf('=');
    if (i <= 0) throw new IllegalArgumentException("expected NAME=VALUE, got " + kv);
    return new String[] {kv.substring(0, i), kv.substring(i + 1)};
  }

  private static Double num(JsonObject figs, String fig, String key) {
    if (figs == null) return null;
    JsonObject f = figs.getJsonObject(fig);
    if (f == null || f.getValue(key) == null) return null;
    return f.getNumber(key).doubleValue();
  }

  private static String ratio(Double a, Double b, String better) {
    if (a == null || b == null) return "n/a";
    if (better.equals("equal")) return a.equals(b) ? "equal" : "**MISMATCH**";
    if (better.equals("info")) return "";
    if (b == 0) return "n/a";
    return String.format(Locale.ROOT, "%.2f", a / b);
  }

  private static String betterText(String better) {
    return switch (better) {
      case "higher" -> "higher is better";
      case "lower" -> "lower is better";
      default -> "";
    };
  }
}
