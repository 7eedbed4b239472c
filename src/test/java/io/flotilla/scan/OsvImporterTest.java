package io.flotilla.scan;

import static io.flotilla.scan.Osv.affected;
import static io.flotilla.scan.Osv.range;
import static io.flotilla.scan.Osv.record;
import static io.flotilla.scan.Osv.zip;
import static io.flotilla.scan.Osv.zipEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

class OsvImporterTest {

  private static ObjectNode npm(String id, String name) {
    return record(id, affected("npm", name, range("SEMVER", "introduced", "0")));
  }

  private static VulnDbException fails(OsvImporter.Limits limits, byte[]... zips) {
    return assertThrows(VulnDbException.class, () -> OsvImporter.read("sha256:x",
        Arrays.stream(zips).map(ByteArrayInputStream::new).toList(), limits));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void countsWhatItKeepsAndSkips() throws Exception {
    ObjectNode withdrawn = npm("CVE-2099-0103", "w");
    withdrawn.put("withdrawn", "2099-02-01T00:00:00Z");
    byte[] zip = zipEntries(List.of(
        Map.entry("CVE-2099-0100.json", bytes(Osv.JSON.writeValueAsString(npm("CVE-2099-0100", "a")))),
        Map.entry("../../etc/CVE-2099-0101.json", bytes(Osv.JSON.writeValueAsString(
            record("CVE-2099-0101", affected("Debian:12", "a", range("ECOSYSTEM", "introduced", "0"),
                range("GIT", "introduced", "abc")), affected("crates.io", "a"))))),
        Map.entry("/abs/RUSTSEC-2099-0001.json", bytes(Osv.JSON.writeValueAsString(
            record("RUSTSEC-2099-0001", affected("crates.io", "x", range("SEMVER", "introduced", "0")))))),
        Map.entry("bad.json", bytes("{\"id\": \"CVE-2099-0102\", \"affected\": ")),
        Map.entry("bad-shape.json", bytes("{\"id\": \"CVE-2099-0104\", \"affected\": {}}")),
        Map.entry("no-id.json", bytes("{\"affected\": []}")),
        Map.entry("array.json", bytes("[1, 2]")),
        Map.entry("CVE-2099-0103.json", bytes(Osv.JSON.writeValueAsString(withdrawn))),
        Map.entry("README.txt", bytes("hello")),
        Map.entry("dir/", new byte[0])));
    VulnDb db = Osv.db(zip);
    VulnDb.Stats s = db.stats();
    assertEquals(2, s.records());
    assertEquals(2, s.affectedEntries());
    assertEquals(1, s.unsupportedRecords());
    assertEquals(4, s.malformedRecords());
    assertEquals(1, s.withdrawnRecords());
    assertEquals(6, s.skippedRecords());
    assertEquals(2, s.ignoredEntries());
    assertEquals(Map.of(Ecosystem.NPM, 1, Ecosystem.DEBIAN, 1), s.affectedPerEcosystem());
  }

  @Test
  void aRecordSeenTwiceKeepsTheLaterModified() throws Exception {
    ObjectNode old = npm("CVE-2099-0110", "a");
    ObjectNode newer = record("CVE-2099-0110", affected("npm", "a", range("SEMVER", "introduced", "0",
        "fixed", "2.0.0")));
    newer.put("modified", "2099-06-01T00:00:00Z");
    VulnDb db = Osv.db(zip(newer), zip(old));
    assertEquals(1, db.stats().records());
    assertEquals(1, db.stats().duplicateRecords());
    List<Finding> f = db.match(Osv.image(OsRelease.UNKNOWN, InstalledPackage.of(PackageType.NPM, "a", "1.0.0", "p")));
    assertEquals("2.0.0", f.get(0).fixedVersion());
  }

  @Test
  void notAZip() {
    VulnDbException e = fails(OsvImporter.Limits.DEFAULTS, bytes("{\"id\": \"CVE-2099-0001\"}"));
    assertTrue(e.getMessage().startsWith("not a vulnerability database: not a zip"), e.getMessage());
    assertTrue(fails(OsvImporter.Limits.DEFAULTS, new byte[0]).getMessage().contains("not a zip"));
    assertTrue(fails(OsvImporter.Limits.DEFAULTS, new byte[] {'P', 'K'}).getMessage().contains("not a zip"));
    assertTrue(fails(OsvImporter.Limits.DEFAULTS, zip(npm("CVE-2099-0001", "a")), bytes("garbage"))
        .getMessage().contains("not a zip"), "one bad layer fails the artifact");
  }

  @Test
  void zipOfGarbageJsonOrEmptyZipHasNoUsableRecord() {
    VulnDbException garbage = fails(OsvImporter.Limits.DEFAULTS, zipEntries(List.of(
        Map.entry("a.json", bytes("not json")), Map.entry("b.json", bytes("{\"id\": 3}")))));
    assertTrue(garbage.getMessage().contains("no usable OSV record"), garbage.getMessage());
    assertTrue(garbage.getMessage().contains("2 malformed"), garbage.getMessage());
    VulnDbException empty = fails(OsvImporter.Limits.DEFAULTS, zipEntries(List.of()));
    assertTrue(empty.getMessage().startsWith("not a vulnerability database: no usable"), empty.getMessage());
    VulnDbException unsupported = fails(OsvImporter.Limits.DEFAULTS, zip(
        record("RUSTSEC-2099-0001", affected("crates.io", "x", range("SEMVER", "introduced", "0")))));
    assertTrue(unsupported.getMessage().contains("1 of unsupported"), unsupported.getMessage());
  }

  @Test
  void truncatedZipIsCorrupt() {
    byte[] whole = zip(npm("CVE-2099-0001", "a"), npm("CVE-2099-0002", "b"));
    VulnDbException e = fails(OsvImporter.Limits.DEFAULTS, Arrays.copyOf(whole, 60));
    assertTrue(e.getMessage().contains("corrupt zip"), e.getMessage());
  }

  @Test
  void entryNameNotInUtf8IsCorrupt() {
    byte[] zip = zipEntries(List.of(Map.entry("CVE-2099-000\u00e9.json", bytes("{}"))));
    int at = -1;
    for (int i = 0; i + 1 < zip.length; i++) {
      if ((zip[i] & 0xff) == 0xc3 && (zip[i + 1] & 0xff) == 0xa9) {
        at = i;
        break;
      }
    }
    assertTrue(at > 0);
    zip[at] = (byte) 0xff; // invalid UTF-8 in the local header's name; the UTF-8 flag stays set
    VulnDbException e = fails(OsvImporter.Limits.DEFAULTS, zip);
    assertTrue(e.getMessage().contains("corrupt zip"), e.getMessage());
  }

  @Test
  void oversizedEntry() {
    OsvImporter.Limits small = new OsvImporter.Limits(1024, 1L << 20, 100);
    byte[] big = new byte[2048];
    Arrays.fill(big, (byte) ' ');
    VulnDbException e = fails(small, zipEntries(List.of(Map.entry("CVE-2099-0001.json", big))));
    assertTrue(e.getMessage().contains("\"CVE-2099-0001.json\" is larger than 1024 bytes"), e.getMessage());
    // a non-JSON entry is read (and bounded) too: skipping it would still inflate it
    e = fails(small, zipEntries(List.of(Map.entry("notes.txt", big))));
    assertTrue(e.getMessage().contains("larger than 1024"), e.getMessage());
  }

  @Test
  void totalBytesAndEntryCount() throws Exception {
    OsvImporter.Limits limits = new OsvImporter.Limits(1L << 20, 1500, 3);
    byte[] one = Osv.JSON.writeValueAsBytes(npm("CVE-2099-0001", "a"));
    assertTrue(one.length < 1000);
    byte[] padded = Arrays.copyOf(one, 1000);
    Arrays.fill(padded, one.length, padded.length, (byte) ' ');
    VulnDbException e = fails(limits, zipEntries(List.of(Map.entry("a.json", padded), Map.entry("b.json", padded))));
    assertTrue(e.getMessage().contains("larger than 1500 bytes"), e.getMessage());
    e = fails(limits, zip(npm("CVE-2099-0001", "a"), npm("CVE-2099-0002", "a")),
        zip(npm("CVE-2099-0003", "a"), npm("CVE-2099-0004", "a")));
    assertTrue(e.getMessage().contains("more than 3 entries"), e.getMessage());
  }

  @Test
  void zipBombStopsAtTheEntryCap() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      z.putNextEntry(new ZipEntry("CVE-2099-0001.json")); // deflated: sizes only in the data descriptor
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 64; i++) {
        z.write(zeros);
      }
      z.closeEntry();
    }
    byte[] bomb = out.toByteArray();
    assertTrue(bomb.length < 1 << 20, "64 MiB of zeros compress to " + bomb.length + " bytes");
    VulnDbException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> fails(OsvImporter.Limits.DEFAULTS, bomb));
    assertTrue(e.getMessage().contains("larger than 8388608 bytes"), e.getMessage());
  }
}
