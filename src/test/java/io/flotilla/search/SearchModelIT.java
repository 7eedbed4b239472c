package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.CveData;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import io.flotilla.testing.SearchData;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model test of search: the same data set (300 repositories; shared base layers, multi-arch
 * indexes, signatures, annotations) is pushed into one node and into three nodes at R=2, each a
 * process of its own. Every query, with every sort and many (limit, offset) pairs including the
 * edges, must answer byte-identical JSON from the single node and from every node of the cluster;
 * then again while the cluster rebalances onto a fourth node. Queries leave out the push and tag
 * times, the only values that depend on when the data was pushed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SearchModelIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int REPOS = 300;
  static final String IMAGE_FIELDS = "RepoName Tag Digest MediaType Size LastUpdated Description IsSigned "
      + "SignatureInfo { Tool IsTrusted Author } Licenses Labels Title Source Documentation Vendor Authors "
      + "Vulnerabilities { MaxSeverity Count } Referrers { MediaType ArtifactType Size Digest Annotations { Key Value } } "
      + "IsDeletable ArtifactType Manifests { Digest ConfigDigest LastUpdated Size IsSigned Platform { Os Arch } "
      + "Layers { Size Digest } History { Layer { Digest } HistoryDescription { Created CreatedBy EmptyLayer } } ArtifactType }";
  static final String REPO_FIELDS = "Name LastUpdated Size Platforms { Os Arch } Vendors StarCount IsStarred IsBookmarked "
      + "Rank NewestImage { " + IMAGE_FIELDS + " }";
  static final List<String> SORTS = List.of("RELEVANCE", "UPDATE_TIME", "ALPHABETIC_ASC", "ALPHABETIC_DSC");
  /** All; the first; the first pages; across the end; at the end; beyond it; limit 0 past the start; a middle page. */
  static final int[][] PAGES = {{0, 0}, {1, 0}, {10, 0}, {10, 10}, {7, 293}, {10, 300}, {3, 1000}, {0, 5}, {50, 120}};

  @TempDir
  static Path dir;
  static ProcessCluster single;
  static ProcessCluster cluster;

  @BeforeAll
  static void pushTheSameDataTwice() throws Exception {
    Map<String, String> env = Map.of("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2", "FLOTILLA_STORAGE_DELETE_ENABLED", "true");
    single = ProcessCluster.start(dir.resolve("one"), 1, "127.0.0.1", env);
    cluster = ProcessCluster.start(dir.resolve("three"), 3, "127.0.0.1", env);
    ExecutorService pushers = Executors.newFixedThreadPool(6);
    List<Future<?>> pushes = new ArrayList<>();
    int chunk = 25;
    for (int from = 0; from < REPOS; from += chunk) {
      int f = from;
      pushes.add(pushers.submit(() -> SearchData.push(new OciClient(single.node(0).url()), f, f + chunk)));
      pushes.add(pushers.submit(() -> SearchData.push(new OciClient(cluster.node((f / chunk) % 3).url()), f, f + chunk)));
    }
    // the CVE data set: images of real layers, scanned once the database below is active
    for (int from = 0; from < CVE_SETS; from += 8) {
      int f = from;
      pushes.add(pushers.submit(() -> CveData.push(new OciClient(single.node(0).url()), f, f + 8)));
      pushes.add(pushers.submit(() -> CveData.push(new OciClient(cluster.node((f / 8) % 3).url()), f, f + 8)));
    }
    for (Future<?> p : pushes) {
      p.get();
    }
    pushers.shutdown();
    CveData.pushDatabase(new OciClient(single.node(0).url()), CveData.database(1));
    CveData.pushDatabase(new OciClient(cluster.node(1).url()), CveData.database(1));
    for (String url : List.of(single.node(0).url(), cluster.node(0).url())) {
      io.flotilla.testing.Await.until("the CVE data set scanned", Duration.ofMinutes(3), () -> {
        for (int i = 0; i < CVE_SETS; i++) {
          String r = answer(url, "{ Image(image: \"" + CveData.repository(i) + ":2\") { Vulnerabilities { MaxSeverity } } }");
          if (r.contains("\"MaxSeverity\":\"\"") || r.contains("errors")) {
            return false;
          }
        }
        return true;
      });
    }
  }

  static final int CVE_SETS = 24;

  /** zot's CVE queries over the CVE data set, with their sorts and pages. */
  static List<String> cveQueries() {
    List<String> out = new ArrayList<>();
    String cve = "Tag Page { TotalCount ItemCount } CVEList { Id Title Description Severity Reference PackageList { "
        + "Name InstalledVersion FixedVersion PackagePath } } Summary { MaxSeverity Count UnknownCount LowCount MediumCount "
        + "HighCount CriticalCount }";
    for (int i : new int[] {0, 3, 4, 9, 17, 23}) {
      String repo = CveData.repository(i);
      for (String page : List.of("null", "{limit: 2, offset: 1, sortBy: SEVERITY}", "{limit: 3, offset: 0, sortBy: ALPHABETIC_DSC}")) {
        out.add("{ CVEListForImage(image: \"" + repo + ":1\", requestedPage: " + page + ") { " + cve + " } }");
      }
      out.add("{ CVEListForImage(image: \"" + repo + ":multi\") { " + cve + " } }");
      out.add("{ CVEListForImage(image: \"" + repo + ":2\", searchedCVE: \"10\", severity: \"HIGH\") { " + cve + " } }");
    }
    for (String id : List.of("CVE-2099-1000", "CVE-2099-1002", "CVE-2099-1003", "CVE-2099-1101", "CVE-2099-9999")) {
      for (String sort : SORTS) {
        for (int[] p : new int[][] {{0, 0}, {5, 0}, {5, 5}, {7, 30}, {10, 1000}}) {
          out.add("{ ImageListForCVE(id: \"" + id + "\", requestedPage: {limit: " + p[0] + ", offset: " + p[1] + ", sortBy: "
              + sort + "}) { Page { TotalCount ItemCount } Results { " + IMAGE_FIELDS + " } } }");
        }
      }
      out.add("{ ImageListForCVE(id: \"" + id + "\", filter: {Arch: [\"arm64\"]}) { Page { TotalCount ItemCount } "
          + "Results { RepoName Tag Digest } } }");
      out.add("{ ImageListWithCVEFixed(id: \"" + id + "\", image: \"" + CveData.repository(4) + "\") { Page { TotalCount "
          + "ItemCount } Results { RepoName Tag Digest } } }");
    }
    out.add("{ CVEDiffListForImages(minuend: {Repo: \"" + CveData.repository(1) + "\", Tag: \"1\"}, subtrahend: {Repo: \""
        + CveData.repository(2) + "\", Tag: \"2\"}) { Minuend { Repo Tag Digest } Subtrahend { Repo Tag Digest } "
        + "CVEList { Id Severity PackageList { Name InstalledVersion } } Summary { Count MaxSeverity } } }");
    out.add("{ ExpandedRepoInfo(repo: \"" + CveData.repository(8) + "\") { Images { " + IMAGE_FIELDS + " } } }");
    return out;
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (single != null) {
      single.close();
    }
  }

  /** Every query form, with every sort and page where it takes one. */
  static List<String> queries() {
    List<String> out = new ArrayList<>();
    String repo5 = SearchData.repository(5);
    List<String> paged = List.of(
        "RepoListWithNewestImage(requestedPage: %s) { Page { TotalCount ItemCount } Results { " + REPO_FIELDS + " } }",
        "GlobalSearch(query: \"\", requestedPage: %s) { Page { TotalCount ItemCount } Repos { " + REPO_FIELDS + " } Images { Tag } Layers { Digest } }",
        "GlobalSearch(query: \"nginx\", requestedPage: %s) { Page { TotalCount ItemCount } Repos { Name Rank LastUpdated } }",
        "GlobalSearch(query: \"team-b/tools/\", requestedPage: %s) { Page { TotalCount ItemCount } Repos { Name Rank } }",
        "GlobalSearch(query: \"o\", filter: {Arch: [\"arm/v7\"], Os: [\"LINUX\"]}, requestedPage: %s) { Page { TotalCount ItemCount } Repos { Name Rank Platforms { Arch } } }",
        "GlobalSearch(query: \"\", filter: {HasToBeSigned: true, IsStarred: false}, requestedPage: %s) { Page { TotalCount ItemCount } Repos { Name } }",
        "GlobalSearch(query: \":latest\", requestedPage: %s) { Page { TotalCount ItemCount } Images { " + IMAGE_FIELDS + " } }",
        "GlobalSearch(query: \":1\", filter: {Arch: [\"amd64\"]}, requestedPage: %s) { Page { TotalCount ItemCount } Images { RepoName Tag Digest } }",
        "GlobalSearch(query: \"" + repo5 + ":\", requestedPage: %s) { Page { TotalCount ItemCount } Images { RepoName Tag Digest } }",
        "ImageList(repo: \"\", requestedPage: %s) { Page { TotalCount ItemCount } Results { RepoName Tag Digest LastUpdated Size } }",
        "ImageList(repo: \"" + repo5 + "\", requestedPage: %s) { Page { TotalCount ItemCount } Results { " + IMAGE_FIELDS + " } }",
        "DerivedImageList(image: \"" + SearchData.repository(0) + ":latest\", requestedPage: %s) { Page { TotalCount ItemCount } Results { RepoName Tag Digest } }",
        "BaseImageList(image: \"" + SearchData.repository(7) + ":latest\", requestedPage: %s) { Page { TotalCount ItemCount } Results { RepoName Tag } }");
    for (String q : paged) {
      for (String sort : SORTS) {
        for (int[] p : PAGES) {
          out.add("{ " + String.format(q, "{limit: " + p[0] + ", offset: " + p[1] + ", sortBy: " + sort + "}") + " }");
        }
      }
      out.add("{ " + String.format(q, "null") + " }");
    }
    out.add("{ RepoListWithNewestImage(requestedPage: {limit: 10, sortBy: STARS}) { Page { TotalCount } Results { Name StarCount } } }");
    for (int i : new int[] {0, 1, 5, 11, 22, 33, 210, 299}) {
      String repo = SearchData.repository(i);
      out.add("{ ExpandedRepoInfo(repo: \"" + repo + "\") { Summary { " + REPO_FIELDS + " } Images { " + IMAGE_FIELDS + " } } }");
      out.add("{ Image(image: \"" + repo + ":latest\") { " + IMAGE_FIELDS + " } }");
    }
    out.add("{ ExpandedRepoInfo(repo: \"no/such\") { Summary { Name } } }");
    out.add("{ Image(image: \"" + SearchData.repository(3) + ":nope\") { Tag } }");
    out.add("{ GlobalSearch(query: \"a:b:c\") { Page { TotalCount } } }");
    return out;
  }

  static String answer(String url, String query) throws Exception {
    var r = new OciClient(url, Duration.ofSeconds(30)).send("POST", "/v2/_zot/ext/search",
        JSON.writeValueAsBytes(Map.of("query", query)), Map.of("Content-Type", "application/json"));
    assertEquals(200, r.statusCode(), query + " -> " + OciClient.text(r));
    return OciClient.text(r);
  }

  /** Asks the single node and every cluster node; returns how many answers were compared. */
  static int compare(List<String> queries, int clusterSize) throws Exception {
    int compared = 0;
    for (String q : queries) {
      String expected = answer(single.node(0).url(), q);
      for (int n = 0; n < clusterSize; n++) {
        assertEquals(expected, answer(cluster.node(n).url(), q), "node-" + n + ": " + q);
        compared++;
      }
    }
    return compared;
  }

  @Test
  @Order(1)
  void theDataSetIsWhatTheModelSays() throws Exception {
    JsonNode all = JSON.readTree(answer(single.node(0).url(), "{ RepoListWithNewestImage { Page { TotalCount } } "
        + "ImageList(repo: \"\") { Page { TotalCount } } }"));
    // the CVE data set's repositories too; the database's repository is not listed
    assertEquals(REPOS + CVE_SETS, all.at("/data/RepoListWithNewestImage/Page/TotalCount").asInt());
    assertTrue(all.at("/data/ImageList/Page/TotalCount").asInt() > REPOS * 2, all.toString());
    JsonNode derived = JSON.readTree(answer(single.node(0).url(), queries().stream()
        .filter(q -> q.contains("DerivedImageList")).findFirst().orElseThrow()));
    assertTrue(derived.at("/data/DerivedImageList/Page/TotalCount").asInt() > REPOS, derived.toString());
    assertFalse(answer(single.node(0).url(), "{ Image(image: \"" + SearchData.repository(0) + ":latest\") { Tag } }")
        .contains("errors"));
  }

  @Test
  @Order(2)
  void everyQueryAnswersTheSameFromOneNodeAndFromEveryNodeOfThree() throws Exception {
    List<String> queries = queries();
    assertTrue(queries.size() > 450);
    assertEquals(queries.size() * 3, compare(queries, 3));
  }

  @Test
  @Order(2)
  void everyCveQueryAnswersTheSameFromOneNodeAndFromEveryNodeOfThree() throws Exception {
    List<String> queries = cveQueries();
    String some = answer(single.node(0).url(), queries.get(0));
    assertTrue(some.contains("CVE-2099-10"), some);
    assertTrue(answer(single.node(0).url(), "{ ImageListForCVE(id: \"CVE-2099-1000\") { Page { TotalCount } } }")
        .matches(".*\"TotalCount\":[1-9][0-9]*.*"), "the data set has vulnerable images");
    assertEquals(queries.size() * 3, compare(queries, 3));
  }

  @Test
  @Order(3)
  void andWhileTheClusterRebalancesOntoAFourthNode() throws Exception {
    cluster.add();
    cluster.awaitMembers(4);
    List<String> queries = queries();
    List<String> sample = new ArrayList<>();
    for (int i = 0; i < queries.size(); i += 9) {
      sample.add(queries.get(i));
    }
    // while node-3 catches up, then again once the cluster settled: each round asks all four nodes
    for (int round = 0; round < 2; round++) {
      compare(sample, 4);
    }
    awaitSettled();
    compare(sample, 4);
    // the new primaries took over the results the old owners held (or scanned what they lacked)
    io.flotilla.testing.Await.until("CVE answers alike on four nodes", Duration.ofMinutes(2), () -> {
      try {
        compare(cveQueries(), 4);
        return true;
      } catch (AssertionError e) {
        return false;
      }
    });
  }

  @Test
  @Order(4)
  void aMemberThatDoesNotAnswerIsNamedNotHidden() throws Exception {
    long pid = cluster.node(3).pid();
    new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor();
    try {
      var r = new OciClient(cluster.node(0).url(), Duration.ofSeconds(60)).send("POST", "/v2/_zot/ext/search",
          JSON.writeValueAsBytes(Map.of("query", "{ RepoListWithNewestImage { Page { TotalCount } Results { Name } } }")),
          Map.of("Content-Type", "application/json"));
      assertEquals(200, r.statusCode());
      JsonNode body = JSON.readTree(r.body());
      assertTrue(body.at("/errors/0/message").asText().contains("node-3"), body.at("/errors").toString());
      int total = body.at("/data/RepoListWithNewestImage/Page/TotalCount").asInt();
      assertTrue(total < REPOS + CVE_SETS, "node-3's repositories are missing, and the answer says so: " + total);
      assertEquals(total, body.at("/data/RepoListWithNewestImage/Results").size());
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
    }
  }

  /** Waits until no node reports a running rebalance or pending copies. */
  static void awaitSettled() throws Exception {
    io.flotilla.testing.Await.until("the rebalance onto node-3 settled", Duration.ofMinutes(3), () -> {
      for (int n = 0; n < 4; n++) {
        JsonNode status = JSON.readTree(new OciClient(cluster.node(n).url()).get("/api/v1/cluster").body());
        JsonNode r = status.path("rebalancing");
        if (status.path("members").size() != 4 || r.path("running").asBoolean() || r.path("pending").asInt() > 0) {
          return false;
        }
      }
      return true;
    });
  }
}
