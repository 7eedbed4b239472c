package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Where commands write: stdout for results (the server's JSON, pretty, with {@code --output json};
 * fields and tables otherwise) and stderr for {@code error: ...} lines. Also knows whether stdout is
 * a terminal and whether colours are wanted. Used from the command's thread only.
 */
public final class Output {
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean json;
  private final boolean tty;
  private final boolean color;
  private final int width;
  private final ObjectMapper mapper;

  public Output(PrintWriter out, PrintWriter err, boolean json, boolean tty, boolean color, int width,
      ObjectMapper mapper) {
    this.out = out;
    this.err = err;
    this.json = json;
    this.tty = tty;
    this.color = color;
    this.width = width;
    this.mapper = mapper;
  }

  /** Whether {@code --output json} was asked for. */
  public boolean json() {
    return json;
  }

  /** Whether stdout is a terminal (live redrawing allowed). */
  public boolean tty() {
    return tty;
  }

  /** Whether ANSI colours may be written. */
  public boolean color() {
    return color;
  }

  /** The terminal's width in columns. */
  public int width() {
    return width;
  }

  /** The raw stdout, for live progress. */
  public PrintWriter out() {
    return out;
  }

  /** One line on stdout. */
  public void line(String s) {
    out.println(s);
    out.flush();
  }

  /** {@code error: <message>} on stderr. */
  public void error(String message) {
    err.println("error: " + message);
    err.flush();
  }

  /** A JSON document on stdout, pretty-printed. */
  public void document(JsonNode node) {
    try {
      out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(node));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The document with {@code --output json}, else each field as {@code name: value}. */
  public void show(JsonNode node) {
    if (json) {
      document(node);
    } else {
      fields(node, "");
    }
  }

  /** Each field of an object as {@code name: value}, nested objects indented below their name. */
  public void fields(JsonNode node, String indent) {
    int pad = 0;
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      pad = Math.max(pad, it.next().length());
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      JsonNode v = f.getValue();
      if (v.isObject() && !v.isEmpty()) {
        line(indent + f.getKey() + ":");
        fields(v, indent + "  ");
      } else {
        line(indent + String.format("%-" + (pad + 1) + "s %s", f.getKey() + ":", text(v)).stripTrailing());
      }
    }
  }

  /** A value as a table cell: strings bare, null as "-", arrays joined by ", ". */
  public static String text(JsonNode v) {
    if (v == null || v.isNull() || v.isMissingNode()) {
      return "-";
    }
    if (v.isArray()) {
      List<String> parts = new ArrayList<>();
      v.forEach(e -> parts.add(text(e)));
      return parts.isEmpty() ? "-" : String.join(", ", parts);
    }
    if (v.isValueNode()) {
      return v.asText();
    }
    return v.toString();
  }

  /** A table: a header row, then rows; columns padded to their widest cell. */
  public void table(List<String> header, List<List<String>> rows) {
    int[] widths = new int[header.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(header);
    all.addAll(rows);
    for (List<String> r : all) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], r.get(i).length());
      }
    }
    for (List<String> r : all) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < widths.length; i++) {
        b.append(String.format("%-" + widths[i] + "s", r.get(i)));
        if (i < widths.length - 1) {
          b.append("  ");
        }
      }
      line(b.toString().stripTrailing());
    }
  }
}
