package io.flotilla.scan;

import static io.flotilla.scan.LayerBuilder.jar;
import static io.flotilla.scan.LayerBuilder.layer;
import static io.flotilla.scan.LayerBuilder.pom;
import static io.flotilla.scan.LayerBuilder.pomPath;
import static io.flotilla.scan.ScanFixtures.dpkg;
import static io.flotilla.scan.ScanFixtures.osv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.testing.Await;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scanning end to end on one node: images of generated layers pushed through the distribution API, the
 * database pushed as an OCI artifact, zot's CVE queries over HTTP, the pull policy, a second database
 * that changes the answers without reading a layer, and bad input that fails scans cleanly.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScanIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
  @TempDir
  static Path dir;
  static TestNode node;
  static OciClient client;
  static ScanFixtures.Pushed debian;
  static ScanFixtures.Pushed alpine;
  static ScanFixtures.Pushed clean;
  static io.flotilla.testing.WebhookReceiver hooks;

  static byte[] debianBase() {
    return layer().file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n")
        .file("var/lib/dpkg/status.d/libssl3", dpkg("libssl3", "3.0.11-1~deb12u1", "openssl"))
        .file("var/lib/dpkg/status.d/zlib1g", dpkg("zlib1g", "1:1.2.13.dfsg-1", "zlib"))
        .file("var/lib/dpkg/status.d/libc6", dpkg("libc6", "2.36-9+deb12u3", "glibc"))
        .file("var/lib/dpkg/status.d/libfoo", dpkg("libfoo", "1.0-1", null))
        .file("app/lib/log4j-core.jar", jar(pomPath("org.apache.logging.log4j", "log4j-core"),
            pom("org.apache.logging.log4j", "log4j-core", "2.14.1")), 0644)
        .gzip();
  }

  static List<ObjectNode> databaseV1() {
    return List.of(
        osv("DEBIAN-CVE-2099-0001", List.of("CVE-2099-0001"), "Debian:12", "openssl", null, CRITICAL_VECTOR,
            "introduced", "0", "fixed", "3.0.13-1~deb12u1"),
        osv("CVE-2099-0002", List.of(), "Debian:12", "zlib", "MODERATE", null, "introduced", "0"),
        osv("CVE-2099-0003", List.of(), "Debian:12", "libfoo", "HIGH", null, "introduced", "0"),
        osv("GHSA-2099-0004-abcd", List.of("CVE-2099-0004"), "Maven", "org.apache.logging.log4j:log4j-core",
            "CRITICAL", null, "introduced", "2.0", "fixed", "2.15.0"),
        osv("CVE-2099-0005", List.of(), "Alpine:v3.19", "musl", "HIGH", null, "introduced", "0", "fixed", "1.2.4-r3"),
        osv("CVE-2099-0006", List.of(), "Debian:11", "openssl", "CRITICAL", null, "introduced", "0"));
  }

  static List<ObjectNode> databaseV2() {
    List<ObjectNode> v2 = new ArrayList<>(databaseV1());
    v2.set(1, osv("CVE-2099-0002", List.of(), "Debian:12", "zlib", "MODERATE", null, "introduced", "0",
        "fixed", "1:1.2.13.dfsg-2"));
    v2.add(osv("CVE-2099-0007", List.of(), "Debian:12", "glibc", "LOW", null, "introduced", "2.36", "fixed", "2.36-9+deb12u4"));
    return v2;
  }

  @BeforeAll
  static void start() throws Exception {
    hooks = new io.flotilla.testing.WebhookReceiver();
    node = TestNode.start(dir, Map.of("scan.policies", "[{\"repositories\":\"strict/**\",\"severity\":\"HIGH\"}]",
        "events.allowPrivateWebhookTargets", "true",
        "events.webhooks", "[{\"name\":\"scans\",\"url\":\"" + hooks.url("/scans") + "\"}]"));
    client = new OciClient(node.url());
    debian = ScanFixtures.image(client, "app/debian", "1", "linux", "amd64", List.of(debianBase(),
        layer().whiteout("var/lib/dpkg/status.d/libfoo").gzip()));
    ScanFixtures.image(client, "strict/debian", "1", "linux", "amd64", List.of(debianBase(),
        layer().whiteout("var/lib/dpkg/status.d/libfoo").gzip()));
    alpine = ScanFixtures.image(client, "app/alpine", "1", "linux", "arm64", List.of(layer()
        .file("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
        .file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:aarch64\no:musl\n\nP:busybox\nV:1.36.1-r15\no:busybox\n\n")
        .gzip()));
    ScanFixtures.Pushed multiAmd = ScanFixtures.image(client, "app/multi", "amd", "linux", "amd64", List.of(debianBase(),
        layer().whiteout("var/lib/dpkg/status.d/libfoo").gzip()));
    ScanFixtures.Pushed multiArm = ScanFixtures.image(client, "app/multi", "arm", "linux", "arm64", List.of(layer()
        .file("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")
        .file("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:aarch64\no:musl\n\nP:busybox\nV:1.36.1-r15\no:busybox\n\n")
        .gzip()));
    ScanFixtures.index(client, "app/multi", "1", List.of(multiAmd, multiArm), List.of("linux/amd64", "linux/arm64"));
    clean = ScanFixtures.image(client, "app/clean", "1", "linux", "amd64", List.of(layer()
        .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n").file("var/lib/dpkg/status", "").gzip()));
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
    if (hooks != null) {
      hooks.stop();
    }
  }

  static JsonNode post(String query) throws Exception {
    var r = client.send("POST", "/v2/_zot/ext/search", JSON.writeValueAsBytes(Map.of("query", query)),
        Map.of("Content-Type", "application/json"));
    assertEquals(200, r.statusCode(), OciClient.text(r));
    return JSON.readTree(r.body());
  }

  static JsonNode data(String query) throws Exception {
    JsonNode body = post(query);
    assertFalse(body.has("errors"), body.toString());
    return body.get("data");
  }

  /** Waits for {@code check}; on time-out fails with {@code what}'s text (evaluated then). */
  static void awaitThat(Duration timeout, Await.Check check, java.util.concurrent.Callable<String> what) throws Exception {
    try {
      Await.until("a condition", timeout, check);
    } catch (AssertionError e) {
      throw new AssertionError("timed out waiting for: " + what.call(), e);
    }
  }

  static JsonNode vulndb() throws Exception {
    var r = client.get("/api/v1/vulndb");
    assertEquals(200, r.statusCode(), OciClient.text(r));
    return JSON.readTree(r.body());
  }

  static void awaitActive(String digest) throws Exception {
    awaitThat(Duration.ofSeconds(60), () -> digest.equals(vulndb().path("active").asText()),
        () -> "database " + digest + " never became active: " + vulndb());
  }

  static final String CVE_FIELDS = "Tag Page { TotalCount ItemCount } CVEList { Id Title Severity Reference "
      + "PackageList { Name InstalledVersion FixedVersion PackagePath } } "
      + "Summary { MaxSeverity Count UnknownCount LowCount MediumCount HighCount CriticalCount }";

  static List<String> ids(JsonNode cveResult) {
    List<String> out = new ArrayList<>();
    cveResult.path("CVEList").forEach(c -> out.add(c.path("Id").asText() + " " + c.path("Severity").asText()));
    return out;
  }

  @Test
  @Order(1)
  void withoutADatabaseCveSearchIsDisabled() throws Exception {
    JsonNode body = post("{ CVEListForImage(image: \"app/debian:1\") { Tag } }");
    assertEquals("cve search is disabled", body.at("/errors/0/message").asText(), body.toString());
    JsonNode img = data("{ Image(image: \"app/debian:1\") { Vulnerabilities { MaxSeverity Count } } }");
    assertEquals("", img.at("/Image/Vulnerabilities/MaxSeverity").asText(), img.toString());
    JsonNode db = vulndb();
    assertEquals("", db.path("active").asText(), db.toString());
    assertEquals("vulndb/osv:latest", db.path("database").asText());
  }

  @Test
  @Order(2)
  void theFirstDatabaseAnswersExactly() throws Exception {
    String v1 = ScanFixtures.database(client, "vulndb/osv", "latest", ScanFixtures.zip(databaseV1()));
    awaitActive(v1);
    JsonNode r = data("{ CVEListForImage(image: \"app/debian:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals("1", r.path("Tag").asText(), "zot's Tag is the reference");
    // SEVERITY: most severe first, then by id; libfoo (whited out) and Debian 11's record are absent
    assertEquals(List.of("CVE-2099-0001 CRITICAL", "CVE-2099-0004 CRITICAL", "CVE-2099-0002 MEDIUM"), ids(r), r.toString());
    JsonNode openssl = r.at("/CVEList/0");
    assertEquals("summary of DEBIAN-CVE-2099-0001", openssl.path("Title").asText());
    assertEquals("https://www.cve.org/CVERecord?id=CVE-2099-0001", openssl.path("Reference").asText());
    assertEquals("libssl3", openssl.at("/PackageList/0/Name").asText());
    assertEquals("3.0.11-1~deb12u1", openssl.at("/PackageList/0/InstalledVersion").asText());
    assertEquals("3.0.13-1~deb12u1", openssl.at("/PackageList/0/FixedVersion").asText());
    assertEquals("var/lib/dpkg/status.d/libssl3", openssl.at("/PackageList/0/PackagePath").asText());
    JsonNode zlib = r.at("/CVEList/2");
    assertEquals("Not Specified", zlib.at("/PackageList/0/FixedVersion").asText(), zlib.toString());
    JsonNode log4j = r.at("/CVEList/1");
    assertEquals("org.apache.logging.log4j:log4j-core", log4j.at("/PackageList/0/Name").asText(), log4j.toString());
    assertEquals("2.15.0", log4j.at("/PackageList/0/FixedVersion").asText());
    JsonNode s = r.path("Summary");
    assertEquals("CRITICAL", s.path("MaxSeverity").asText());
    assertEquals(List.of(3, 0, 0, 1, 0, 2), List.of(s.path("Count").asInt(), s.path("UnknownCount").asInt(),
        s.path("LowCount").asInt(), s.path("MediumCount").asInt(), s.path("HighCount").asInt(),
        s.path("CriticalCount").asInt()), s.toString());
    // a page of one, from the second
    JsonNode page = data("{ CVEListForImage(image: \"app/debian:1\", requestedPage: {limit: 1, offset: 1, "
        + "sortBy: ALPHABETIC_DSC}) { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of("CVE-2099-0002 MEDIUM"), ids(page), page.toString());
    assertEquals(3, page.at("/Page/TotalCount").asInt());
    assertEquals(1, page.at("/Page/ItemCount").asInt());
    assertEquals(3, page.at("/Summary/Count").asInt(), "the summary counts every CVE of the image");
  }

  @Test
  @Order(3)
  void alpineIndexAndCleanImages() throws Exception {
    JsonNode a = data("{ CVEListForImage(image: \"app/alpine:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of("CVE-2099-0005 HIGH"), ids(a), a.toString());
    assertEquals("1.2.4-r3", a.at("/CVEList/0/PackageList/0/FixedVersion").asText());
    JsonNode multi = data("{ CVEListForImage(image: \"app/multi:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of("CVE-2099-0001 CRITICAL", "CVE-2099-0004 CRITICAL", "CVE-2099-0005 HIGH",
        "CVE-2099-0002 MEDIUM"), ids(multi), multi.toString());
    JsonNode c = data("{ CVEListForImage(image: \"app/clean:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of(), ids(c));
    assertEquals("NONE", c.at("/Summary/MaxSeverity").asText(), c.toString());
    JsonNode img = data("{ Image(image: \"app/debian:1\") { Vulnerabilities { MaxSeverity Count CriticalCount } } }");
    assertEquals("CRITICAL", img.at("/Image/Vulnerabilities/MaxSeverity").asText(), img.toString());
    assertEquals(3, img.at("/Image/Vulnerabilities/Count").asInt());
    JsonNode cleanImg = data("{ Image(image: \"app/clean:1\") { Vulnerabilities { MaxSeverity Count } } }");
    assertEquals("NONE", cleanImg.at("/Image/Vulnerabilities/MaxSeverity").asText(), cleanImg.toString());
  }

  @Test
  @Order(4)
  void imageListForCveNamesEveryImageThatHasIt() throws Exception {
    awaitThat(Duration.ofSeconds(30), () -> data("{ ImageListForCVE(id: \"CVE-2099-0001\") { Page { TotalCount } } }")
        .at("/ImageListForCVE/Page/TotalCount").asInt() == 4, () -> "strict/debian is scanned on push: "
        + data("{ ImageListForCVE(id: \"CVE-2099-0001\") { Page { TotalCount } Results { RepoName Tag } } }") + " "
        + vulndb());
    JsonNode r = data("{ ImageListForCVE(id: \"CVE-2099-0001\", requestedPage: {sortBy: ALPHABETIC_ASC}) "
        + "{ Page { TotalCount ItemCount } Results { RepoName Tag } } }").get("ImageListForCVE");
    List<String> images = new ArrayList<>();
    r.path("Results").forEach(i -> images.add(i.path("RepoName").asText() + ":" + i.path("Tag").asText()));
    assertEquals(List.of("app/debian:1", "app/multi:1", "app/multi:amd", "strict/debian:1"), images, r.toString());
    JsonNode none = data("{ ImageListForCVE(id: \"CVE-2099-0006\") { Page { TotalCount } Results { RepoName } } }");
    assertEquals(0, none.at("/ImageListForCVE/Page/TotalCount").asInt(), none.toString());
  }

  @Test
  @Order(5)
  void scansAreEventsThroughTheEventsPipeline() throws Exception {
    awaitThat(Duration.ofSeconds(30), () -> hooks.events("/scans").stream().anyMatch(e ->
        "scan".equals(e.path("action").asText()) && "app/debian".equals(e.at("/target/repository").asText())
            && debian.digest().equals(e.at("/target/digest").asText())),
        () -> "a scan event of app/debian: " + hooks.events("/scans"));
  }

  @Test
  @Order(5)
  void thePullPolicyRefusesVulnerableImagesWhereItIsOn() throws Exception {
    var refused = client.get("/v2/strict/debian/manifests/1",
        Map.of("Accept", "application/vnd.oci.image.manifest.v1+json"));
    assertEquals(403, refused.statusCode(), OciClient.text(refused));
    String body = OciClient.text(refused);
    assertTrue(body.contains("DENIED") && body.contains("CVE-2099-0001"), body);
    var served = client.get("/v2/app/debian/manifests/1", Map.of("Accept", "application/vnd.oci.image.manifest.v1+json"));
    assertEquals(200, served.statusCode(), OciClient.text(served));
  }

  @Test
  @Order(6)
  void aNewDatabaseChangesTheAnswersWithoutReadingALayer() throws Exception {
    awaitThat(Duration.ofSeconds(30), () -> vulndb().at("/nodes/0/scanner/queued").asInt() == 0,
        () -> "the queue drains");
    long bytesBefore = vulndb().at("/nodes/0/scanner/layerBytesRead").asLong();
    long layersBefore = vulndb().at("/nodes/0/scanner/layersRead").asLong();
    long rematchesBefore = vulndb().at("/nodes/0/scanner/rematches").asLong();
    long stored = vulndb().at("/nodes/0/scanner/stored").asLong();
    assertTrue(bytesBefore > 0, "the first scans read layers");
    String v2 = ScanFixtures.database(client, "vulndb/osv", "latest", ScanFixtures.zip(databaseV2()));
    awaitActive(v2);
    awaitThat(Duration.ofSeconds(30), () -> ids(data("{ CVEListForImage(image: \"app/debian:1\") { " + CVE_FIELDS
        + " } }").get("CVEListForImage")).contains("CVE-2099-0007 LOW"), () -> "re-matched under " + v2);
    JsonNode r = data("{ CVEListForImage(image: \"app/debian:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of("CVE-2099-0001 CRITICAL", "CVE-2099-0004 CRITICAL", "CVE-2099-0002 MEDIUM",
        "CVE-2099-0007 LOW"), ids(r), r.toString());
    assertEquals("1:1.2.13.dfsg-2", r.at("/CVEList/2/PackageList/0/FixedVersion").asText());
    // each node publishes its counters every 2 s: wait for the ones that count the re-match
    awaitThat(Duration.ofSeconds(10), () -> vulndb().at("/nodes/0/scanner/rematches").asLong()
        >= rematchesBefore + stored,
        () -> "the second database's re-match is published: " + vulndb());
    JsonNode db = vulndb();
    assertEquals(bytesBefore, db.at("/nodes/0/scanner/layerBytesRead").asLong(), db.toString());
    assertEquals(layersBefore, db.at("/nodes/0/scanner/layersRead").asLong(), db.toString());
    String metrics = OciClient.text(client.get("/metrics"));
    assertTrue(metrics.contains("flotilla_scan_layer_read_bytes_total " + bytesBefore + ".0"), metrics.lines()
        .filter(l -> l.startsWith("flotilla_scan")).toList().toString());
  }

  @Test
  @Order(7)
  void aDatabaseThatIsNotOneFailsAndTheActiveOneStays() throws Exception {
    String active = vulndb().path("active").asText();
    String junk = ScanFixtures.database(client, "vulndb/osv", "latest", Images2.junk(4096));
    awaitThat(Duration.ofSeconds(60), () -> {
      JsonNode n = vulndb().at("/nodes/0");
      return junk.equals(n.path("digest").asText()) && "failed".equals(n.path("state").asText());
    }, () -> "the junk database fails: " + vulndb());
    JsonNode db = vulndb();
    assertTrue(db.at("/nodes/0/error").asText().contains("not a"), db.toString());
    assertEquals(active, db.path("active").asText());
    JsonNode r = data("{ CVEListForImage(image: \"app/alpine:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of("CVE-2099-0005 HIGH"), ids(r), r.toString());
  }

  @Test
  @Order(8)
  void badLayersFailTheirScansAndTheNodeStaysHealthy() throws Exception {
    byte[] whole = debianBase();
    byte[] truncated = java.util.Arrays.copyOf(whole, whole.length / 2);
    ScanFixtures.image(client, "bad/truncated", "1", "linux", "amd64", List.of(truncated));
    ScanFixtures.image(client, "bad/bomb", "1", "linux", "amd64", List.of(declaredBomb()));
    ScanFixtures.image(client, "bad/status", "1", "linux", "amd64", List.of(hugeStatus()));
    ScanFixtures.image(client, "bad/escape", "1", "linux", "amd64", List.of(layer()
        .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file("../../var/lib/dpkg/status", dpkg("libssl3", "3.0.11-1~deb12u1", "openssl")).gzip()));
    for (String[] c : List.of(new String[] {"bad/truncated:1", "TRUNCATED"}, new String[] {"bad/bomb:1", "TOO_LARGE"},
        new String[] {"bad/status:1", "TOO_LARGE"})) {
      JsonNode body = post("{ CVEListForImage(image: \"" + c[0] + "\") { Tag CVEList { Id } } }");
      String message = body.at("/errors/0/message").asText();
      assertTrue(message.contains(c[1]), c[0] + ": " + body);
      JsonNode img = data("{ Image(image: \"" + c[0] + "\") { Vulnerabilities { MaxSeverity } } }");
      assertEquals("", img.at("/Image/Vulnerabilities/MaxSeverity").asText(), "a failed scan is not a clean image");
    }
    // entries outside the root are ignored: the escaping status is not the image's
    JsonNode escape = data("{ CVEListForImage(image: \"bad/escape:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of(), ids(escape), escape.toString());
    assertEquals(200, client.get("/v2/").statusCode());
    JsonNode r = data("{ CVEListForImage(image: \"app/alpine:1\") { " + CVE_FIELDS + " } }").get("CVEListForImage");
    assertEquals(List.of("CVE-2099-0005 HIGH"), ids(r));
  }

  /** A gzip'd tar whose first entry declares 20 GiB (over the 16 GiB layer limit) and holds a few bytes. */
  static byte[] declaredBomb() throws Exception {
    TarArchiveEntry e = new TarArchiveEntry("var/lib/dpkg/status");
    e.setSize(20L << 30);
    byte[] header = new byte[512];
    // star mode: a size past octal's 8 GiB is written as a binary number, as GNU tar does
    e.writeEntryHeader(header, org.apache.commons.compress.archivers.zip.ZipEncodingHelper.getZipEncoding("UTF-8"), true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(header);
      gz.write(new byte[1 << 20]);
    }
    return out.toByteArray();
  }

  /** A gzip'd tar of a 65 MiB dpkg status (over the 64 MiB database limit) that compresses to little. */
  static byte[] hugeStatus() throws Exception {
    long size = 65L << 20;
    TarArchiveEntry e = new TarArchiveEntry("var/lib/dpkg/status");
    e.setSize(size);
    byte[] header = new byte[512];
    e.writeEntryHeader(header);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] stanza = dpkg("libx", "1.0", null).getBytes(StandardCharsets.UTF_8);
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(header);
      long left = size;
      while (left > 0) {
        int n = (int) Math.min(stanza.length, left);
        gz.write(stanza, 0, n);
        left -= n;
      }
      gz.write(new byte[(int) ((512 - size % 512) % 512) + 1024]);
    }
    return out.toByteArray();
  }

  /** Bytes that are no zip. */
  static final class Images2 {
    static byte[] junk(int n) {
      return io.flotilla.testing.Images.random(n, 42);
    }
  }
}
