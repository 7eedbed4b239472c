package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.SearchData;
import io.flotilla.testing.TestNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zot's search API on one node, end to end: a data set pushed through the distribution API, then
 * every query over HTTP (POST and GET), checked against what was pushed and against zot's rules.
 */
class SearchIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int REPOS = 36;
  @TempDir
  static Path dir;
  static TestNode node;
  static OciClient client;
  static List<String> repos;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir, Map.of("storage.deleteEnabled", "true"));
    client = new OciClient(node.url());
    repos = SearchData.push(client, 0, REPOS);
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  static JsonNode post(String query) throws Exception {
    var r = client.send("POST", "/v2/_zot/ext/search", JSON.writeValueAsBytes(Map.of("query", query)),
        Map.of("Content-Type", "application/json"));
    assertEquals(200, r.statusCode(), OciClient.text(r));
    JsonNode body = JSON.readTree(r.body());
    return body;
  }

  static JsonNode data(String query) throws Exception {
    JsonNode body = post(query);
    assertFalse(body.has("errors"), body.toString());
    return body.get("data");
  }

  static String error(String query) throws Exception {
    JsonNode body = post(query);
    assertTrue(body.has("errors"), body.toString());
    return body.at("/errors/0/message").asText();
  }

  static List<String> texts(JsonNode list, String field) {
    List<String> out = new ArrayList<>();
    list.forEach(n -> out.add(n.path(field).asText()));
    return out;
  }

  @Test
  void repoListHasEveryRepositoryNewestFirst() throws Exception {
    JsonNode r = data("{ RepoListWithNewestImage { Page { TotalCount ItemCount } Results { Name LastUpdated Size "
        + "Platforms { Os Arch } Vendors NewestImage { Tag Digest LastUpdated } StarCount IsStarred } } }")
        .get("RepoListWithNewestImage");
    assertEquals(REPOS, r.at("/Page/TotalCount").asInt());
    assertEquals(REPOS, r.at("/Page/ItemCount").asInt());
    List<String> times = texts(r.get("Results"), "LastUpdated");
    List<String> sorted = new ArrayList<>(times);
    sorted.sort(java.util.Comparator.reverseOrder()); // same length and zone: string order is time order
    assertEquals(sorted, times, "UPDATE_TIME: newest first");
    assertEquals(new java.util.TreeSet<>(repos), new java.util.TreeSet<>(texts(r.get("Results"), "Name")));
    for (JsonNode repo : r.get("Results")) {
      assertTrue(repo.at("/Size").asLong() > 0);
      assertTrue(repo.at("/LastUpdated").asText().startsWith("2031-"), repo.toString());
      assertFalse(repo.at("/NewestImage/Digest").asText().isEmpty());
      assertTrue(repo.get("Vendors").get(0).asText().startsWith("vendor-"));
    }
  }

  @Test
  void pagesWalkTheWholeOrderedList() throws Exception {
    String all = "{ RepoListWithNewestImage(requestedPage: {limit: 0, offset: 0, sortBy: ALPHABETIC_DSC}) { Results { Name } } }";
    List<String> whole = texts(data(all).at("/RepoListWithNewestImage/Results"), "Name");
    List<String> walked = new ArrayList<>();
    for (int offset = 0; offset < REPOS + 5; offset += 7) {
      JsonNode page = data("{ RepoListWithNewestImage(requestedPage: {limit: 7, offset: " + offset
          + ", sortBy: ALPHABETIC_DSC}) { Page { TotalCount ItemCount } Results { Name } } }").get("RepoListWithNewestImage");
      assertEquals(REPOS, page.at("/Page/TotalCount").asInt());
      walked.addAll(texts(page.get("Results"), "Name"));
    }
    assertEquals(whole, walked);
    List<String> expected = new ArrayList<>(repos);
    expected.sort(java.util.Comparator.reverseOrder());
    assertEquals(expected, whole);

    // images: pages past the deep-page offset take two rounds (keys, then the page's hits in full)
    String allImages = "{ ImageList(repo: \"\", requestedPage: {limit: 0, offset: 0, sortBy: UPDATE_TIME}) "
        + "{ Page { TotalCount } Results { RepoName Tag Digest Size } } }";
    JsonNode everything = data(allImages).at("/ImageList/Results");
    assertTrue(everything.size() > 70, "more images than the deep-page offset");
    List<JsonNode> pagedImages = new ArrayList<>();
    for (int offset = 0; offset < everything.size() + 3; offset += 9) {
      JsonNode page = data("{ ImageList(repo: \"\", requestedPage: {limit: 9, offset: " + offset
          + ", sortBy: UPDATE_TIME}) { Page { TotalCount ItemCount } Results { RepoName Tag Digest Size } } }").get("ImageList");
      assertEquals(everything.size(), page.at("/Page/TotalCount").asInt());
      page.get("Results").forEach(pagedImages::add);
    }
    List<JsonNode> wholeImages = new ArrayList<>();
    everything.forEach(wholeImages::add);
    assertEquals(wholeImages, pagedImages);
  }

  @Test
  void globalSearchRanksRepositoryNames() throws Exception {
    JsonNode r = data("{ GlobalSearch(query: \"nginx\") { Page { TotalCount } Repos { Name Rank } Images { Tag } Layers { Digest } } }")
        .get("GlobalSearch");
    List<String> names = texts(r.get("Repos"), "Name");
    assertFalse(names.isEmpty());
    assertTrue(names.stream().allMatch(n -> n.contains("nginx")), names.toString());
    assertEquals(names.size(), r.at("/Page/TotalCount").asInt());
    assertEquals(0, r.get("Images").size());
    assertEquals(0, r.get("Layers").size());
    int last = -1;
    for (JsonNode n : r.get("Repos")) {
      assertTrue(n.get("Rank").asInt() >= last, "RELEVANCE: best rank first");
      last = n.get("Rank").asInt();
    }
    String repo = repos.get(5);
    JsonNode tags = data("{ GlobalSearch(query: \"" + repo + ":1\") { Page { TotalCount } Images { RepoName Tag } Repos { Name } } }")
        .get("GlobalSearch");
    assertTrue(texts(tags.get("Images"), "Tag").stream().allMatch(t -> t.startsWith("1")), tags.toString());
    assertEquals(0, tags.get("Repos").size());
    JsonNode latest = data("{ GlobalSearch(query: \":latest\") { Page { TotalCount } Images { RepoName Tag } } }").get("GlobalSearch");
    assertEquals(REPOS, latest.at("/Page/TotalCount").asInt(), "every repository has a latest tag");
    assertEquals("invalid search query", error("{ GlobalSearch(query: \"foo@bar\") { Page { TotalCount } } }"));
    assertTrue(error("{ GlobalSearch(query: \"a:b:c\") { Page { TotalCount } } }").contains("invalid image reference format"));
  }

  @Test
  void filtersByPlatformAndSignature() throws Exception {
    JsonNode arm = data("{ GlobalSearch(query: \"\", filter: {Arch: [\"ARM/v7\"]}) { Page { TotalCount } Repos { Name Platforms { Arch } } } }")
        .get("GlobalSearch");
    assertTrue(arm.at("/Page/TotalCount").asInt() > 0);
    for (JsonNode r : arm.get("Repos")) {
      assertTrue(r.get("Platforms").toString().contains("arm/v7"), r.toString());
    }
    JsonNode signed = data("{ GlobalSearch(query: \"\", filter: {HasToBeSigned: true}) { Page { TotalCount } Repos { Name NewestImage { IsSigned } } } }")
        .get("GlobalSearch");
    for (JsonNode r : signed.get("Repos")) {
      assertTrue(r.at("/NewestImage/IsSigned").asBoolean(), r.toString());
    }
    assertTrue(signed.at("/Page/TotalCount").asInt() > 0, "repositories 0, 11, 22, 33 have a signed newest image");
  }

  @Test
  void imageSummariesComeFromManifestsAndConfigs() throws Exception {
    String repo = SearchData.repository(0); // described, cosign-signed first image, index, notation referrer
    JsonNode img = data("{ Image(image: \"" + repo + ":latest\") { RepoName Tag Digest MediaType Size LastUpdated Description "
        + "Licenses Source Vendor IsSigned SignatureInfo { Tool IsTrusted } Vulnerabilities { MaxSeverity Count } IsDeletable "
        + "Manifests { Digest ConfigDigest Size Platform { Os Arch } Layers { Digest Size } "
        + "History { Layer { Digest } HistoryDescription { CreatedBy EmptyLayer } } } } }").get("Image");
    assertEquals(repo, img.get("RepoName").asText());
    assertEquals("described " + repo, img.get("Description").asText(), "annotations before labels");
    assertEquals("Apache-2.0", img.get("Licenses").asText());
    assertEquals("vendor-0", img.get("Vendor").asText(), "config labels");
    assertTrue(img.get("IsSigned").asBoolean(), "a cosign signature tag");
    assertEquals("cosign", img.at("/SignatureInfo/0/Tool").asText());
    assertEquals("", img.at("/Vulnerabilities/MaxSeverity").asText(), "not scanned");
    assertTrue(img.get("IsDeletable").asBoolean(), "no access control and deletes enabled");
    assertEquals("linux", img.at("/Manifests/0/Platform/Os").asText());
    long sum = 0;
    for (JsonNode l : img.at("/Manifests/0/Layers")) {
      sum += l.get("Size").asLong();
    }
    assertTrue(img.get("Size").asLong() > sum, "manifest + config + layers");
    assertEquals("ADD base", img.at("/Manifests/0/History/0/HistoryDescription/CreatedBy").asText());
    assertTrue(img.at("/Manifests/0/History/1/HistoryDescription/EmptyLayer").asBoolean());
    String latest = data("{ Image(image: \"" + SearchData.repository(1) + ":latest\") { Description } }").at("/Image/Description").asText();
    assertEquals("label-schema text 1", latest, "label-schema when nothing else has it");

    JsonNode multi = data("{ Image(image: \"" + repo + ":multi\") { MediaType Title Manifests { Platform { Os Arch } } } }").get("Image");
    assertEquals("application/vnd.oci.image.index.v1+json", multi.get("MediaType").asText());
    assertEquals("multi " + repo, multi.get("Title").asText());
    assertEquals("amd64", multi.at("/Manifests/0/Platform/Arch").asText());
    assertEquals("arm64/v8", multi.at("/Manifests/1/Platform/Arch").asText(), "the variant joins the architecture");

    JsonNode list = data("{ ImageList(repo: \"" + repo + "\") { Page { TotalCount } Results { Tag } } }").get("ImageList");
    assertEquals(List.of("latest", "multi"), texts(list.get("Results"), "Tag"), "RELEVANCE: by tag; signature tags are not images");

    JsonNode info = data("{ ExpandedRepoInfo(repo: \"" + repo + "\") { Summary { Name Size } Images { Tag } } }").get("ExpandedRepoInfo");
    assertEquals(repo, info.at("/Summary/Name").asText());
    assertEquals(List.of("multi", "latest"), texts(info.get("Images"), "Tag"), "newest first");
  }

  @Test
  void referrersAndSignaturesByReferrer() throws Exception {
    String repo = SearchData.repository(11);
    JsonNode latest = data("{ Image(image: \"" + repo + ":latest\") { Digest IsSigned SignatureInfo { Tool } Referrers { ArtifactType } } }")
        .get("Image");
    assertTrue(latest.get("IsSigned").asBoolean());
    assertEquals("notation", latest.at("/SignatureInfo/0/Tool").asText());
    JsonNode refs = data("{ Referrers(repo: \"" + repo + "\", digest: \"" + latest.get("Digest").asText() + "\", type: \"\") "
        + "{ MediaType ArtifactType Digest Size Annotations { Key Value } } }").get("Referrers");
    assertEquals(1, refs.size());
    assertEquals("application/vnd.cns.notary.signature", refs.at("/0/ArtifactType").asText());
    JsonNode none = data("{ Referrers(repo: \"" + repo + "\", digest: \"" + latest.get("Digest").asText()
        + "\", type: [\"application/x-other\"]) { Digest } }").get("Referrers");
    assertEquals(0, none.size());
    assertTrue(error("{ Referrers(repo: \"" + repo + "\", digest: \"nope\") { Digest } }").startsWith("bad digest string"));
  }

  @Test
  void baseAndDerivedImagesCrossRepositories() throws Exception {
    // repository 0's latest is base 0 (shared layer 0 alone): every other image starts with that layer
    String base = SearchData.repository(0) + ":latest";
    JsonNode derived = data("{ DerivedImageList(image: \"" + base + "\") { Page { TotalCount } Results { RepoName Tag } } }")
        .get("DerivedImageList");
    assertTrue(derived.at("/Page/TotalCount").asInt() > 10, derived.toString());
    String top = SearchData.repository(3) + ":latest"; // base 3: shared layers 0..3
    JsonNode bases = data("{ BaseImageList(image: \"" + top + "\", requestedPage: {sortBy: ALPHABETIC_ASC}) "
        + "{ Page { TotalCount } Results { RepoName Tag } } }").get("BaseImageList");
    assertEquals(List.of(SearchData.repository(0), SearchData.repository(1), SearchData.repository(2)),
        texts(bases.get("Results"), "RepoName"), bases.toString());
    // an index: its own manifests are never its base or derivative (zot's UI found this in a check)
    String multi = SearchData.repository(0) + ":multi";
    JsonNode indexBases = data("{ BaseImageList(image: \"" + multi + "\", requestedPage: {sortBy: ALPHABETIC_ASC}) "
        + "{ Results { RepoName Tag } } }").get("BaseImageList");
    List<String> found = new ArrayList<>();
    indexBases.get("Results").forEach(n -> found.add(n.get("RepoName").asText() + ":" + n.get("Tag").asText()));
    assertEquals(List.of(SearchData.repository(3) + ":latest", SearchData.repository(0) + ":latest",
        SearchData.repository(1) + ":1.0", SearchData.repository(2) + ":1.0"), found, "the four bases, alphabetically");
    assertEquals(0, data("{ DerivedImageList(image: \"" + multi + "\") { Page { TotalCount } } }")
        .at("/DerivedImageList/Page/TotalCount").asInt());
    assertEquals("no reference provided", error("{ DerivedImageList(image: \"norepo\") { Page { TotalCount } } }"));
    assertEquals("can't find image: " + SearchData.repository(0) + ":nope",
        error("{ DerivedImageList(image: \"" + SearchData.repository(0) + ":nope\") { Page { TotalCount } } }"));
  }

  @Test
  void digestSearchFindsSharedLayers() throws Exception {
    String repo = SearchData.repository(2);
    JsonNode img = data("{ Image(image: \"" + repo + ":latest\") { Digest Manifests { Layers { Digest } } } }").get("Image");
    String shared = img.at("/Manifests/0/Layers/0/Digest").asText();
    JsonNode found = data("{ ImageListForDigest(id: \"" + shared + "\") { Page { TotalCount } Results { RepoName Tag } } }")
        .get("ImageListForDigest");
    assertTrue(found.at("/Page/TotalCount").asInt() > REPOS, "the first shared layer is in nearly every image");
    JsonNode byDigest = data("{ GlobalSearch(query: \"" + img.get("Digest").asText() + "\") { Images { RepoName Tag } } }")
        .get("GlobalSearch");
    assertEquals(repo, byDigest.at("/Images/0/RepoName").asText());
  }

  @Test
  void errorsAreZotsAndBadRequestsAre422() throws Exception {
    assertEquals("no reference provided", error("{ Image(image: \"x\") { Tag } }"));
    assertEquals("repo metadata not found for given repo name", error("{ Image(image: \"no/such:1\") { Tag } }"));
    assertEquals("repo metadata not found for given repo name", error("{ ExpandedRepoInfo(repo: \"no/such\") { Summary { Name } } }"));
    assertEquals("pagination limit has negative value",
        error("{ RepoListWithNewestImage(requestedPage: {limit: -1}) { Page { TotalCount } } }"));
    assertTrue(error("{ RepoListWithNewestImage(requestedPage: {sortBy: SEVERITY}) { Page { TotalCount } } }")
        .contains("not supported"));
    assertTrue(error("{ GlobalSearch(query: \"" + "x".repeat(10_000) + "\") { Page { TotalCount } } }").contains("256"));
    JsonNode empty = data("{ ImageList(repo: \"no/such\") { Page { TotalCount } Results { Tag } } }").get("ImageList");
    assertEquals(0, empty.at("/Page/TotalCount").asInt());

    var unknownField = client.send("POST", "/v2/_zot/ext/search",
        JSON.writeValueAsBytes(Map.of("query", "{ RepoListWithNewestImage { Results { NoSuchField } } }")),
        Map.of("Content-Type", "application/json"));
    assertEquals(422, unknownField.statusCode());
    assertEquals("GRAPHQL_VALIDATION_FAILED", JSON.readTree(unknownField.body()).at("/errors/0/extensions/code").asText());
    var broken = client.get("/v2/_zot/ext/search?query=" + URLEncoder.encode("{ RepoListWithNewestImage {", StandardCharsets.UTF_8));
    assertEquals(422, broken.statusCode());
    assertEquals("GRAPHQL_PARSE_FAILED", JSON.readTree(broken.body()).at("/errors/0/extensions/code").asText());
    String deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType "
        + "{ ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } } } } } } } }";
    var tooDeep = client.send("POST", "/v2/_zot/ext/search", JSON.writeValueAsBytes(Map.of("query", deep)),
        Map.of("Content-Type", "application/json"));
    assertEquals(422, tooDeep.statusCode(), OciClient.text(tooDeep));
    StringBuilder aliases = new StringBuilder("{");
    for (int i = 0; i < 300; i++) {
      aliases.append(" a").append(i).append(": RepoListWithNewestImage { Results { Name Size Vendors } }");
    }
    var tooMany = client.send("POST", "/v2/_zot/ext/search", JSON.writeValueAsBytes(Map.of("query", aliases + "}")),
        Map.of("Content-Type", "application/json"));
    assertEquals(422, tooMany.statusCode(), "aliases multiplying a field count against the complexity limit");
  }

  @Test
  void zliIntrospectionSeesZotsArgumentsInOrder() throws Exception {
    JsonNode fields = data("{ __schema { queryType { fields { name args { name } type { name kind } } } } }")
        .at("/__schema/queryType/fields");
    Map<String, List<String>> args = new java.util.HashMap<>();
    fields.forEach(f -> args.put(f.get("name").asText(), texts(f.get("args"), "name")));
    assertEquals(List.of("repo", "requestedPage"), args.get("ImageList"));
    assertEquals(List.of("id", "requestedPage"), args.get("ImageListForDigest"));
    assertEquals(List.of("image", "digest", "requestedPage"), args.get("BaseImageList"));
    assertEquals(List.of("image", "digest", "requestedPage"), args.get("DerivedImageList"));
    assertEquals(List.of("repo", "digest", "type"), args.get("Referrers"));
    assertEquals(List.of("query", "filter", "requestedPage"), args.get("GlobalSearch"));
    assertEquals(List.of("image", "requestedPage", "searchedCVE", "excludedCVE", "severity"), args.get("CVEListForImage"));
    assertEquals(List.of("minuend", "subtrahend", "requestedPage", "searchedCVE", "excludedCVE"),
        args.get("CVEDiffListForImages"));
    assertEquals(List.of("id", "filter", "requestedPage"), args.get("ImageListForCVE"));
    assertEquals(List.of("id", "image", "filter", "requestedPage"), args.get("ImageListWithCVEFixed"));
    // this node has no vulnerability database: the CVE queries answer zot's error, data null
    JsonNode body = post("{ CVEListForImage(image: \"" + repos.get(0) + ":v1\") { Tag CVEList { Id } } }");
    assertTrue(body.get("data").isNull(), body.toString());
    assertEquals("cve search is disabled", body.at("/errors/0/message").asText());
    assertEquals("CVEListForImage", body.at("/errors/0/path/0").asText());
  }

  @Test
  void newPushesAndDeletesShowAtOnce() throws Exception {
    String repo = "fresh/one";
    io.flotilla.testing.Images.push(client, repo, "v1", 1, 99);
    JsonNode r = data("{ ImageList(repo: \"" + repo + "\") { Page { TotalCount } Results { Tag } } }").get("ImageList");
    assertEquals(1, r.at("/Page/TotalCount").asInt());
    var del = client.send("DELETE", "/v2/" + repo + "/manifests/v1", null, Map.of());
    assertEquals(202, del.statusCode(), OciClient.text(del));
    r = data("{ ImageList(repo: \"" + repo + "\") { Page { TotalCount } } }").get("ImageList");
    assertEquals(0, r.at("/Page/TotalCount").asInt());
    assertNotNull(r);
  }

  @Test
  void inClusterConsumersAskTheSameApiOnTheBus() throws Exception {
    var ctx = new io.flotilla.storage.RequestContext("bus-test", "someone", "", "", "BUS", "test");
    var call = new io.flotilla.bus.Messages.SearchGraphQlRequest(ctx,
        "query Q($r: String!) { ImageList(repo: $r) { Page { TotalCount } } }", "Q", Map.of("r", repos.get(4)));
    var answer = io.flotilla.bus.Bus.request(node.node().vertx(), io.flotilla.bus.Addresses.SEARCH_GRAPHQL,
        node.node().config().nodeName(), true, call).toCompletionStage().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertEquals(200, answer.status());
    String expected = post("{ ImageList(repo: \"" + repos.get(4) + "\") { Page { TotalCount } } }").toString();
    assertEquals(expected, JSON.readTree(answer.json()).toString());
  }

  /** A GET as a browser sends zot's UI's URL: braces, colons, parentheses and commas raw; spaces and quotes encoded. */
  static JsonNode browserGet(String query) throws Exception {
    String target = "/v2/_zot/ext/search?query=" + query.replace("%", "%25").replace(" ", "%20").replace("\"", "%22");
    java.net.URI base = java.net.URI.create(node.url());
    try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(30_000);
      socket.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: " + base.getHost() + "\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(response.startsWith("HTTP/1.1 200"), response.substring(0, Math.min(300, response.length())));
      String body = response.substring(response.indexOf("\r\n\r\n") + 4);
      if (response.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
        StringBuilder b = new StringBuilder();
        int at = 0;
        while (true) {
          int eol = body.indexOf("\r\n", at);
          int size = Integer.parseInt(body.substring(at, eol).trim(), 16);
          if (size == 0) {
            break;
          }
          b.append(body, eol + 2, eol + 2 + size);
          at = eol + 2 + size + 2;
        }
        body = b.toString();
      }
      JsonNode json = JSON.readTree(body);
      assertFalse(json.has("errors"), json.toString());
      return json.get("data");
    }
  }

  @Test
  void queriesWrittenAsZotsUiWritesThem() throws Exception {
    String repo = SearchData.repository(0);
    JsonNode home = browserGet("{RepoListWithNewestImage(requestedPage: {limit:15 offset:0}){Results {Name LastUpdated "
        + "Size Platforms {Os Arch}  NewestImage { Tag Vulnerabilities {MaxSeverity Count} Description  Licenses Title "
        + "Source IsSigned SignatureInfo { Tool IsTrusted Author } Documentation Vendor Labels} IsStarred IsBookmarked "
        + "StarCount DownloadCount}}}");
    assertEquals(15, home.at("/RepoListWithNewestImage/Results").size());
    JsonNode explore = browserGet("{GlobalSearch(query:\"\", requestedPage: {limit:15 offset:0 sortBy: RELEVANCE} ,filter: "
        + "{ Os:\"\" Arch:[\"amd64\"]}) {Page {TotalCount ItemCount} Repos {Name LastUpdated Size Platforms { Os Arch } "
        + "IsStarred IsBookmarked NewestImage { Tag Vulnerabilities {MaxSeverity Count} Description IsSigned "
        + "SignatureInfo { Tool IsTrusted Author } Licenses Vendor Labels } StarCount DownloadCount}}}");
    assertTrue(explore.at("/GlobalSearch/Page/TotalCount").asInt() > 0, "Os: \"\" where a list is expected is no filter");
    JsonNode repoPage = browserGet("{ExpandedRepoInfo(repo:\"" + repo + "\"){Images {Manifests {Digest Platform {Os Arch} "
        + "Size} Vulnerabilities {MaxSeverity Count} Tag LastUpdated Vendor IsDeletable } Summary {Name LastUpdated Size "
        + "Platforms {Os Arch} Vendors IsStarred IsBookmarked NewestImage {RepoName IsSigned SignatureInfo { Tool IsTrusted "
        + "Author } Vulnerabilities {MaxSeverity Count} Manifests {Digest} Tag Vendor Title Documentation DownloadCount "
        + "Source Description Licenses}}}}");
    assertEquals(repo, repoPage.at("/ExpandedRepoInfo/Summary/Name").asText());
    JsonNode tagPage = browserGet("{Image(image: \"" + repo + ":latest\"){RepoName IsSigned SignatureInfo { Tool IsTrusted "
        + "Author } Vulnerabilities {MaxSeverity Count}  Referrers {MediaType ArtifactType Size Digest Annotations{Key "
        + "Value}} Tag TaggedTimestamp ArtifactType Manifests {ArtifactType Layers {Size Digest} History {Layer {Size "
        + "Digest} HistoryDescription {CreatedBy EmptyLayer}} Digest ConfigDigest LastUpdated Size Platform {Os Arch} "
        + "Referrers {MediaType ArtifactType Size Digest Annotations{Key Value}}} Vendor Licenses }}");
    assertEquals("latest", tagPage.at("/Image/Tag").asText());
    JsonNode refs = browserGet("{Referrers(repo: \"" + repo + "\" digest: \"" + tagPage.at("/Image/Manifests/0/Digest").asText()
        + "\" type: \"\"){MediaType ArtifactType Size Digest Annotations{Key Value}}}");
    assertEquals(1, refs.get("Referrers").size(), "the notation signature of repository 0's newest image");
  }
}
