package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.scan.Advisory;
import io.flotilla.scan.Finding;
import io.flotilla.scan.Severity;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** zot's CVE objects, filters, sorts, pages and summaries, without a node. */
class CveListTest {
  static final List<Finding> FINDINGS = List.of(
      new Finding("CVE-2099-0002", Severity.LOW, "zlib", "", "1.2", ""),
      new Finding("CVE-2099-0001", Severity.MEDIUM, "openssl", "var/lib/dpkg/status", "1.0", "1.1"),
      new Finding("CVE-2099-0001", Severity.HIGH, "libssl", "var/lib/dpkg/status", "1.0", "1.1"),
      new Finding("CVE-2099-0001", Severity.MEDIUM, "openssl", "var/lib/dpkg/status", "1.0", "1.1"),
      new Finding("GHSA-xxxx", Severity.CRITICAL, "lodash", "app/package.json", "4.0", "4.17"));

  static List<Map<String, Object>> cves() {
    return CveList.of(FINDINGS, id -> id.equals("CVE-2099-0001")
        ? Optional.of(new Advisory(id, "Overflow in TLS", "A long text", Severity.LOW, "https://www.cve.org/CVERecord?id=" + id,
            List.of()))
        : Optional.empty());
  }

  static List<String> ids(List<Map<String, Object>> cves) {
    return cves.stream().map(c -> (String) c.get("Id")).toList();
  }

  @Test
  void oneCvePerIdWorstSeverityPackagesOnceAndPlaceholders() {
    List<Map<String, Object>> cves = cves();
    assertEquals(List.of("CVE-2099-0001", "CVE-2099-0002", "GHSA-xxxx"), ids(cves));
    assertEquals(Map.of("Id", "CVE-2099-0001", "Title", "Overflow in TLS", "Description", "A long text",
        "Reference", "https://www.cve.org/CVERecord?id=CVE-2099-0001", "Severity", "HIGH", "PackageList", List.of(
            Map.of("Name", "openssl", "PackagePath", "var/lib/dpkg/status", "InstalledVersion", "1.0", "FixedVersion", "1.1"),
            Map.of("Name", "libssl", "PackagePath", "var/lib/dpkg/status", "InstalledVersion", "1.0", "FixedVersion", "1.1"))),
        cves.get(0), "the finding's severity (worst), not the advisory's; a package listed once");
    assertEquals(Map.of("Id", "CVE-2099-0002", "Title", "", "Description", "", "Reference", "", "Severity", "LOW",
        "PackageList", List.of(Map.of("Name", "zlib", "PackagePath", "Not Specified", "InstalledVersion", "1.2",
            "FixedVersion", "Not Specified"))), cves.get(1));
  }

  @Test
  void filtersAreZots() {
    List<Map<String, Object>> cves = cves();
    assertEquals(List.of("CVE-2099-0001"), ids(CveList.filter(cves, "tls", "", "")), "title, any case");
    assertEquals(List.of("CVE-2099-0001"), ids(CveList.filter(cves, "libSSL", "", "")), "package name");
    assertEquals(List.of("CVE-2099-0002"), ids(CveList.filter(cves, "not spec", "", "")), "the placeholder is searched");
    assertEquals(List.of("GHSA-xxxx"), ids(CveList.filter(cves, "package.json", "", "")), "package path");
    assertEquals(List.of("CVE-2099-0002", "GHSA-xxxx"), ids(CveList.filter(cves, "", "cve.org", "")), "excluded: reference");
    assertEquals(List.of("GHSA-xxxx"), ids(CveList.filter(cves, "", "", "CRITICAL")));
    assertEquals(List.of(), ids(CveList.filter(cves, "", "", "critical")), "lower case is an unknown name: UNKNOWN");
    assertEquals(List.of(), ids(CveList.filter(cves, "", "", "NONE")));
    assertEquals(List.of("CVE-2099-0002"), ids(CveList.filter(cves, "2099", "0001", "")));
  }

  @Test
  void sortsAndPages() {
    List<Map<String, Object>> cves = cves();
    PageRequest all = CveList.page(null);
    assertEquals(SortCriteria.SEVERITY, all.sort());
    assertEquals(List.of("GHSA-xxxx", "CVE-2099-0001", "CVE-2099-0002"), ids(CveList.slice(cves, all).items()));
    assertEquals(List.of("GHSA-xxxx", "CVE-2099-0002", "CVE-2099-0001"),
        ids(CveList.slice(cves, CveList.page(Map.of("sortBy", "ALPHABETIC_DSC"))).items()));
    CveList.Page p = CveList.slice(cves, CveList.page(Map.of("limit", 1, "offset", 1, "sortBy", "ALPHABETIC_ASC")));
    assertEquals(List.of("CVE-2099-0002"), ids(p.items()));
    assertEquals(Map.of("TotalCount", 3, "ItemCount", 1), p.info());
    assertEquals(Map.of("TotalCount", 3, "ItemCount", 0), CveList.slice(cves, CveList.page(Map.of("offset", 1))).info(),
        "limit 0 with an offset: nothing");
    assertEquals(Map.of("TotalCount", 3, "ItemCount", 0), CveList.slice(cves, CveList.page(Map.of("limit", 2, "offset", 3)))
        .info());
    assertEquals(Map.of("TotalCount", 0, "ItemCount", 0), CveList.slice(List.of(), all).info());
  }

  @Test
  void pageErrorsAreZotsInZotsOrder() {
    assertEquals("pagination limit has excessive value",
        assertThrows(SearchException.class, () -> CveList.page(Map.of("limit", 4097, "offset", -1))).getMessage());
    assertEquals(4096, CveList.page(Map.of("limit", 4096)).limit());
    assertEquals("pagination limit has negative value",
        assertThrows(SearchException.class, () -> CveList.page(Map.of("limit", -1))).getMessage());
    assertEquals("pagination offset has negative value",
        assertThrows(SearchException.class, () -> CveList.page(Map.of("offset", -1, "sortBy", "STARS"))).getMessage());
    assertEquals("sorting CVEs by 'UPDATE_TIME' is not supported the pagination sort criteria is not supported",
        assertThrows(SearchException.class, () -> CveList.page(Map.of("sortBy", "UPDATE_TIME"))).getMessage());
  }

  @Test
  void diffSummaryStartsFromNotScanned() {
    assertEquals("", CveList.diffSummary(List.of()).get("MaxSeverity"));
    assertEquals(0, CveList.diffSummary(List.of()).get("Count"));
    Map<String, Object> s = CveList.diffSummary(cves());
    assertEquals(List.of("CRITICAL", 3, 0, 1, 0, 1, 1), List.copyOf(s.values()));
  }
}
