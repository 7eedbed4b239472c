package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.cluster.Placement;
import io.flotilla.testing.Await;
import io.flotilla.testing.CveData;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scanning in a cluster of three processes at R=2: the database pushed once and switched to on every
 * node together; images scanned on their primaries and answered alike through every node; a primary
 * killed, its repositories answered by the other owner from the results it was handed (no scan); and
 * a second database rolled out to the survivors with no layer read.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScanClusterIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int SETS = 16;
  @TempDir
  static Path dir;
  static ProcessCluster cluster;
  static List<String> repos;

  @BeforeAll
  static void start() throws Exception {
    cluster = ProcessCluster.start(dir, 3, "127.0.0.1", Map.of("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2"));
    repos = new ArrayList<>();
    for (int n = 0; n < 3; n++) {
      repos.addAll(CveData.push(new OciClient(cluster.node(n).url()), n * SETS / 3, (n + 1) * SETS / 3));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static JsonNode post(int node, String query) throws Exception {
    var r = new OciClient(cluster.node(node).url(), Duration.ofSeconds(30)).send("POST", "/v2/_zot/ext/search",
        JSON.writeValueAsBytes(Map.of("query", query)), Map.of("Content-Type", "application/json"));
    assertEquals(200, r.statusCode(), OciClient.text(r));
    return JSON.readTree(r.body());
  }

  static JsonNode vulndb(int node) throws Exception {
    return JSON.readTree(new OciClient(cluster.node(node).url()).get("/api/v1/vulndb").body());
  }

  static JsonNode state(JsonNode db, String node) {
    for (JsonNode n : db.path("nodes")) {
      if (node.equals(n.path("node").asText())) {
        return n;
      }
    }
    return JSON.createObjectNode();
  }

  /** The repository's primary owner among {@code nodes}: the highest placement score. */
  static String primary(String repo, List<String> nodes) {
    return nodes.stream().max(Comparator.<String>comparingLong(n -> Placement.score(n, repo) ^ Long.MIN_VALUE)
        .thenComparing(Comparator.<String>reverseOrder())).orElseThrow();
  }

  static void awaitActive(List<Integer> nodes, String digest) throws Exception {
    Await.until("database " + digest + " active everywhere", Duration.ofSeconds(90), () -> {
      for (int n : nodes) {
        if (!digest.equals(vulndb(n).path("active").asText())) {
          return false;
        }
      }
      return true;
    });
  }

  static void awaitScanned(int node) throws Exception {
    Await.until("every image scanned", Duration.ofSeconds(120), () -> {
      for (String repo : repos) {
        JsonNode img = post(node, "{ Image(image: \"" + repo + ":1\") { Vulnerabilities { MaxSeverity } } }");
        if (img.at("/data/Image/Vulnerabilities/MaxSeverity").asText().isEmpty()) {
          return false;
        }
      }
      return true;
    });
  }

  static List<String> queries() {
    List<String> out = new ArrayList<>();
    String fields = "Tag Page { TotalCount ItemCount } CVEList { Id Title Description Severity Reference "
        + "PackageList { Name InstalledVersion FixedVersion PackagePath } } Summary { MaxSeverity Count LowCount "
        + "MediumCount HighCount CriticalCount }";
    for (String repo : repos) {
      out.add("{ CVEListForImage(image: \"" + repo + ":1\") { " + fields + " } }");
      out.add("{ CVEListForImage(image: \"" + repo + ":2\", requestedPage: {limit: 2, offset: 1, sortBy: ALPHABETIC_ASC}) { "
          + fields + " } }");
    }
    for (String id : List.of("CVE-2099-1000", "CVE-2099-1001", "CVE-2099-1003", "CVE-2099-1100", "CVE-2099-1200")) {
      for (String page : List.of("null", "{limit: 3, offset: 0, sortBy: ALPHABETIC_ASC}",
          "{limit: 4, offset: 5, sortBy: ALPHABETIC_DSC}", "{limit: 0, offset: 0, sortBy: UPDATE_TIME}")) {
        out.add("{ ImageListForCVE(id: \"" + id + "\", requestedPage: " + page + ") { Page { TotalCount ItemCount } "
            + "Results { RepoName Tag Digest Vulnerabilities { MaxSeverity Count } } } }");
      }
      out.add("{ ImageListWithCVEFixed(id: \"" + id + "\", image: \"" + repos.get(1) + "\") { Page { TotalCount ItemCount } "
          + "Results { RepoName Tag } } }");
    }
    out.add("{ CVEDiffListForImages(minuend: {Repo: \"" + repos.get(2) + "\", Tag: \"1\"}, subtrahend: {Repo: \""
        + repos.get(3) + "\", Tag: \"2\"}) { Minuend { Repo Tag Digest } Subtrahend { Repo Tag } CVEList { Id Severity } } }");
    return out;
  }

  static Map<String, String> answers(int node) throws Exception {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (String q : queries()) {
      JsonNode body = post(node, q);
      assertFalse(body.has("errors"), q + " -> " + body);
      out.put(q, body.toString());
    }
    return out;
  }

  static Map<String, String> before;

  @Test
  @Order(1)
  void theDatabaseIsSwitchedToEverywhereAndEveryNodeAnswersAlike() throws Exception {
    JsonNode disabled = post(1, "{ CVEListForImage(image: \"" + repos.get(0) + ":1\") { Tag } }");
    assertEquals("cve search is disabled", disabled.at("/errors/0/message").asText(), disabled.toString());
    String v1 = CveData.pushDatabase(new OciClient(cluster.node(1).url()), CveData.database(1));
    awaitActive(List.of(0, 1, 2), v1);
    awaitScanned(0);
    before = answers(0);
    assertEquals(before, answers(1));
    assertEquals(before, answers(2));
    JsonNode list = post(2, "{ ImageListForCVE(id: \"CVE-2099-1000\") { Page { TotalCount } } }");
    assertTrue(list.at("/data/ImageListForCVE/Page/TotalCount").asInt() > 0, list.toString());
    // each node compiled the same database: all ready with it
    JsonNode db = vulndb(0);
    for (int n = 0; n < 3; n++) {
      JsonNode s = state(db, "node-" + n);
      assertEquals("ready", s.path("state").asText(), db.toString());
      assertEquals(v1, s.path("digest").asText());
    }
  }

  @Test
  @Order(2)
  void aKilledPrimarysRepositoriesAreAnsweredByTheOtherOwnerWithoutAScan() throws Exception {
    List<String> names = List.of("node-0", "node-1", "node-2");
    String victimName = primary(repos.get(0), names);
    int victim = names.indexOf(victimName);
    List<Integer> survivors = new ArrayList<>(List.of(0, 1, 2));
    survivors.remove(Integer.valueOf(victim));
    JsonNode db = vulndb(survivors.get(0));
    Map<String, Long> scansBefore = new java.util.HashMap<>();
    for (int s : survivors) {
      scansBefore.put("node-" + s, state(db, "node-" + s).at("/scanner/layersRead").asLong());
    }
    cluster.node(victim).kill9();
    cluster.awaitMembers(2);
    for (int s : survivors) {
      Map<String, String> now = new java.util.LinkedHashMap<>();
      for (String q : queries()) {
        JsonNode body = post(s, q);
        assertFalse(body.has("errors"), q + " -> " + body);
        now.put(q, body.toString());
      }
      assertEquals(before, now, "node-" + s + " after node-" + victim + " died");
    }
    JsonNode after = vulndb(survivors.get(0));
    for (int s : survivors) {
      assertEquals(scansBefore.get("node-" + s), state(after, "node-" + s).at("/scanner/layersRead").asLong(),
          "node-" + s + " read no layer to answer for the dead primary: " + after);
    }
  }

  @Test
  @Order(3)
  void aSecondDatabaseRollsOutToTheSurvivorsWithoutReadingALayer() throws Exception {
    List<Integer> alive = new ArrayList<>();
    for (int n = 0; n < 3; n++) {
      if (cluster.node(n).alive()) {
        alive.add(n);
      }
    }
    int asker = alive.get(0);
    JsonNode db = vulndb(asker);
    Map<Integer, Long> bytes = new java.util.HashMap<>();
    for (int n : alive) {
      bytes.put(n, state(db, "node-" + n).at("/scanner/layerBytesRead").asLong());
    }
    String v2 = CveData.pushDatabase(new OciClient(cluster.node(asker).url()), CveData.database(2));
    awaitActive(alive, v2);
    Await.until("CVE-2099-1200 found", Duration.ofSeconds(60), () -> post(asker,
        "{ ImageListForCVE(id: \"CVE-2099-1200\") { Page { TotalCount } } }")
        .at("/data/ImageListForCVE/Page/TotalCount").asInt() > 0);
    Map<String, String> first = null;
    for (int n : alive) {
      Map<String, String> a = answers(n);
      if (first == null) {
        first = a;
      } else {
        assertEquals(first, a, "node-" + n);
      }
    }
    assertNotEquals(before, first, "the second database changed the answers");
    JsonNode after = vulndb(asker);
    for (int n : alive) {
      assertEquals(bytes.get(n), state(after, "node-" + n).at("/scanner/layerBytesRead").asLong(), after.toString());
    }
  }
}
