package io.flotilla.scan;

import static io.flotilla.scan.Osv.affected;
import static io.flotilla.scan.Osv.aliases;
import static io.flotilla.scan.Osv.apk;
import static io.flotilla.scan.Osv.db;
import static io.flotilla.scan.Osv.dbSeverity;
import static io.flotilla.scan.Osv.deb;
import static io.flotilla.scan.Osv.image;
import static io.flotilla.scan.Osv.os;
import static io.flotilla.scan.Osv.range;
import static io.flotilla.scan.Osv.record;
import static io.flotilla.scan.Osv.severity;
import static io.flotilla.scan.Osv.zip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class VulnDbTest {
  private static final String DPKG = "var/lib/dpkg/status";

  private static ObjectNode debian(String id, String release, String source, String fixed) {
    ObjectNode range = fixed == null ? range("ECOSYSTEM", "introduced", "0")
        : range("ECOSYSTEM", "introduced", "0", "fixed", fixed);
    return record(id, affected("Debian:" + release, source, range));
  }

  @Test
  void debianMatchesBySourcePackageAndReportsBinaries() throws Exception {
    VulnDb db = db(zip(
        debian("CVE-2099-0001", "12", "openssl", "3.0.13-1~deb12u1"),
        debian("CVE-2099-0002", "12", "zlib", "1:1.2.13.dfsg-2"), // epoch 1 above an epoch-less install
        debian("CVE-2099-0003", "12", "tar", "1.34+dfsg-1.2"), // +b1 binNMU of the fixed source: not affected
        debian("CVE-2099-0004", "12", "curl", "8.0~rc1-1"), // ~: 8.0~beta1 is below the fix, 8.0 above
        debian("CVE-2099-0005", "11", "openssl", "3.0.99-1"))); // other release: never matches
    ImageInventory inv = image(os("debian", "12"),
        deb("libssl3", "3.0.11-1~deb12u2+b1", "openssl", "3.0.11-1~deb12u2"),
        deb("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
        deb("zlib1g", "1.2.13.dfsg-3", "zlib", "1.2.13.dfsg-3"),
        deb("tar", "1.34+dfsg-1.2+b1", "tar", "1.34+dfsg-1.2"),
        deb("curl", "8.0~beta1-1", "curl", "8.0~beta1-1"),
        deb("libcurl4", "8.0-1", "curl", "8.0-1"));
    assertEquals(List.of(
        new Finding("CVE-2099-0001", Severity.UNKNOWN, "libssl3", DPKG, "3.0.11-1~deb12u2+b1", "3.0.13-1~deb12u1"),
        new Finding("CVE-2099-0001", Severity.UNKNOWN, "openssl", DPKG, "3.0.11-1~deb12u2", "3.0.13-1~deb12u1"),
        new Finding("CVE-2099-0002", Severity.UNKNOWN, "zlib1g", DPKG, "1.2.13.dfsg-3", "1:1.2.13.dfsg-2"),
        new Finding("CVE-2099-0004", Severity.UNKNOWN, "curl", DPKG, "8.0~beta1-1", "8.0~rc1-1")),
        db.match(inv));
  }

  @Test
  void osPackagesNeedTheImageOsAndRelease() throws Exception {
    VulnDb db = db(zip(debian("CVE-2099-0001", "12", "openssl", "9"),
        record("CVE-2099-0002", affected("Ubuntu:22.04:LTS", "openssl", range("ECOSYSTEM", "introduced", "0"))),
        record("CVE-2099-0003", affected("Ubuntu:Pro:18.04:LTS", "openssl", range("ECOSYSTEM", "introduced", "0"))),
        record("CVE-2099-0004", affected("Debian", "openssl", range("ECOSYSTEM", "introduced", "0")))));
    InstalledPackage ssl = deb("libssl3", "3.0.2-0ubuntu1", "openssl", "3.0.2-0ubuntu1");
    assertEquals(List.of("CVE-2099-0001"), ids(db.match(image(os("debian", "12.4"), ssl))));
    assertEquals(List.of("CVE-2099-0002"), ids(db.match(image(os("ubuntu", "22.04"), ssl))));
    assertEquals(List.of("CVE-2099-0003"), ids(db.match(image(os("ubuntu", "18.04"), ssl))));
    assertEquals(List.of(), db.match(image(os("ubuntu", "20.04"), ssl)));
    assertEquals(List.of(), db.match(image(os("debian", "11"), ssl)));
    assertEquals(List.of(), db.match(image(os("debian", ""), ssl)));
    assertEquals(List.of(), db.match(image(OsRelease.UNKNOWN, ssl)));
    assertEquals(List.of(), db.match(image(os("raspbian", "12"), ssl)));
    assertEquals(List.of(), db.match(image(os("alpine", "3.19.1"), ssl)), "a dpkg package on Alpine");
    assertEquals(4, db.stats().records() + db.stats().unsupportedRecords(), "unscoped Debian is not indexed");
  }

  @Test
  void alpineMatchesByOriginAndMinorRelease() throws Exception {
    VulnDb db = db(zip(
        record("CVE-2099-0010", affected("Alpine:v3.19", "openssl", range("ECOSYSTEM", "introduced", "0",
            "fixed", "3.1.4-r3"))),
        record("CVE-2099-0011", affected("Alpine:v3.18", "openssl", range("ECOSYSTEM", "introduced", "0",
            "fixed", "3.1.9-r0")))));
    ImageInventory inv = image(os("alpine", "3.19.1"), apk("libcrypto3", "3.1.4-r1", "openssl"),
        apk("libssl3", "3.1.4-r3", "openssl"));
    assertEquals(List.of(new Finding("CVE-2099-0010", Severity.UNKNOWN, "libcrypto3", "lib/apk/db/installed",
        "3.1.4-r1", "3.1.4-r3")), db.match(inv));
    assertEquals(List.of("CVE-2099-0011"), ids(db.match(image(os("alpine", "3.18.6"),
        apk("libcrypto3", "3.1.4-r1", "openssl")))));
    assertEquals(List.of(), db.match(image(os("debian", "12"), apk("libcrypto3", "3.1.4-r1", "openssl"))));
  }

  @Test
  void openIssueAndLastAffectedHaveNoFix() throws Exception {
    VulnDb db = db(zip(debian("CVE-2099-0020", "12", "bash", null),
        record("CVE-2099-0021", affected("npm", "left-pad", range("SEMVER", "introduced", "0",
            "last_affected", "1.2.3")))));
    assertEquals(List.of(new Finding("CVE-2099-0020", Severity.UNKNOWN, "bash", DPKG, "5.2.15-2+b2", "")),
        db.match(image(os("debian", "12"), deb("bash", "5.2.15-2+b2", "bash", "5.2.15-2"))));
    InstalledPackage affected = InstalledPackage.of(PackageType.NPM, "left-pad", "1.2.3", "app/node_modules/left-pad/package.json");
    InstalledPackage newer = InstalledPackage.of(PackageType.NPM, "left-pad", "1.2.4", "lib/node_modules/left-pad/package.json");
    assertEquals(List.of(new Finding("CVE-2099-0021", Severity.UNKNOWN, "left-pad", affected.path(), "1.2.3", "")),
        db.match(image(OsRelease.UNKNOWN, affected, newer)));
  }

  @Test
  void languageEcosystems() throws Exception {
    VulnDb db = db(zip(
        record("CVE-2099-0030", affected("Maven", "org.example:lib-core", range("ECOSYSTEM", "introduced",
            "2.0-beta9", "fixed", "2.15.0"))),
        record("CVE-2099-0031", affected("PyPI", "Foo_Bar.baz", range("ECOSYSTEM", "introduced", "0",
            "fixed", "2.0rc1"))),
        record("CVE-2099-0032", affected("Go", "github.com/example/mod", range("SEMVER", "introduced", "0",
            "fixed", "1.2.4"))),
        record("CVE-2099-0033", affected("Go", "stdlib", range("SEMVER", "introduced", "1.21.0-0",
            "fixed", "1.21.3"))),
        record("CVE-2099-0034", affected("npm", "@scope/pkg", range("SEMVER", "introduced", "1.0.0",
            "fixed", "1.0.5")))));
    String jar = "app/lib.jar";
    List<Finding> got = db.match(image(os("alpine", "3.19.0"),
        InstalledPackage.of(PackageType.MAVEN, "org.example:lib-core", "2.14.1", jar),
        InstalledPackage.of(PackageType.MAVEN, "org.example:lib-core", "2.17.1", "app/other.jar"),
        InstalledPackage.of(PackageType.MAVEN, "org.example:lib-api", "2.14.1", jar),
        InstalledPackage.of(PackageType.PYPI, "foo-bar-baz", "1.9", "site-packages/foo_bar_baz-1.9.dist-info/METADATA"),
        InstalledPackage.of(PackageType.GO, "github.com/example/mod", "v1.2.3", "usr/bin/app"),
        InstalledPackage.of(PackageType.GO, "github.com/example/mod", "v1.2.4", "usr/bin/other"),
        InstalledPackage.of(PackageType.GO, "stdlib", "v1.21", "usr/bin/app"),
        InstalledPackage.of(PackageType.GO, "stdlib", "v1.21rc2", "usr/bin/rc"),
        InstalledPackage.of(PackageType.GO, "stdlib", "v1.21.3", "usr/bin/other"),
        InstalledPackage.of(PackageType.NPM, "@scope/pkg", "1.0.4", "node_modules/@scope/pkg/package.json"),
        InstalledPackage.of(PackageType.NPM, "@scope/pkg", "0.9.0", "x/node_modules/@scope/pkg/package.json")));
    assertEquals(List.of(
        new Finding("CVE-2099-0030", Severity.UNKNOWN, "org.example:lib-core", jar, "2.14.1", "2.15.0"),
        new Finding("CVE-2099-0031", Severity.UNKNOWN, "foo-bar-baz",
            "site-packages/foo_bar_baz-1.9.dist-info/METADATA", "1.9", "2.0rc1"),
        new Finding("CVE-2099-0032", Severity.UNKNOWN, "github.com/example/mod", "usr/bin/app", "v1.2.3", "1.2.4"),
        new Finding("CVE-2099-0033", Severity.UNKNOWN, "stdlib", "usr/bin/app", "v1.21", "1.21.3"),
        new Finding("CVE-2099-0033", Severity.UNKNOWN, "stdlib", "usr/bin/rc", "v1.21rc2", "1.21.3"),
        new Finding("CVE-2099-0034", Severity.UNKNOWN, "@scope/pkg", "node_modules/@scope/pkg/package.json",
            "1.0.4", "1.0.5")), got);
  }

  @Test
  void displayIdsAndAdvisoryText() throws Exception {
    ObjectNode ghsa = aliases(record("GHSA-aaaa-bbbb-cccc", affected("npm", "a", range("SEMVER", "introduced", "0"))),
        "CVE-2099-0041", "CVE-2099-0040");
    ghsa.put("summary", "Prototype pollution in a");
    ghsa.put("details", "Long text.");
    dbSeverity(ghsa, "MODERATE");
    ObjectNode ghsaOnly = record("GHSA-dddd-eeee-ffff", affected("npm", "a", range("SEMVER", "introduced", "0")));
    ObjectNode dsa = record("DSA-9999-1", affected("Debian:12", "a", range("ECOSYSTEM", "introduced", "0")));
    dsa.putArray("references").addObject().put("type", "ADVISORY").put("url", "https://www.debian.org/security/dsa-9999");
    ObjectNode ubuntu = record("UBUNTU-CVE-2099-0042", affected("Ubuntu:22.04:LTS", "a",
        range("ECOSYSTEM", "introduced", "0")));
    ubuntu.putArray("upstream").add("CVE-2099-0042");
    VulnDb db = db(zip(ghsa, ghsaOnly, dsa, ubuntu));
    assertEquals(List.of("CVE-2099-0040", "GHSA-dddd-eeee-ffff"),
        ids(db.match(image(OsRelease.UNKNOWN, InstalledPackage.of(PackageType.NPM, "a", "1.0.0", "p")))));
    assertEquals(new Advisory("CVE-2099-0040", "Prototype pollution in a", "Long text.", Severity.MEDIUM,
        "https://www.cve.org/CVERecord?id=CVE-2099-0040", List.of("CVE-2099-0041", "GHSA-aaaa-bbbb-cccc")),
        db.advisory("CVE-2099-0040").orElseThrow());
    assertEquals("https://github.com/advisories/GHSA-dddd-eeee-ffff",
        db.advisory("GHSA-dddd-eeee-ffff").orElseThrow().reference());
    assertEquals("https://www.debian.org/security/dsa-9999", db.advisory("DSA-9999-1").orElseThrow().reference());
    assertEquals(List.of("UBUNTU-CVE-2099-0042"), db.advisory("CVE-2099-0042").orElseThrow().aliases());
    assertTrue(db.advisory("GHSA-aaaa-bbbb-cccc").isEmpty(), "advisories are found by display id");
    assertEquals("sha256:test", db.digest());
  }

  @Test
  void oneFindingPerDisplayIdMostSevereThenLowestRecordId() throws Exception {
    ObjectNode low = aliases(debian("DSA-0001-1", "12", "openssl", "3.0.12-1"), "CVE-2099-0050");
    dbSeverity(low, "LOW");
    ObjectNode high = aliases(debian("DLA-0001-1", "12", "openssl", "3.0.14-1"), "CVE-2099-0050");
    dbSeverity(high, "HIGH");
    ObjectNode tieA = aliases(debian("DSA-0002-1", "12", "openssl", "3.0.20-1"), "CVE-2099-0051");
    ObjectNode tieB = aliases(debian("DSA-0003-1", "12", "openssl", "3.0.21-1"), "CVE-2099-0051");
    VulnDb db = db(zip(low, tieB, high, tieA));
    InstalledPackage ssl = deb("openssl", "3.0.11-1", "openssl", "3.0.11-1");
    assertEquals(List.of(
        new Finding("CVE-2099-0050", Severity.HIGH, "openssl", DPKG, "3.0.11-1", "3.0.14-1"),
        new Finding("CVE-2099-0051", Severity.UNKNOWN, "openssl", DPKG, "3.0.11-1", "3.0.20-1")),
        db.match(image(os("debian", "12"), ssl)));
    assertEquals(Severity.HIGH, db.advisory("CVE-2099-0050").orElseThrow().severity());
    assertEquals(List.of("DLA-0001-1", "DSA-0001-1"), db.advisory("CVE-2099-0050").orElseThrow().aliases());
  }

  @Test
  void severityPrecedence() throws Exception {
    ObjectNode perPackage = record("CVE-2099-0060", affected("Debian:12", "p1", range("ECOSYSTEM", "introduced", "0")));
    ((ObjectNode) perPackage.get("affected").get(0)).putObject("ecosystem_specific").put("severity", "medium");
    dbSeverity(perPackage, "CRITICAL");
    ObjectNode urgency = record("CVE-2099-0061", affected("Debian:12", "p1", range("ECOSYSTEM", "introduced", "0")));
    ((ObjectNode) urgency.get("affected").get(0)).putObject("ecosystem_specific").put("urgency", "unimportant");
    ObjectNode pkgDb = record("CVE-2099-0062", affected("Debian:12", "p1", range("ECOSYSTEM", "introduced", "0")));
    dbSeverity((ObjectNode) pkgDb.get("affected").get(0), "high");
    ObjectNode notAssigned = record("CVE-2099-0063", affected("Debian:12", "p1", range("ECOSYSTEM", "introduced", "0")));
    ((ObjectNode) notAssigned.get("affected").get(0)).putObject("ecosystem_specific").put("urgency", "not yet assigned");
    severity(notAssigned, "CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
    ObjectNode cvss = severity(severity(record("CVE-2099-0064", affected("Debian:12", "p1",
        range("ECOSYSTEM", "introduced", "0"))), "CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"),
        "CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C");
    ObjectNode v4 = severity(record("CVE-2099-0065", affected("Debian:12", "p1", range("ECOSYSTEM", "introduced", "0"))),
        "CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
    ObjectNode ubuntu = severity(severity(record("CVE-2099-0066", affected("Debian:12", "p1",
        range("ECOSYSTEM", "introduced", "0"))), "CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        "Ubuntu", "low");
    ObjectNode none = record("CVE-2099-0067", affected("Debian:12", "p1", range("ECOSYSTEM", "introduced", "0")));
    VulnDb db = db(zip(perPackage, urgency, pkgDb, notAssigned, cvss, v4, ubuntu, none));
    List<Severity> got = db.match(image(os("debian", "12"), deb("p1", "1", "p1", "1"))).stream()
        .map(Finding::severity).toList();
    assertEquals(List.of(Severity.MEDIUM, Severity.LOW, Severity.HIGH, Severity.CRITICAL, Severity.MEDIUM,
        Severity.UNKNOWN, Severity.LOW, Severity.UNKNOWN), got);
    assertEquals(Severity.CRITICAL, db.advisory("CVE-2099-0060").orElseThrow().severity(),
        "an advisory carries the record's severity, not a package's");
    assertEquals(Severity.UNKNOWN, db.advisory("CVE-2099-0062").orElseThrow().severity());
  }

  @Test
  void batchMatcherGivesTheSameFindings() throws Exception {
    VulnDb db = db(zip(debian("CVE-2099-0070", "12", "openssl", "3.0.13-1"),
        record("CVE-2099-0071", affected("npm", "a", range("SEMVER", "introduced", "1.0.0", "fixed", "1.0.5"))),
        record("CVE-2099-0072", affected("Debian:12", "openssl", range("ECOSYSTEM", "introduced", "3.0.12-1")))));
    List<ImageInventory> images = List.of(
        image(os("debian", "12"), deb("libssl3", "3.0.11-1+b1", "openssl", "3.0.11-1"),
            InstalledPackage.of(PackageType.NPM, "a", "1.0.4", "p")),
        image(os("debian", "12"), deb("libssl3", "3.0.13-2", "openssl", "3.0.13-2"),
            InstalledPackage.of(PackageType.NPM, "a", "1.0.5", "p")),
        image(os("debian", "12"), deb("libssl3", "3.0.11-1+b1", "openssl", "3.0.11-1"),
            InstalledPackage.of(PackageType.NPM, "a", "1.0.4", "q")));
    for (int max : new int[] {1, 1000}) {
      VulnDb.BatchMatcher batch = db.batchMatcher(max);
      for (int round = 0; round < 2; round++) {
        for (ImageInventory inv : images) {
          assertEquals(db.match(inv), batch.match(inv));
        }
      }
    }
    assertEquals(List.of("CVE-2099-0070", "CVE-2099-0071"), ids(db.match(images.get(0))));
    assertEquals(List.of("CVE-2099-0072"), ids(db.match(images.get(1))));
  }

  private static List<String> ids(List<Finding> findings) {
    return findings.stream().map(Finding::id).toList();
  }
}
