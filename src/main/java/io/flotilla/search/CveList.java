package io.flotilla.search;

import io.flotilla.scan.Advisory;
import io.flotilla.scan.Finding;
import io.flotilla.scan.Severity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * zot's {@code CVE} objects of one image and what its CVE queries do with them, as pure functions:
 * building them from findings and advisories ({@link #of}), the {@code searchedCVE},
 * {@code excludedCVE} and {@code severity} filters, the three CVE sort orders, zot's CVE page
 * rules and the summaries. A CVE is a GraphQL-shaped map ({@code Id Title Description Reference
 * Severity PackageList}), so that it crosses the bus as it is rendered. Stateless; any thread.
 */
public final class CveList {
  /** zot's placeholder for an unknown fixed version or package path. */
  public static final String NOT_SPECIFIED = "Not Specified";
  /** Largest CVE page zot serves. */
  public static final int MAX_LIMIT = 4 * 1024;

  private CveList() {}

  /**
   * The CVEs of findings (possibly of several manifests of an index), one per id, in id order:
   * severity the worst of the id's findings, packages each once in finding order, text from the
   * advisory (empty when the database has none).
   */
  public static List<Map<String, Object>> of(List<Finding> findings, Function<String, Optional<Advisory>> advisories) {
    Map<String, List<Finding>> byId = new TreeMap<>();
    for (Finding f : findings) {
      byId.computeIfAbsent(f.id(), k -> new ArrayList<>()).add(f);
    }
    List<Map<String, Object>> out = new ArrayList<>(byId.size());
    byId.forEach((id, fs) -> {
      Severity worst = Severity.UNKNOWN;
      LinkedHashSet<Map<String, Object>> packages = new LinkedHashSet<>();
      for (Finding f : fs) {
        worst = f.severity().compareTo(worst) > 0 ? f.severity() : worst;
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("Name", f.packageName());
        p.put("PackagePath", f.packagePath().isEmpty() ? NOT_SPECIFIED : f.packagePath());
        p.put("InstalledVersion", f.installedVersion());
        p.put("FixedVersion", f.fixedVersion().isEmpty() ? NOT_SPECIFIED : f.fixedVersion());
        packages.add(p);
      }
      Optional<Advisory> a = advisories.apply(id);
      Map<String, Object> cve = new LinkedHashMap<>();
      cve.put("Id", id);
      cve.put("Title", a.map(Advisory::title).orElse(""));
      cve.put("Description", a.map(Advisory::description).orElse(""));
      cve.put("Reference", a.map(Advisory::reference).orElse(""));
      cve.put("Severity", worst.name());
      cve.put("PackageList", List.copyOf(packages));
      out.add(cve);
    });
    return out;
  }

  /**
   * zot's filters: {@code severity} (when not empty) must be the CVE's level, an unknown name
   * meaning UNKNOWN; {@code excludedCVE} (when not empty) must not occur, {@code searchedCVE} must
   * occur in a field zot searches (case-insensitive).
   */
  public static List<Map<String, Object>> filter(List<Map<String, Object>> cves, String searched, String excluded,
      String severity) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map<String, Object> cve : cves) {
      if (!severity.isEmpty() && level(severity) != level((String) cve.get("Severity"))) {
        continue;
      }
      if (!excluded.isEmpty() && contains(cve, excluded)) {
        continue;
      }
      if (contains(cve, searched)) {
        out.add(cve);
      }
    }
    return out;
  }

  /** Whether {@code text} occurs, ignoring case, in Id, Title, Severity, Reference, Description or a package's fields. */
  @SuppressWarnings("unchecked")
  static boolean contains(Map<String, Object> cve, String text) {
    String t = text.toUpperCase(Locale.ROOT);
    for (String field : List.of("Title", "Id", "Severity", "Reference", "Description")) {
      if (upper(cve.get(field)).contains(t)) {
        return true;
      }
    }
    for (Map<String, Object> p : (List<Map<String, Object>>) cve.get("PackageList")) {
      for (String field : List.of("Name", "FixedVersion", "InstalledVersion", "PackagePath")) {
        if (upper(p.get(field)).contains(t)) {
          return true;
        }
      }
    }
    return false;
  }

  private static String upper(Object o) {
    return o == null ? "" : o.toString().toUpperCase(Locale.ROOT);
  }

  /** zot's severity levels: not scanned, NONE, then UNKNOWN to CRITICAL; any other name is UNKNOWN. */
  static int level(String severity) {
    return switch (severity) {
      case "" -> 0;
      case "NONE" -> 1;
      case "LOW" -> 3;
      case "MEDIUM" -> 4;
      case "HIGH" -> 5;
      case "CRITICAL" -> 6;
      default -> 2;
    };
  }

  private static final Comparator<Map<String, Object>> ID = Comparator.comparing(c -> (String) c.get("Id"));

  /**
   * The order of a CVE sort: SEVERITY (most severe first, then id), ALPHABETIC_ASC/DSC by id.
   *
   * @throws SearchException with zot's message for any other criterion
   */
  public static Comparator<Map<String, Object>> order(SortCriteria sort) {
    return switch (sort) {
      case SEVERITY -> Comparator.comparingInt((Map<String, Object> c) -> -level((String) c.get("Severity")))
          .thenComparing(ID);
      case ALPHABETIC_ASC -> ID;
      case ALPHABETIC_DSC -> ID.reversed();
      default -> throw new SearchException("sorting CVEs by '" + sort.name()
          + "' is not supported the pagination sort criteria is not supported");
    };
  }

  /** A CVE {@code PageInput} with zot's checks in zot's order (limit, then offset, then the sort); default SEVERITY. */
  public static PageRequest page(Map<String, Object> input) {
    int limit = input == null || input.get("limit") == null ? 0 : ((Number) input.get("limit")).intValue();
    if (limit < 0) {
      throw new SearchException("pagination limit has negative value");
    }
    if (limit > MAX_LIMIT) {
      throw new SearchException("pagination limit has excessive value");
    }
    PageRequest page = PageRequest.of(input, SortCriteria.SEVERITY);
    order(page.sort());
    return page;
  }

  /** One page of CVEs and the number of them before slicing. */
  public record Page(List<Map<String, Object>> items, int total) {
    /** As zot's {@code PageInfo}. */
    public Map<String, Object> info() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("TotalCount", total);
      m.put("ItemCount", items.size());
      return m;
    }
  }

  /** Sorts and slices as zot's CVE pages: {@code [offset, offset + limit)}, everything for limit 0 and offset 0. */
  public static Page slice(List<Map<String, Object>> cves, PageRequest page) {
    List<Map<String, Object>> sorted = new ArrayList<>(cves);
    sorted.sort(order(page.sort()));
    int start = Math.min(page.offset(), sorted.size());
    int end = (int) Math.min((long) page.offset() + page.limit(), sorted.size());
    if (start == 0 && end == 0) {
      return new Page(List.copyOf(sorted), sorted.size());
    }
    return new Page(List.copyOf(sorted.subList(start, Math.max(start, end))), sorted.size());
  }

  /**
   * zot's summary of a CVE diff: counts per severity of the CVEs left, MaxSeverity the worst of
   * them, or {@code ""} when none is left (zot starts from "not scanned", not from NONE).
   */
  public static Map<String, Object> diffSummary(List<Map<String, Object>> cves) {
    int[] n = new int[7];
    int max = 0;
    String maxName = "";
    for (Map<String, Object> c : cves) {
      String s = (String) c.get("Severity");
      int l = level(s);
      n[l]++;
      if (l > max) {
        max = l;
        maxName = s;
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("MaxSeverity", maxName);
    m.put("Count", n[2] + n[3] + n[4] + n[5] + n[6]);
    m.put("UnknownCount", n[2]);
    m.put("LowCount", n[3]);
    m.put("MediumCount", n[4]);
    m.put("HighCount", n[5]);
    m.put("CriticalCount", n[6]);
    return m;
  }
}
