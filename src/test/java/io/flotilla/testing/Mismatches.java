package io.flotilla.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every mismatch a consistency check found, not just the first: kind, repository, tag (or digest),
 * node, what was expected and what was seen. {@link #report} groups them by kind with counts.
 * Thread-safe.
 */
public final class Mismatches {
  /** One mismatch; empty strings where a field does not apply. */
  public record Mismatch(String kind, String repository, String tag, String node, String expected, String actual) {
    @Override
    public String toString() {
      return kind + ": " + repository + (tag.isEmpty() ? "" : " " + tag) + (node.isEmpty() ? "" : " via " + node)
          + " expected " + expected + " actual " + actual;
    }
  }

  private final ConcurrentLinkedQueue<Mismatch> all = new ConcurrentLinkedQueue<>();

  public void add(String kind, String repository, String tag, String node, String expected, String actual) {
    all.add(new Mismatch(kind, repository, tag == null ? "" : tag, node == null ? "" : node,
        String.valueOf(expected), String.valueOf(actual)));
  }

  public boolean isEmpty() {
    return all.isEmpty();
  }

  public int size() {
    return all.size();
  }

  /** Sorted by kind, repository, tag, node. */
  public List<Mismatch> sorted() {
    List<Mismatch> out = new ArrayList<>(all);
    out.sort(Comparator.comparing(Mismatch::kind).thenComparing(Mismatch::repository).thenComparing(Mismatch::tag)
        .thenComparing(Mismatch::node));
    return out;
  }

  public Map<String, Integer> countsByKind() {
    Map<String, Integer> counts = new TreeMap<>();
    all.forEach(m -> counts.merge(m.kind(), 1, Integer::sum));
    return counts;
  }

  /** Counts by kind, then up to {@code perKind} lines of each kind (all of them with Integer.MAX_VALUE). */
  public String report(int perKind) {
    StringBuilder b = new StringBuilder();
    b.append(all.size()).append(" mismatches: ").append(countsByKind()).append('\n');
    Map<String, Integer> shown = new TreeMap<>();
    for (Mismatch m : sorted()) {
      int n = shown.merge(m.kind(), 1, Integer::sum);
      if (n <= perKind) {
        b.append("  ").append(m).append('\n');
      } else if (n == perKind + 1) {
        b.append("  ... more ").append(m.kind()).append(" mismatches in the full report\n");
      }
    }
    return b.toString();
  }

  /** Writes the full report (every line) to {@code file}. */
  public void write(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, report(Integer.MAX_VALUE));
  }
}
