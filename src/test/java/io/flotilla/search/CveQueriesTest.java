package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.bus.RecordCodec;
import io.flotilla.cluster.ClusterView;
import io.flotilla.cluster.Member;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.scan.Advisory;
import io.flotilla.scan.Finding;
import io.flotilla.scan.ImageScan;
import io.flotilla.scan.ScanResults;
import io.flotilla.scan.Severity;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.ManifestMeta;
import io.flotilla.storage.MetadataStore;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * zot's four CVE queries and the Vulnerabilities summaries through the whole search stack of one
 * node (GraphQL, the receiving side, the bus, the member's answer over a real index), with scan
 * results from a test double: exact JSON for sorts, filters, pages, placeholders, errors and access.
 */
class CveQueriesTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String REF = "https://www.cve.org/CVERecord?id=";
  @TempDir
  static Path dir;
  static Vertx vertx;
  static MetadataStore metadata;
  static BlobStore blobs;
  /** Two members ({@code m1}, {@code m2}) holding the same content, each answering for its share of it. */
  static final List<MetadataStore> MEMBER_METADATA = new ArrayList<>();
  static final List<BlobStore> MEMBER_BLOBS = new ArrayList<>();
  static SearchGraphQl twoMembers;
  static final FakeScans SCANS = new FakeScans();
  static SearchGraphQl search;
  static SearchGraphQl disabled;
  static String m1, m2, m3, m4, m5, base, broken, never;

  /** Scan results held in maps; {@code scanNow} stores what {@link #onDemand} holds for a digest. */
  static final class FakeScans implements ScanResults {
    final Map<String, ImageScan> stored = new ConcurrentHashMap<>();
    final Map<String, ImageScan> onDemand = new ConcurrentHashMap<>();
    final List<String> scannedNow = new CopyOnWriteArrayList<>();
    final Map<String, Advisory> advisories = new ConcurrentHashMap<>();

    @Override
    public boolean enabled() {
      return true;
    }

    @Override
    public String activeDb() {
      return "sha256:db";
    }

    @Override
    public Optional<ImageScan> stored(String digest) {
      return Optional.ofNullable(stored.get(digest));
    }

    @Override
    public Future<ImageScan> scanNow(String repository, String digest) {
      scannedNow.add(repository + "@" + digest);
      ImageScan s = stored.computeIfAbsent(digest, onDemand::get);
      return s == null ? Future.failedFuture(new IllegalStateException("no such manifest")) : Future.succeededFuture(s);
    }

    @Override
    public Optional<Advisory> advisory(String id) {
      return Optional.ofNullable(advisories.get(id));
    }

    @Override
    public Set<String> manifestsWith(String id) {
      Set<String> out = new HashSet<>();
      stored.forEach((d, s) -> {
        if (s.findings().stream().anyMatch(f -> f.id().equals(id))) {
          out.add(d);
        }
      });
      return out;
    }
  }

  static ImageScan scan(String digest, Finding... findings) {
    return new ImageScan(digest, "sha256:db", 1, "", null, List.of(), List.of(findings), 1);
  }

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    RecordCodec.registerAll(vertx.eventBus());
    metadata = new MetadataStore(dir);
    metadata.load();
    blobs = new BlobStore(dir);
    for (String m : List.of("m1", "m2")) {
      MetadataStore store = new MetadataStore(dir.resolve(m));
      store.load();
      MEMBER_METADATA.add(store);
      MEMBER_BLOBS.add(new BlobStore(dir.resolve(m)));
    }
    base = image("app", "base", "amd64", "2029-12-01T00:00:00Z", "L0");
    m1 = image("app", "v1", "amd64", "2030-01-01T00:00:00Z", "L0", "L1");
    m2 = image("app", "v2", "amd64", "2030-01-02T00:00:00Z", "L0", "L2");
    m3 = image("app", "v3", "amd64", "2030-01-03T00:00:00Z", "L0", "L3");
    m4 = image("app", null, "amd64", "2030-01-04T00:00:00Z", "L4");
    m5 = image("app", null, "arm64", "2030-01-04T00:00:00Z", "L5");
    index("app", "multi", m4, m5);
    broken = image("app", "broken", "amd64", "2030-01-05T00:00:00Z", "L6");
    image("secret", "v1", "amd64", "2030-01-01T00:00:00Z", "L0", "L1");
    never = image("other", "never", "amd64", "2030-01-01T00:00:00Z", "L7");
    for (int i = 0; i < 10; i++) { // CVE-2099-0100 in ten repositories, two tags each, some times equal
      for (String tag : List.of("a", "b")) {
        String d = image("r" + i, tag, i % 2 == 0 ? "amd64" : "arm64", "2031-01-0" + (1 + i % 4) + "T00:00:00Z", "R" + i + tag);
        SCANS.stored.put(d, scan(d, new Finding("CVE-2099-0100", Severity.LOW, "zlib", "", "1.2", "")));
      }
    }

    SCANS.stored.put(m1, scan(m1,
        new Finding("CVE-2099-0001", Severity.HIGH, "openssl", "var/lib/dpkg/status", "1.0", "1.1"),
        new Finding("CVE-2099-0002", Severity.LOW, "zlib", "", "1.2", ""),
        new Finding("CVE-2099-0002", Severity.LOW, "libz", "", "1.2", ""),
        new Finding("CVE-2099-0003", Severity.CRITICAL, "busybox", "lib/apk/db/installed", "1.0", "1.1")));
    SCANS.stored.put(m2, scan(m2, new Finding("CVE-2099-0002", Severity.LOW, "zlib", "", "1.2", "")));
    SCANS.onDemand.put(m3, scan(m3));
    SCANS.stored.put(m4, scan(m4, new Finding("CVE-2099-0004", Severity.MEDIUM, "curl", "", "8.0", "8.1")));
    SCANS.stored.put(m5, scan(m5, new Finding("CVE-2099-0001", Severity.HIGH, "openssl", "var/lib/dpkg/status", "1.0", "")));
    SCANS.stored.put(base, scan(base));
    SCANS.stored.put(broken, new ImageScan(broken, "sha256:db", 1, "unsupported layer", null, List.of(), List.of(), 1));
    SCANS.advisories.put("CVE-2099-0001", new Advisory("CVE-2099-0001", "openssl overflow", "A buffer overflow.",
        Severity.HIGH, REF + "CVE-2099-0001", List.of()));

    BiPredicate<String, String> mayRead = (identity, repo) -> !repo.equals("secret") || identity.equals("admin");
    SearchIndex index = new SearchIndex(metadata, blobs);
    LocalSearch local = new LocalSearch("n1", index, mayRead, (i, r) -> false, UserPrefs.NONE, Downloads.NONE, SCANS);
    vertx.deployVerticle(new SearchVerticle("n1", index, local)).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    ClusterSearch cluster = new ClusterSearch(vertx, ClusterView::empty, n -> false, "n1", 1);
    search = new SearchGraphQl(new SearchQueries(cluster, mayRead, false, SCANS));
    List<Member> members = List.of(new Member("m1", "v1", "127.0.0.1:1"), new Member("m2", "v2", "127.0.0.1:2"));
    for (int i = 0; i < 2; i++) {
      String name = members.get(i).nodeName();
      SearchIndex own = new SearchIndex(MEMBER_METADATA.get(i), MEMBER_BLOBS.get(i));
      vertx.deployVerticle(new SearchVerticle(name, own, new LocalSearch(name, own, mayRead, (id, r) -> false,
          UserPrefs.NONE, Downloads.NONE, SCANS))).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    twoMembers = new SearchGraphQl(new SearchQueries(new ClusterSearch(vertx,
        () -> ClusterView.of(1, members.toArray(Member[]::new)), n -> false, "m1", 1), mayRead, false, SCANS));
    disabled = new SearchGraphQl(new SearchQueries(cluster, mayRead, false, ScanResults.DISABLED));
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    metadata.close();
    MEMBER_METADATA.forEach(MetadataStore::close);
  }

  private static Digest blob(String content) {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    Digest d = Digest.sha256(b);
    blobs.put(d, b);
    MEMBER_BLOBS.forEach(s -> s.put(d, b));
    return d;
  }

  private static String desc(String type, Digest d, long size) {
    return "{\"mediaType\":\"" + type + "\",\"digest\":\"" + d + "\",\"size\":" + size + "}";
  }

  private static String manifest(String repo, String tag, String type, String json) {
    Digest d = blob(json);
    ManifestMeta meta = new ManifestMeta(d, type, json.length(), null, null, Map.of(), List.of(), 1_000);
    metadata.putManifest(RepositoryName.of(repo), meta, tag == null ? null : new Tag(tag), () -> { });
    MEMBER_METADATA.forEach(s -> s.putManifest(RepositoryName.of(repo), meta, tag == null ? null : new Tag(tag), () -> { }));
    return d.toString();
  }

  private static String image(String repo, String tag, String arch, String created, String... layers) {
    String config = "{\"os\":\"linux\",\"architecture\":\"" + arch + "\",\"created\":\"" + created + "\"}";
    List<String> ls = new ArrayList<>();
    for (String l : layers) {
      ls.add(desc("application/vnd.oci.image.layer.v1.tar", blob(l), l.length()));
    }
    return manifest(repo, tag, MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":"
        + desc("application/vnd.oci.image.config.v1+json", blob(config), config.length()) + ",\"layers\":["
        + String.join(",", ls) + "]}");
  }

  private static String index(String repo, String tag, String... children) {
    List<String> ds = new ArrayList<>();
    for (String c : children) {
      ds.add(desc(MediaTypes.OCI_MANIFEST, Digest.parse(c), metadata.manifest(RepositoryName.of(repo), Digest.parse(c)).size()));
    }
    return manifest(repo, tag, MediaTypes.OCI_INDEX, "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX
        + "\",\"manifests\":[" + String.join(",", ds) + "]}");
  }

  static JsonNode run(SearchGraphQl on, String identity, String query) throws Exception {
    var a = on.execute(new RequestContext("t", identity, "127.0.0.1", "", "POST", ""), query, null, null)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(200, a.status(), a.json());
    return JSON.readTree(a.json());
  }

  static JsonNode data(String identity, String query) throws Exception {
    JsonNode body = run(search, identity, query);
    assertTrue(!body.has("errors"), body.toString());
    return body.get("data");
  }

  static String error(String query) throws Exception {
    JsonNode body = run(search, "alice", query);
    assertTrue(body.get("data").isNull(), body.toString());
    assertEquals(1, body.get("errors").size(), body.toString());
    return body.at("/errors/0/message").asText();
  }

  /** JSON written with single quotes. */
  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text.replace('\'', '"'));
  }

  static final String CVE_FIELDS = "Id Title Description Reference Severity PackageList { Name PackagePath InstalledVersion FixedVersion }";
  static final String CVE1 = "{'Id':'CVE-2099-0001','Title':'openssl overflow','Description':'A buffer overflow.',"
      + "'Reference':'" + REF + "CVE-2099-0001','Severity':'HIGH','PackageList':[{'Name':'openssl',"
      + "'PackagePath':'var/lib/dpkg/status','InstalledVersion':'1.0','FixedVersion':'1.1'}]}";
  static final String CVE2 = "{'Id':'CVE-2099-0002','Title':'','Description':'','Reference':'','Severity':'LOW',"
      + "'PackageList':[{'Name':'zlib','PackagePath':'Not Specified','InstalledVersion':'1.2','FixedVersion':'Not Specified'},"
      + "{'Name':'libz','PackagePath':'Not Specified','InstalledVersion':'1.2','FixedVersion':'Not Specified'}]}";
  static final String CVE3 = "{'Id':'CVE-2099-0003','Title':'','Description':'','Reference':'','Severity':'CRITICAL',"
      + "'PackageList':[{'Name':'busybox','PackagePath':'lib/apk/db/installed','InstalledVersion':'1.0','FixedVersion':'1.1'}]}";
  static final String V1_SUMMARY = "{'MaxSeverity':'CRITICAL','Count':3,'UnknownCount':0,'LowCount':1,'MediumCount':0,"
      + "'HighCount':1,'CriticalCount':1}";

  static String cveList(String args) {
    return "{ CVEListForImage(" + args + ") { Tag CVEList { " + CVE_FIELDS + " } Summary { MaxSeverity Count UnknownCount "
        + "LowCount MediumCount HighCount CriticalCount } Page { TotalCount ItemCount } } }";
  }

  // ------------------------------------------------------------------ CVEListForImage

  @Test
  void cveListIsSortedBySeverityWithPlaceholdersAndAFullSummary() throws Exception {
    assertEquals(json("{'CVEListForImage':{'Tag':'v1','CVEList':[" + CVE3 + "," + CVE1 + "," + CVE2 + "],'Summary':"
        + V1_SUMMARY + ",'Page':{'TotalCount':3,'ItemCount':3}}}"), data("alice", cveList("image: \"app:v1\"")));
    assertEquals(json("{'CVEListForImage':{'Tag':'" + m1 + "','CVEList':[" + CVE3 + "," + CVE1 + "," + CVE2 + "],'Summary':"
        + V1_SUMMARY + ",'Page':{'TotalCount':3,'ItemCount':3}}}"), data("alice", cveList("image: \"app@" + m1 + "\"")),
        "by digest");
  }

  @Test
  void cveListSortsFiltersAndPages() throws Exception {
    assertEquals(json("{'CVEListForImage':{'Tag':'v1','CVEList':[" + CVE3 + "," + CVE2 + "],'Summary':" + V1_SUMMARY
        + ",'Page':{'TotalCount':3,'ItemCount':2}}}"),
        data("alice", cveList("image: \"app:v1\", requestedPage: {limit: 2, sortBy: ALPHABETIC_DSC}")));
    assertEquals(json("{'CVEListForImage':{'Tag':'v1','CVEList':[" + CVE2 + "],'Summary':" + V1_SUMMARY
        + ",'Page':{'TotalCount':3,'ItemCount':1}}}"),
        data("alice", cveList("image: \"app:v1\", requestedPage: {limit: 1, offset: 1, sortBy: ALPHABETIC_ASC}")));
    assertEquals(json("{'CVEListForImage':{'Tag':'v1','CVEList':[" + CVE1 + "],'Summary':" + V1_SUMMARY
        + ",'Page':{'TotalCount':1,'ItemCount':1}}}"), data("alice", cveList("image: \"app:v1\", searchedCVE: \"OVERFLOW\"")));
    assertEquals(json("{'CVEListForImage':{'Tag':'v1','CVEList':[" + CVE3 + "],'Summary':" + V1_SUMMARY
        + ",'Page':{'TotalCount':1,'ItemCount':1}}}"),
        data("alice", cveList("image: \"app:v1\", searchedCVE: \"cve-2099\", excludedCVE: \"not specified\", severity: \"CRITICAL\"")));
    assertEquals(json("{'CVEListForImage':{'Tag':'v1','CVEList':[],'Summary':" + V1_SUMMARY
        + ",'Page':{'TotalCount':0,'ItemCount':0}}}"), data("alice", cveList("image: \"app:v1\", severity: \"high\"")),
        "severity names are upper case; another is UNKNOWN");
  }

  @Test
  void anIndexIsTheUnionOfItsManifests() throws Exception {
    JsonNode r = data("alice", "{ CVEListForImage(image: \"app:multi\") { CVEList { Id Severity } Summary { MaxSeverity Count }"
        + " Page { TotalCount ItemCount } } }");
    assertEquals(json("{'CVEListForImage':{'CVEList':[{'Id':'CVE-2099-0001','Severity':'HIGH'},{'Id':'CVE-2099-0004',"
        + "'Severity':'MEDIUM'}],'Summary':{'MaxSeverity':'HIGH','Count':2},'Page':{'TotalCount':2,'ItemCount':2}}}"), r);
  }

  @Test
  void anUnscannedImageIsScannedOnceOnDemand() throws Exception {
    JsonNode r = data("alice", cveList("image: \"app:v3\""));
    assertEquals(json("{'CVEListForImage':{'Tag':'v3','CVEList':[],'Summary':{'MaxSeverity':'NONE','Count':0,"
        + "'UnknownCount':0,'LowCount':0,'MediumCount':0,'HighCount':0,'CriticalCount':0},"
        + "'Page':{'TotalCount':0,'ItemCount':0}}}"), r);
    data("alice", cveList("image: \"app:v3\""));
    assertTrue(SCANS.scannedNow.stream().filter(s -> s.equals("app@" + m3)).count() <= 1, SCANS.scannedNow.toString());
    assertTrue(SCANS.stored.containsKey(m3));
  }

  @Test
  void cveListErrorsAreZots() throws Exception {
    assertEquals("no reference provided", error(cveList("image: \"app\"")));
    assertEquals("tag metadata not found for given repo and tag names", error(cveList("image: \"app:v9\"")));
    assertEquals("repo metadata not found for given repo name", error(cveList("image: \"nope:v1\"")));
    assertEquals("manifest not found", error(cveList("image: \"app@sha256:" + "0".repeat(64) + "\"")));
    assertEquals("scanning app@" + broken + " failed: unsupported layer", error(cveList("image: \"app:broken\"")));
    assertEquals("pagination limit has excessive value", error(cveList("image: \"app:v1\", requestedPage: {limit: 4097}")));
    assertEquals("pagination offset has negative value", error(cveList("image: \"app:v1\", requestedPage: {offset: -1}")));
    assertEquals("sorting CVEs by 'RELEVANCE' is not supported the pagination sort criteria is not supported",
        error(cveList("image: \"app:v1\", requestedPage: {sortBy: RELEVANCE}")));
  }

  @Test
  void anUnreadableRepositoryAnswersAnEmptyObject() throws Exception {
    assertEquals(json("{'CVEListForImage':{'Tag':null,'CVEList':null,'Summary':null,'Page':null}}"),
        data("alice", cveList("image: \"secret:v1\"")));
    assertEquals(json("{'CVEListForImage':{'Tag':null,'CVEList':null,'Summary':null,'Page':null}}"),
        data("alice", cveList("image: \"secret\"")), "access is checked before the reference, as zot");
    assertEquals("v1", data("admin", cveList("image: \"secret:v1\"")).at("/CVEListForImage/Tag").asText());
  }

  @Test
  void everyCveQueryIsRefusedWhenScanningIsDisabled() throws Exception {
    for (String q : List.of(cveList("image: \"app:v1\""), "{ ImageListForCVE(id: \"CVE-2099-0001\") { Page { TotalCount } } }",
        "{ ImageListWithCVEFixed(id: \"CVE-2099-0001\", image: \"app\") { Page { TotalCount } } }",
        "{ CVEDiffListForImages(minuend: {Repo: \"app\", Tag: \"v1\"}, subtrahend: {Repo: \"app\", Tag: \"v2\"}) { CVEList { Id } } }")) {
      JsonNode body = run(disabled, "alice", q);
      assertTrue(body.get("data").isNull(), body.toString());
      assertEquals("cve search is disabled", body.at("/errors/0/message").asText());
    }
  }

  // ------------------------------------------------------------------ image lists

  static final String IMAGES = "{ Page { TotalCount ItemCount } Results { RepoName Tag Manifests { Digest } "
      + "Vulnerabilities { MaxSeverity } } }";

  static String results(String... images) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < images.length; i += 2) {
      String[] digests = images[i + 1].split(",");
      List<String> ms = new ArrayList<>();
      for (String d : digests) {
        ms.add("{'Digest':'" + d + "'}");
      }
      String[] rt = images[i].split(":");
      out.add("{'RepoName':'" + rt[0] + "','Tag':'" + rt[1] + "','Manifests':[" + String.join(",", ms)
          + "],'Vulnerabilities':{'MaxSeverity':''}}");
    }
    return String.join(",", out);
  }

  @Test
  void imageListForCveListsAffectedImagesNewestFirst() throws Exception {
    assertEquals(json("{'ImageListForCVE':{'Page':{'TotalCount':2,'ItemCount':2},'Results':[" + results("app:multi", m5,
        "app:v1", m1) + "]}}"), data("alice", "{ ImageListForCVE(id: \"CVE-2099-0001\") " + IMAGES + " }"),
        "an index with its affected manifest only; secret is not readable; Vulnerabilities not computed, as zot");
    assertEquals(json("{'ImageListForCVE':{'Page':{'TotalCount':3,'ItemCount':1},'Results':[" + results("app:multi", m5) + "]}}"),
        data("admin", "{ ImageListForCVE(id: \"CVE-2099-0001\", requestedPage: {limit: 1, offset: 0, sortBy: ALPHABETIC_ASC}) "
            + IMAGES + " }"));
    assertEquals(json("{'ImageListForCVE':{'Page':{'TotalCount':1,'ItemCount':1},'Results':[" + results("app:multi", m5) + "]}}"),
        data("admin", "{ ImageListForCVE(id: \"CVE-2099-0001\", filter: {Arch: [\" ARM64 \"]}) " + IMAGES + " }"));
    assertEquals(json("{'ImageListForCVE':{'Page':{'TotalCount':0,'ItemCount':0},'Results':[]}}"),
        data("admin", "{ ImageListForCVE(id: \"CVE-2099-0001\", filter: {HasToBeSigned: true}) " + IMAGES + " }"));
    assertEquals("sorting repos by 'SEVERITY' is not supported the pagination sort criteria is not supported",
        error("{ ImageListForCVE(id: \"CVE-2099-0001\", requestedPage: {sortBy: SEVERITY}) " + IMAGES + " }"));
  }

  @Test
  void imageListWithCveFixedFollowsZotsRule() throws Exception {
    // vulnerable: v1 (01-01), multi's arm64 child (01-04), broken (01-05, its scan failed); base is older than v1
    assertEquals(json("{'ImageListWithCVEFixed':{'Page':{'TotalCount':3,'ItemCount':3},'Results':[" + results("app:multi", m4,
        "app:v3", m3, "app:v2", m2) + "]}}"),
        data("alice", "{ ImageListWithCVEFixed(id: \"CVE-2099-0001\", image: \"app\") " + IMAGES + " }"));
    assertTrue(SCANS.scannedNow.contains("app@" + m3) || SCANS.stored.containsKey(m3));
    assertEquals(json("{'ImageListWithCVEFixed':{'Page':{'TotalCount':3,'ItemCount':1},'Results':[" + results("app:v2", m2) + "]}}"),
        data("alice", "{ ImageListWithCVEFixed(id: \"CVE-2099-0001\", image: \"app\", filter: {Arch: [\"amd64\"]}, "
            + "requestedPage: {limit: 1, offset: 1, sortBy: ALPHABETIC_DSC}) " + IMAGES + " }"));
    assertEquals(json("{'ImageListWithCVEFixed':{'Page':{'TotalCount':0,'ItemCount':0},'Results':[]}}"),
        data("alice", "{ ImageListWithCVEFixed(id: \"CVE-2099-0001\", image: \"app\", filter: {Arch: [\"arm64\"]}) "
            + IMAGES + " }"), "the filter sees only the listed children: multi's arm64 child is vulnerable");
    // only the failed scan is "vulnerable", and it is the newest: nothing is newer, so nothing is fixed
    assertEquals(json("{'ImageListWithCVEFixed':{'Page':{'TotalCount':0,'ItemCount':0},'Results':[]}}"),
        data("alice", "{ ImageListWithCVEFixed(id: \"CVE-2099-9999\", image: \"app\") " + IMAGES + " }"));
    // a repository where no tag has it: every tag
    assertEquals(json("{'ImageListWithCVEFixed':{'Page':{'TotalCount':1,'ItemCount':1},'Results':[" + results("secret:v1", m1)
        + "]}}"), data("admin", "{ ImageListWithCVEFixed(id: \"CVE-2099-0004\", image: \"secret\") " + IMAGES + " }"));
    assertEquals(json("{'ImageListWithCVEFixed':{'Page':{'TotalCount':0,'ItemCount':0},'Results':[]}}"),
        data("alice", "{ ImageListWithCVEFixed(id: \"CVE-2099-0004\", image: \"secret\") " + IMAGES + " }"));
    assertEquals("repo metadata not found for given repo name",
        error("{ ImageListWithCVEFixed(id: \"CVE-2099-0001\", image: \"nope\") " + IMAGES + " }"));
  }

  @Test
  void imageListForCvePagesAreTheSameFromTwoMembers() throws Exception {
    Set<String> answering = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      answering.add(LocalSearch.answeringMember("r" + i, List.of("m1", "m2"), List.of(), 1));
    }
    assertEquals(Set.of("m1", "m2"), answering, "each member answers for some of the repositories");
    for (String sort : List.of("UPDATE_TIME", "ALPHABETIC_ASC", "ALPHABETIC_DSC", "RELEVANCE")) {
      String all = "{ ImageListForCVE(id: \"CVE-2099-0100\", requestedPage: {sortBy: " + sort + "}) " + IMAGES + " }";
      JsonNode whole = data("alice", all);
      assertEquals(whole, run(twoMembers, "alice", all).get("data"), sort);
      assertEquals(20, whole.at("/ImageListForCVE/Page/TotalCount").asInt());
      List<JsonNode> walked = new ArrayList<>();
      for (int offset = 0; offset < 22; offset += 3) {
        JsonNode page = run(twoMembers, "alice", "{ ImageListForCVE(id: \"CVE-2099-0100\", filter: {Os: [\"linux\"]}, "
            + "requestedPage: {limit: 3, offset: " + offset + ", sortBy: " + sort + "}) " + IMAGES + " }").get("data");
        assertEquals(20, page.at("/ImageListForCVE/Page/TotalCount").asInt());
        page.at("/ImageListForCVE/Results").forEach(walked::add);
      }
      List<JsonNode> expected = new ArrayList<>();
      whole.at("/ImageListForCVE/Results").forEach(expected::add);
      assertEquals(expected, walked, sort);
    }
    JsonNode arm = run(twoMembers, "alice", "{ ImageListForCVE(id: \"CVE-2099-0100\", filter: {Arch: [\"arm64\"]}, "
        + "requestedPage: {limit: 4, offset: 8, sortBy: ALPHABETIC_ASC}) " + IMAGES + " }").get("data");
    assertEquals(json("{'ImageListForCVE':{'Page':{'TotalCount':10,'ItemCount':2},'Results':[" + results("r9:a",
        digestOf("r9", "a"), "r9:b", digestOf("r9", "b")) + "]}}"), arm);
  }

  static String digestOf(String repo, String tag) {
    return metadata.tag(RepositoryName.of(repo), new Tag(tag)).toString();
  }

  // ------------------------------------------------------------------ CVEDiffListForImages

  static String diff(String args) {
    return "{ CVEDiffListForImages(" + args + ") { Minuend { Repo Tag Digest Platform { Os Arch } } Subtrahend { Repo Tag "
        + "Digest Platform { Os Arch } } CVEList { Id Severity PackageList { Name PackagePath FixedVersion } } "
        + "Summary { MaxSeverity Count LowCount HighCount CriticalCount } Page { TotalCount ItemCount } } }";
  }

  @Test
  void diffSubtractsAndEchoesTheResolvedImages() throws Exception {
    assertEquals(json("{'CVEDiffListForImages':{'Minuend':{'Repo':'app','Tag':'v1','Digest':'" + m1 + "','Platform':null},"
        + "'Subtrahend':{'Repo':'app','Tag':'v2','Digest':'" + m2 + "','Platform':null},'CVEList':["
        + "{'Id':'CVE-2099-0003','Severity':'CRITICAL','PackageList':[{'Name':'busybox','PackagePath':null,'FixedVersion':'1.1'}]},"
        + "{'Id':'CVE-2099-0001','Severity':'HIGH','PackageList':[{'Name':'openssl','PackagePath':null,'FixedVersion':'1.1'}]}],"
        + "'Summary':{'MaxSeverity':'CRITICAL','Count':2,'LowCount':0,'HighCount':1,'CriticalCount':1},"
        + "'Page':{'TotalCount':0,'ItemCount':0}}}"),
        data("alice", diff("minuend: {Repo: \"app\", Tag: \"v1\"}, subtrahend: {Repo: \"app\", Tag: \"v2\"}")));
    assertEquals(json("{'CVEDiffListForImages':{'Minuend':{'Repo':'app','Tag':'multi','Digest':'" + m5 + "','Platform':"
        + "{'Os':'linux','Arch':'arm64'}},'Subtrahend':{'Repo':'app','Tag':'v2','Digest':'" + m2 + "','Platform':null},"
        + "'CVEList':[{'Id':'CVE-2099-0001','Severity':'HIGH','PackageList':[{'Name':'openssl','PackagePath':null,"
        + "'FixedVersion':'Not Specified'}]}],'Summary':{'MaxSeverity':'HIGH','Count':1,'LowCount':0,'HighCount':1,"
        + "'CriticalCount':0},'Page':{'TotalCount':0,'ItemCount':0}}}"),
        data("alice", diff("minuend: {Repo: \"app\", Tag: \"multi\", Platform: {Os: \"linux\", Arch: \"arm64\"}}, "
            + "subtrahend: {Repo: \"app\", Tag: \"v2\"}")));
    assertEquals(json("{'CVEDiffListForImages':{'Minuend':{'Repo':'app','Tag':'v2','Digest':'" + m2 + "','Platform':null},"
        + "'Subtrahend':{'Repo':'app','Tag':'v1','Digest':'" + m1 + "','Platform':null},'CVEList':[],"
        + "'Summary':{'MaxSeverity':'','Count':0,'LowCount':0,'HighCount':0,'CriticalCount':0},"
        + "'Page':{'TotalCount':0,'ItemCount':0}}}"),
        data("alice", diff("minuend: {Repo: \"app\", Tag: \"v2\"}, subtrahend: {Repo: \"app\", Tag: \"v1\"}")),
        "nothing left: MaxSeverity is zot's not-scanned empty string");
  }

  @Test
  void diffFiltersPagesAndFindsTheBaseImage() throws Exception {
    JsonNode r = data("alice", diff("minuend: {Repo: \"app\", Tag: \"v1\"}, subtrahend: {Repo: \"\", Tag: \"\"}, "
        + "requestedPage: {limit: 2, sortBy: ALPHABETIC_ASC}, excludedCVE: \"busybox\"")).get("CVEDiffListForImages");
    assertEquals(json("{'Repo':'app','Tag':'base','Digest':'" + base + "','Platform':{'Os':'linux','Arch':'amd64'}}"),
        r.get("Subtrahend"), "the base image sharing the most layers");
    assertEquals(json("[{'Id':'CVE-2099-0001','Severity':'HIGH','PackageList':[{'Name':'openssl','PackagePath':null,"
        + "'FixedVersion':'1.1'}]},{'Id':'CVE-2099-0002','Severity':'LOW','PackageList':[{'Name':'zlib','PackagePath':null,"
        + "'FixedVersion':'Not Specified'},{'Name':'libz','PackagePath':null,'FixedVersion':'Not Specified'}]}]"), r.get("CVEList"));
    assertEquals(json("{'MaxSeverity':'HIGH','Count':2,'LowCount':1,'HighCount':1,'CriticalCount':0}"), r.get("Summary"),
        "the summary counts what the filters left");
  }

  @Test
  void diffErrorsAndAccessAreZots() throws Exception {
    assertEquals("minuend image app:multi: input is not specific enough: platform or specific manifest digest needed",
        error(diff("minuend: {Repo: \"app\", Tag: \"multi\"}, subtrahend: {Repo: \"app\", Tag: \"v2\"}")));
    assertEquals("minuend image <empty>:v1: repo name can't be empty string",
        error(diff("minuend: {Repo: \"\", Tag: \"v1\"}, subtrahend: {Repo: \"app\", Tag: \"v2\"}")));
    assertEquals("subtrahend image app:v9: image not found",
        error(diff("minuend: {Repo: \"app\", Tag: \"v1\"}, subtrahend: {Repo: \"app\", Tag: \"v9\"}")));
    assertEquals("minuend image nope:v1: repo metadata not found for given repo name",
        error(diff("minuend: {Repo: \"nope\", Tag: \"v1\"}, subtrahend: {Repo: \"app\", Tag: \"v2\"}")));
    String empty = "{'CVEDiffListForImages':{'Minuend':{'Repo':'','Tag':'','Digest':null,'Platform':null},"
        + "'Subtrahend':{'Repo':'','Tag':'','Digest':null,'Platform':null},'CVEList':null,'Summary':null,'Page':null}}";
    assertEquals(json(empty), data("alice", diff("minuend: {Repo: \"secret\", Tag: \"v1\"}, subtrahend: {Repo: \"app\", Tag: \"v2\"}")));
    assertEquals(json(empty), data("alice", diff("minuend: {Repo: \"app\", Tag: \"v1\"}, subtrahend: {Repo: \"secret\", Tag: \"v1\"}")));
  }

  // ------------------------------------------------------------------ Vulnerabilities

  @Test
  void summariesComeFromStoredScansAndNeverScan() throws Exception {
    String v = "Vulnerabilities { MaxSeverity Count UnknownCount LowCount MediumCount HighCount CriticalCount }";
    JsonNode r = data("alice", "{ ImageList(repo: \"app\", requestedPage: {sortBy: ALPHABETIC_ASC}) { Results { Tag " + v
        + " Manifests { " + v + " } } } }").at("/ImageList/Results");
    String none = "{'MaxSeverity':'NONE','Count':0,'UnknownCount':0,'LowCount':0,'MediumCount':0,'HighCount':0,'CriticalCount':0}";
    String notScanned = "{'MaxSeverity':'','Count':0,'UnknownCount':0,'LowCount':0,'MediumCount':0,'HighCount':0,'CriticalCount':0}";
    assertEquals(json("{'Tag':'base','Vulnerabilities':" + none + ",'Manifests':[{'Vulnerabilities':" + none + "}]}"), r.get(0));
    assertEquals(json("{'Tag':'broken','Vulnerabilities':" + notScanned + ",'Manifests':[{'Vulnerabilities':" + notScanned
        + "}]}"), r.get(1), "a failed scan is not scanned");
    assertEquals(json("{'Tag':'multi','Vulnerabilities':{'MaxSeverity':'HIGH','Count':2,'UnknownCount':0,'LowCount':0,"
        + "'MediumCount':1,'HighCount':1,'CriticalCount':0},'Manifests':[{'Vulnerabilities':{'MaxSeverity':'MEDIUM','Count':1,"
        + "'UnknownCount':0,'LowCount':0,'MediumCount':1,'HighCount':0,'CriticalCount':0}},{'Vulnerabilities':{'MaxSeverity':"
        + "'HIGH','Count':1,'UnknownCount':0,'LowCount':0,'MediumCount':0,'HighCount':1,'CriticalCount':0}}]}"), r.get(2));
    assertEquals(json("{'Tag':'v1','Vulnerabilities':" + V1_SUMMARY + ",'Manifests':[{'Vulnerabilities':" + V1_SUMMARY + "}]}"),
        r.get(3));
    int before = SCANS.scannedNow.size();
    JsonNode other = data("alice", "{ ExpandedRepoInfo(repo: \"other\") { Summary { NewestImage { " + v + " } } Images { Tag " + v
        + " } } }");
    assertEquals(json(notScanned), other.at("/ExpandedRepoInfo/Summary/NewestImage/Vulnerabilities"));
    assertEquals(json(notScanned), other.at("/ExpandedRepoInfo/Images/0/Vulnerabilities"));
    assertEquals(before, SCANS.scannedNow.size(), "summaries never scan");
    assertTrue(!SCANS.stored.containsKey(never));
  }

  @Test
  void withScanningDisabledSummariesAreTheIndexsOwn() {
    Map<String, Object> summary = Map.of("Manifests", List.of(Map.of("Digest", "sha256:x")));
    assertSame(summary, new CveSearch(ScanResults.DISABLED).withVulnerabilities(summary));
  }
}
