package io.flotilla.scan;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeSet;

/**
 * One OSV record as the importer keeps it: ids, text, the record's own severity and the affected
 * entries of supported ecosystems with a usable release. Built from a Jackson tree by {@link #parse};
 * an immutable value.
 *
 * @param id the OSV id
 * @param modified the {@code modified} timestamp as written (RFC 3339 strings sort by time), or ""
 * @param displayId the id users see: see {@link #displayId(String, List, List)}
 * @param otherIds every other id of the record (its own id, aliases, upstream CVE), sorted, without displayId
 * @param severity the record-level severity, {@link Severity#UNKNOWN} if none
 * @param affected the usable affected entries (may be empty: the record is then unsupported)
 */
record OsvRecord(String id, String modified, String displayId, List<String> otherIds, String summary,
    String details, Severity severity, String reference, List<Affected> affected) {

  /** A usable affected entry: the index key parts, the ranges and the per-package severity (null if none). */
  record Affected(Ecosystem ecosystem, String release, String name, OsvAffected versions, Severity severity) {}

  /** Thrown for a record whose structure is not OSV's (missing id, wrong types). */
  static final class Malformed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  /** Reads one record; throws {@link Malformed} when it is not an OSV record. */
  static OsvRecord parse(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new Malformed("not a JSON object");
    }
    String id = text(root, "id");
    if (id.isBlank()) {
      throw new Malformed("no id");
    }
    List<String> aliases = strings(root.get("aliases"));
    List<String> upstream = strings(root.get("upstream"));
    String display = displayId(id, aliases, upstream);
    TreeSet<String> others = new TreeSet<>(aliases);
    others.add(id);
    others.remove(display);
    Severity severity = recordSeverity(root);
    List<Affected> usable = new ArrayList<>();
    JsonNode affected = root.get("affected");
    if (affected != null && !affected.isNull()) {
      if (!affected.isArray()) {
        throw new Malformed("affected is not an array");
      }
      for (JsonNode a : affected) {
        affected(a).ifPresent(usable::add);
      }
    }
    return new OsvRecord(id, text(root, "modified"), display, List.copyOf(others), text(root, "summary"),
        text(root, "details"), severity, reference(display, root), List.copyOf(usable));
  }

  /** Whether the record is withdrawn (OSV {@code withdrawn} set): such records never match. */
  static boolean withdrawn(JsonNode root) {
    JsonNode w = root == null ? null : root.get("withdrawn");
    return w != null && !w.isNull() && !w.asText().isEmpty();
  }

  /**
   * The first {@code CVE-} alias in sorted order; else the record id itself; except that a record with
   * no CVE alias whose id ends with its single upstream CVE id ({@code UBUNTU-CVE-2024-1234} with
   * {@code upstream: [CVE-2024-1234]}, as osv.dev writes Ubuntu, Debian and Alpine records) shows that CVE.
   */
  static String displayId(String id, List<String> aliases, List<String> upstream) {
    Optional<String> cve = aliases.stream().filter(a -> a.startsWith("CVE-")).sorted().findFirst();
    if (cve.isPresent()) {
      return cve.get();
    }
    List<String> up = upstream.stream().filter(a -> a.startsWith("CVE-")).toList();
    if (up.size() == 1 && id.endsWith("-" + up.get(0))) {
      return up.get(0);
    }
    return id;
  }

  /** zot's one link: cve.org for CVE ids, GitHub for GHSA ids, else the first reference URL, else "". */
  static String reference(String displayId, JsonNode root) {
    if (displayId.startsWith("CVE-")) {
      return "https://www.cve.org/CVERecord?id=" + displayId;
    }
    if (displayId.startsWith("GHSA-")) {
      return "https://github.com/advisories/" + displayId;
    }
    JsonNode refs = root.get("references");
    if (refs != null && refs.isArray()) {
      for (JsonNode r : refs) {
        String url = text(r, "url");
        if (!url.isEmpty()) {
          return url;
        }
      }
    }
    return "";
  }

  /**
   * The record's severity: {@code database_specific.severity} (GHSA's LOW, MODERATE, HIGH, CRITICAL),
   * else an {@code Ubuntu} priority in {@code severity[]}, else the highest CVSS v3.x base score in
   * {@code severity[]}, else {@link Severity#UNKNOWN}. A value that names no severity counts as absent.
   */
  static Severity recordSeverity(JsonNode root) {
    Severity s = vendor(text(root.path("database_specific"), "severity"));
    if (s != Severity.UNKNOWN) {
      return s;
    }
    JsonNode list = root.get("severity");
    if (list == null || !list.isArray()) {
      return Severity.UNKNOWN;
    }
    for (JsonNode e : list) {
      if ("Ubuntu".equals(text(e, "type"))) {
        s = vendor(text(e, "score"));
        if (s != Severity.UNKNOWN) {
          return s;
        }
      }
    }
    double best = -1;
    for (JsonNode e : list) {
      if ("CVSS_V3".equals(text(e, "type"))) {
        OptionalDouble score = Cvss3.baseScore(text(e, "score"));
        if (score.isPresent() && score.getAsDouble() > best) {
          best = score.getAsDouble();
        }
      }
    }
    return best < 0 ? Severity.UNKNOWN : Severity.ofScore(best);
  }

  /**
   * A vendor's severity word: {@link Severity#parse} plus Debian's {@code unimportant} as LOW (as
   * Trivy maps Debian urgency); {@code not yet assigned}, {@code untriaged}, {@code end-of-life} and
   * anything unknown are {@link Severity#UNKNOWN}, i.e. absent.
   */
  static Severity vendor(String word) {
    String w = word == null ? "" : word.trim().toLowerCase(Locale.ROOT);
    return w.equals("unimportant") ? Severity.LOW : Severity.parse(w);
  }

  private static Optional<Affected> affected(JsonNode a) {
    if (!a.isObject()) {
      throw new Malformed("affected entry is not an object");
    }
    JsonNode pkg = a.path("package");
    String osvEcosystem = text(pkg, "ecosystem");
    String name = text(pkg, "name");
    Optional<Ecosystem> eco = Ecosystem.ofOsv(osvEcosystem);
    if (eco.isEmpty() || name.isEmpty()) {
      return Optional.empty();
    }
    String release = VulnDb.osvReleaseKey(eco.get(), Ecosystem.osvRelease(osvEcosystem));
    if (release == null) {
      return Optional.empty();
    }
    List<OsvRange> ranges = new ArrayList<>();
    for (JsonNode r : array(a, "ranges")) {
      OsvRange range = range(r);
      if (range != null) {
        ranges.add(range);
      }
    }
    List<String> versions = strings(a.get("versions"));
    Severity s = vendor(text(a.path("ecosystem_specific"), "severity"));
    if (s == Severity.UNKNOWN) {
      s = vendor(text(a.path("ecosystem_specific"), "urgency"));
    }
    if (s == Severity.UNKNOWN) {
      s = vendor(text(a.path("database_specific"), "severity"));
    }
    return Optional.of(new Affected(eco.get(), release, VulnDb.packageKey(eco.get(), name),
        new OsvAffected(ranges, versions), s == Severity.UNKNOWN ? null : s));
  }

  /** A range, or null for a type this schema version does not define (skipped, not malformed). */
  private static OsvRange range(JsonNode r) {
    OsvRange.Type type;
    try {
      type = OsvRange.Type.valueOf(text(r, "type"));
    } catch (IllegalArgumentException unknown) {
      return null;
    }
    List<OsvRange.Event> events = new ArrayList<>();
    for (JsonNode e : array(r, "events")) {
      if (!e.isObject() || e.size() != 1) {
        throw new Malformed("an event must have exactly one field");
      }
      String field = e.fieldNames().next();
      JsonNode v = e.get(field);
      if (!v.isTextual()) {
        throw new Malformed("event version is not a string");
      }
      OsvRange.Kind kind = switch (field) {
        case "introduced" -> OsvRange.Kind.INTRODUCED;
        case "fixed" -> OsvRange.Kind.FIXED;
        case "last_affected" -> OsvRange.Kind.LAST_AFFECTED;
        case "limit" -> OsvRange.Kind.LIMIT;
        default -> throw new Malformed("unknown event " + field);
      };
      events.add(new OsvRange.Event(kind, v.asText()));
    }
    return new OsvRange(type, events);
  }

  private static Iterable<JsonNode> array(JsonNode parent, String field) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw new Malformed(field + " is not an array");
    }
    return n;
  }

  private static List<String> strings(JsonNode n) {
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw new Malformed("expected an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode e : n) {
      if (!e.isTextual()) {
        throw new Malformed("expected a string");
      }
      out.add(e.asText());
    }
    return out;
  }

  private static String text(JsonNode parent, String field) {
    JsonNode n = parent == null ? null : parent.get(field);
    return n != null && n.isTextual() ? n.asText() : "";
  }
}
