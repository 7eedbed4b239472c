package io.flotilla.search;

import io.flotilla.bus.Messages.SearchHit;
import io.flotilla.bus.Messages.SearchReply;
import io.flotilla.bus.Messages.SearchRequest;
import io.flotilla.cluster.Placement;
import io.flotilla.search.RepoIndex.ImageEntry;
import io.flotilla.search.RepoIndex.ManifestLayers;
import io.flotilla.search.RepoIndex.Platform;
import io.flotilla.search.RepoIndex.RepoEntry;
import io.flotilla.scan.ScanResults;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * One member's part of a search: the matches among the repositories this node answers for, sorted
 * and cut to the best {@code offset + limit}. A repository is answered by the first of its owners
 * in the query's view that is not catching up (the primary, unless it is), so each repository is
 * counted once cluster-wide; a single-repository operation is answered by whichever owner it is
 * sent to. Repositories the caller may not read are skipped. Blocking (the index may build),
 * except {@link #answerScanning}, which waits for scans without blocking.
 */
public final class LocalSearch {
  private final String localNode;
  private final SearchIndex index;
  private final BiPredicate<String, String> mayRead;
  private final BiPredicate<String, String> mayDelete;
  private final UserPrefs prefs;
  private final Downloads downloads;
  private final ScanResults scans;
  private final CveSearch cves;
  /** Answering members of repositories under the last view asked about (views change rarely, queries often). */
  private volatile AnsweringCache answering = new AnsweringCache(List.of(), List.of(), 0);

  private record AnsweringCache(List<String> members, List<String> catchingUp, int replicas,
      java.util.concurrent.ConcurrentHashMap<String, String> byRepository) {
    AnsweringCache(List<String> members, List<String> catchingUp, int replicas) {
      this(members, catchingUp, replicas, new java.util.concurrent.ConcurrentHashMap<>());
    }

    boolean isFor(SearchRequest q) {
      return replicas == q.replicas() && members.equals(q.members()) && catchingUp.equals(q.catchingUp());
    }
  }

  /** The member that answers for {@code repository} in the request's view, memoised per view. */
  private String answeringMember(String repository, SearchRequest q) {
    AnsweringCache cache = answering;
    if (!cache.isFor(q)) {
      cache = new AnsweringCache(q.members(), q.catchingUp(), q.replicas());
      answering = cache;
    }
    return cache.byRepository().computeIfAbsent(repository,
        r -> answeringMember(r, q.members(), q.catchingUp(), q.replicas()));
  }

  /** Without stars, bookmarks, pull counts or scans. */
  public LocalSearch(String localNode, SearchIndex index, BiPredicate<String, String> mayRead,
      BiPredicate<String, String> mayDelete) {
    this(localNode, index, mayRead, mayDelete, UserPrefs.NONE, Downloads.NONE, ScanResults.DISABLED);
  }

  /** Without scans: every image is unscanned. */
  public LocalSearch(String localNode, SearchIndex index, BiPredicate<String, String> mayRead,
      BiPredicate<String, String> mayDelete, UserPrefs prefs, Downloads downloads) {
    this(localNode, index, mayRead, mayDelete, prefs, downloads, ScanResults.DISABLED);
  }

  /**
   * @param mayRead (identity, repository) -> may the caller see it
   * @param mayDelete (identity, repository) -> may the caller delete its images ({@code IsDeletable})
   * @param scans this node's stored scans ({@code Vulnerabilities}, the CVE queries)
   */
  public LocalSearch(String localNode, SearchIndex index, BiPredicate<String, String> mayRead,
      BiPredicate<String, String> mayDelete, UserPrefs prefs, Downloads downloads, ScanResults scans) {
    this.localNode = localNode;
    this.index = index;
    this.mayRead = mayRead;
    this.mayDelete = mayDelete;
    this.prefs = prefs;
    this.downloads = downloads;
    this.cves = new CveSearch(scans);
    this.scans = scans;
  }

  /** Operations a member answers; see {@link SearchRequest#operation()}. */
  public static final String REPOS = "repos";
  public static final String IMAGES_IN_REPO = "images.repo";
  public static final String IMAGES_ALL = "images.all";
  public static final String IMAGES_BY_TAG = "images.tag";
  public static final String IMAGES_BY_DIGEST = "images.digest";
  public static final String IMAGES_DERIVED = "images.derived";
  public static final String IMAGES_BASE = "images.base";
  public static final String REPO_INFO = "repo";
  public static final String IMAGE = "image";
  public static final String REFERRERS = "referrers";
  /** Images with CVE {@code text} among the manifests of their tag (zot's ImageListForCVE). */
  public static final String IMAGES_FOR_CVE = "images.cve";
  /** Tags of {@code repository} with CVE {@code text} fixed (zot's ImageListWithCVEFixed); scans: see {@link #answerScanning}. */
  public static final String IMAGES_CVE_FIXED = "images.cvefixed";
  /**
   * The CVE list of image {@code text} (a tag or digest) of {@code repository}: one hit whose summary
   * is a {@code CVEResultForImage} (filters {@code searchedCVE}, {@code excludedCVE}, {@code severity}
   * in the request's filter), or holds {@code _error}; scans: see {@link #answerScanning}.
   */
  public static final String CVES_FOR_IMAGE = "cves.image";

  /** Whether an operation may scan, so is answered by {@link #repository} then {@link #answerScanning}, not {@link #answer}. */
  public static boolean scanning(String operation) {
    return operation.equals(IMAGES_CVE_FIXED) || operation.equals(CVES_FOR_IMAGE);
  }

  /** The member that answers for {@code repository} in a view: its first owner that is not catching up. */
  public static String answeringMember(String repository, List<String> members, List<String> catchingUp, int replicas) {
    List<String> ranked = new ArrayList<>(members);
    ranked.sort((a, b) -> {
      int c = Long.compareUnsigned(Placement.score(b, repository), Placement.score(a, repository));
      return c != 0 ? c : a.compareTo(b);
    });
    List<String> owners = ranked.subList(0, Math.min(Math.max(1, replicas), ranked.size()));
    for (String o : owners) {
      if (!catchingUp.contains(o)) {
        return o;
      }
    }
    return owners.isEmpty() ? null : owners.get(0);
  }

  /** This member's part of {@code q}, for every operation but the {@link #scanning} ones. Blocking. */
  public SearchReply answer(SearchRequest q) {
    String op = q.operation();
    List<SearchHit> hits = new ArrayList<>();
    Set<String> affected = op.equals(IMAGES_FOR_CVE) ? cves.scans().manifestsWith(q.text()) : Set.of();
    for (RepoIndex r : repositories(q)) {
      switch (op) {
        case REPOS -> repos(q, r, hits);
        case IMAGES_IN_REPO, IMAGES_ALL, IMAGES_BY_TAG, IMAGES_BY_DIGEST, IMAGES_DERIVED, IMAGES_BASE -> images(q, r, hits);
        case IMAGES_FOR_CVE -> {
          for (ImageEntry i : r.images()) {
            Set<String> hit = new java.util.LinkedHashSet<>(CveSearch.digests(i));
            hit.retainAll(affected);
            listed(q, i, hit, hits);
          }
        }
        case REPO_INFO -> hits.add(repoInfo(q, r));
        case IMAGE -> image(q, r, hits);
        case REFERRERS -> referrers(q, r, hits);
        default -> throw new SearchException("unknown search operation " + op);
      }
    }
    return reply(q, hits);
  }

  /** The one repository of a {@link #scanning} operation, if it is held here and the caller may read it. Blocking. */
  public RepoIndex repository(SearchRequest q) {
    List<RepoIndex> rs = repositories(q);
    return rs.isEmpty() ? null : rs.get(0);
  }

  /**
   * This member's part of a {@link #scanning} operation on {@code r} (from {@link #repository}):
   * manifests without a stored scan are scanned now. Non-blocking; an empty reply when {@code r}
   * is null or does not have the image. Only the repository's answering member scans: another
   * owner (asked when it fails) answers from its stored scans, an unscanned manifest failing.
   */
  public Future<SearchReply> answerScanning(SearchRequest q, RepoIndex r) {
    if (r == null) {
      return Future.succeededFuture(new SearchReply(List.of(), 0));
    }
    // only the answering member scans; another owner asked when it fails answers from stored scans
    boolean scan = localNode.equals(answeringMember(r.name(), q));
    if (q.operation().equals(CVES_FOR_IMAGE)) {
      List<String> digests = CveSearch.manifestsOf(r, q.text());
      if (digests.isEmpty()) {
        return Future.succeededFuture(new SearchReply(List.of(), 0));
      }
      PageRequest page = new PageRequest(q.limit(), q.offset(), SortCriteria.valueOf(q.sort()));
      return cves.cveResult(r.name(), q.text(), digests, scan, one(q, "searchedCVE"), one(q, "excludedCVE"),
          one(q, "severity"), page).map(s -> new SearchReply(List.of(new SearchHit(r.name(), "", "", 0, 0, 0, 0, s)), 1));
    }
    if (!q.operation().equals(IMAGES_CVE_FIXED)) {
      throw new SearchException("unknown search operation " + q.operation());
    }
    List<String> digests = new ArrayList<>();
    r.images().forEach(i -> digests.addAll(CveSearch.digests(i)));
    return cves.scansOf(r.name(), digests, scan).map(scanned -> {
      List<SearchHit> hits = new ArrayList<>();
      for (CveSearch.Listed l : CveSearch.fixedTags(r.images(), scanned, q.text())) {
        listed(q, l.image(), l.manifests(), hits);
      }
      return reply(q, hits);
    });
  }

  private static String one(SearchRequest q, String key) {
    List<String> v = q.filter().get(key);
    return v == null || v.isEmpty() ? "" : v.get(0);
  }

  /** An image listed with some of its manifests (none: not listed), if the filter keeps it. */
  private void listed(SearchRequest q, ImageEntry i, Set<String> manifests, List<SearchHit> hits) {
    if (manifests.isEmpty() || (flag(q.filter(), "HasToBeSigned") == Boolean.TRUE && !i.signed())) {
      return;
    }
    Map<String, Object> summary = CveSearch.onlyManifests(i.summary(), manifests);
    List<Platform> platforms = new ArrayList<>();
    for (Object o : (List<?>) summary.get("Manifests")) {
      Map<String, Object> p = castMap(castMap(o).get("Platform"));
      if (!((String) p.get("Os")).isEmpty() || !((String) p.get("Arch")).isEmpty()) {
        platforms.add(new Platform((String) p.get("Os"), (String) p.get("Arch")));
      }
    }
    if (platformsMatch(q.filter(), platforms)) {
      SearchHit h = imageHit(i);
      hits.add(new SearchHit(h.repo(), h.tag(), h.digest(), 0, h.updated(), h.downloads(), 0, summary));
    }
  }

  /** The best {@code offset + limit} of a member's hits, with their caller-dependent fields. */
  private SearchReply reply(SearchRequest q, List<SearchHit> hits) {
    SortCriteria sort = SortCriteria.valueOf(q.sort());
    PageRequest page = new PageRequest(q.limit(), q.offset(), sort);
    Comparator<SearchHit> order = sort.order(q.operation().equals(REPOS) ? SortCriteria.Kind.REPOS : SortCriteria.Kind.IMAGES);
    List<SearchHit> top = Paging.top(hits, order, page);
    List<SearchHit> out = new ArrayList<>(top.size());
    for (SearchHit h : top) { // only the hits that leave this node get their caller-dependent fields
      out.add(q.keysOnly() ? new SearchHit(h.repo(), h.tag(), h.digest(), h.rank(), h.updated(), h.downloads(), h.stars(),
          Map.of()) : finish(q, h));
    }
    return new SearchReply(out, hits.size());
  }

  /** A kept hit with the fields that depend on the caller and on pulls filled in (its summary is copied). */
  private SearchHit finish(SearchRequest q, SearchHit h) {
    Map<String, Object> s;
    switch (q.operation()) {
      case REPOS -> {
        s = new LinkedHashMap<>(h.summary());
        String user = q.ctx().identity();
        s.put("Rank", (int) h.rank());
        s.put("NewestImage", enrichImage(q.ctx(), h.repo(), castMap(h.summary().get("NewestImage"))));
        s.put("DownloadCount", downloads.counted() ? repositoryPulls(index.get(h.repo())) : null);
        s.put("StarCount", (int) h.stars());
        s.put("IsStarred", prefs.starred(user, h.repo()));
        s.put("IsBookmarked", prefs.bookmarked(user, h.repo()));
      }
      case IMAGES_IN_REPO, IMAGES_ALL, IMAGES_BY_TAG, IMAGES_BY_DIGEST, IMAGES_DERIVED, IMAGES_BASE, IMAGE ->
          s = enrichImage(q.ctx(), h.repo(), h.summary());
      // zot does not compute Vulnerabilities for the CVE image lists
      case IMAGES_FOR_CVE, IMAGES_CVE_FIXED -> s = enrichImage(q.ctx(), h.repo(), h.summary(), false);
      default -> {
        return h;
      }
    }
    return new SearchHit(h.repo(), h.tag(), h.digest(), h.rank(), h.updated(), h.downloads(), h.stars(), s);
  }

  private List<RepoIndex> repositories(SearchRequest q) {
    List<RepoIndex> out = new ArrayList<>();
    if (!q.repository().isEmpty()) {
      RepoIndex r = readable(q.ctx(), q.repository()) ? index.get(q.repository()) : null;
      if (r != null) {
        out.add(r);
      }
      return out;
    }
    boolean listed = !q.only().isEmpty(); // the second round of a deep page: the repositories this node listed
    for (String name : listed ? q.only() : index.names()) {
      if ((!listed && !localNode.equals(answeringMember(name, q))) || !readable(q.ctx(), name)
          || scans.reserved(name)) {
        continue;
      }
      RepoIndex r = index.get(name);
      if (r != null && r.repo() != null) {
        out.add(r);
      }
    }
    return out;
  }

  private boolean readable(RequestContext ctx, String repository) {
    return ctx.isInternal() || mayRead.test(ctx.identity(), repository);
  }

  // ------------------------------------------------------------------ repositories

  private void repos(SearchRequest q, RepoIndex r, List<SearchHit> hits) {
    RepoEntry e = r.repo();
    int rank = RepoRank.rank(q.text(), r.name());
    if (rank < 0 || !platformsMatch(q.filter(), e.platforms())) {
      return;
    }
    if (flag(q.filter(), "HasToBeSigned") == Boolean.TRUE && !e.newestSigned()) {
      return;
    }
    String user = q.ctx().identity();
    Boolean wantStarred = flag(q.filter(), "IsStarred");
    Boolean wantBookmarked = flag(q.filter(), "IsBookmarked");
    if ((wantStarred != null && wantStarred != prefs.starred(user, r.name()))
        || (wantBookmarked != null && wantBookmarked != prefs.bookmarked(user, r.name()))) {
      return;
    }
    // pull counts are a sort key only for DOWNLOADS; kept hits get theirs in finish()
    long pulls = SortCriteria.DOWNLOADS.name().equals(q.sort()) ? repositoryPulls(r) : 0;
    hits.add(new SearchHit(r.name(), "", "", rank, e.updated(), pulls, prefs.stars(r.name()), e.summary()));
  }

  /** Pulls of a repository: the sum over its images' digests (each digest once). */
  private long repositoryPulls(RepoIndex r) {
    if (r == null || !downloads.counted()) {
      return 0;
    }
    long pulls = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (ImageEntry i : r.images()) {
      if (seen.add(i.digest())) {
        pulls += downloads.count(r.name(), i.digest());
      }
    }
    return pulls;
  }

  // ------------------------------------------------------------------ images

  private void images(SearchRequest q, RepoIndex r, List<SearchHit> hits) {
    for (ImageEntry i : r.images()) {
      if (matches(q, i) && platformsMatch(q.filter(), i.platforms())
          && (flag(q.filter(), "HasToBeSigned") != Boolean.TRUE || i.signed())) {
        hits.add(imageHit(i));
      }
    }
  }

  private boolean matches(SearchRequest q, ImageEntry i) {
    return switch (q.operation()) {
      case IMAGES_IN_REPO -> i.tag().startsWith(q.text());
      case IMAGES_ALL -> true;
      case IMAGES_BY_TAG -> i.tag().toLowerCase(Locale.ROOT).contains(q.text());
      case IMAGES_BY_DIGEST -> i.digest().equals(q.text()) || containsDigest(i, q.text());
      case IMAGES_DERIVED -> related(q, i, true);
      case IMAGES_BASE -> related(q, i, false);
      default -> false;
    };
  }

  private static boolean containsDigest(ImageEntry i, String text) {
    for (String d : i.digests()) {
      if (!d.equals(i.digest()) && d.contains(text)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Derived: some manifest of {@code i} (not the base itself) starts with one of the base's layer
   * lists. Base: some manifest of {@code i} (not the image itself) is a prefix of one of them.
   */
  private static boolean related(SearchRequest q, ImageEntry i, boolean derived) {
    for (ManifestLayers m : i.manifests()) {
      if (q.baseDigests().contains(m.digest()) || m.layers().isEmpty()) {
        continue;
      }
      for (List<String> base : q.baseLayers()) {
        if (base.isEmpty()) {
          continue;
        }
        List<String> shorter = derived ? base : m.layers();
        List<String> longer = derived ? m.layers() : base;
        if (shorter.size() <= longer.size() && longer.subList(0, shorter.size()).equals(shorter)) {
          return true;
        }
      }
    }
    return false;
  }

  /** An image as a hit; its caller-dependent fields are filled in only if it is kept ({@link #finish}). */
  private SearchHit imageHit(ImageEntry i) {
    return new SearchHit(i.repo(), i.tag(), i.digest(), 0, i.updated(), downloads.count(i.repo(), i.digest()), 0,
        i.summary());
  }

  /** An image summary with the fields that depend on the caller and on pulls: IsDeletable, DownloadCount, LastPullTimestamp. */
  private Map<String, Object> enrichImage(RequestContext ctx, String repo, Map<String, Object> summary) {
    return enrichImage(ctx, repo, summary, true);
  }

  /** ... and {@code Vulnerabilities} from the stored scans when {@code vulnerabilities}. */
  private Map<String, Object> enrichImage(RequestContext ctx, String repo, Map<String, Object> summary,
      boolean vulnerabilities) {
    Map<String, Object> s = new LinkedHashMap<>(vulnerabilities ? cves.withVulnerabilities(summary) : summary);
    s.put("IsDeletable", !ctx.isInternal() && mayDelete.test(ctx.identity(), repo));
    if (downloads.counted()) {
      String digest = (String) summary.get("Digest");
      s.put("DownloadCount", downloads.count(repo, digest));
      s.put("LastPullTimestamp", Times.format(Times.ofMillis(downloads.lastPullMillis(repo, digest))));
      List<Map<String, Object>> manifests = new ArrayList<>();
      for (Object o : (List<?>) s.get("Manifests")) {
        Map<String, Object> m = new LinkedHashMap<>(castMap(o));
        m.put("DownloadCount", downloads.count(repo, (String) m.get("Digest")));
        manifests.add(m);
      }
      s.put("Manifests", manifests);
    }
    return s;
  }

  // ------------------------------------------------------------------ one repository

  private SearchHit repoInfo(SearchRequest q, RepoIndex r) {
    List<Map<String, Object>> images = new ArrayList<>();
    List<ImageEntry> sorted = new ArrayList<>(r.images());
    sorted.sort(Comparator.comparingLong((ImageEntry i) -> -i.updated()).thenComparing(ImageEntry::tag));
    for (ImageEntry i : sorted) {
      images.add(enrichImage(q.ctx(), r.name(), i.summary()));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("Images", images);
    Map<String, Object> summary = null;
    if (r.repo() != null) {
      summary = new LinkedHashMap<>(r.repo().summary());
      summary.put("NewestImage", enrichImage(q.ctx(), r.name(), castMap(r.repo().summary().get("NewestImage"))));
    }
    out.put("Summary", summary);
    return new SearchHit(r.name(), "", "", 0, 0, 0, 0, out);
  }

  private void image(SearchRequest q, RepoIndex r, List<SearchHit> hits) {
    for (ImageEntry i : r.images()) {
      if (i.tag().equals(q.text())) {
        SearchHit hit = imageHit(i);
        Map<String, Object> s = new LinkedHashMap<>(hit.summary());
        List<List<String>> layers = new ArrayList<>();
        for (ManifestLayers m : i.manifests()) {
          layers.add(m.layers());
        }
        // the layer lists travel with the hit for base/derived queries; GraphQL reads no such field
        s.put("_layers", layers);
        hits.add(new SearchHit(hit.repo(), hit.tag(), hit.digest(), 0, hit.updated(), 0, 0, s));
      }
    }
  }

  private void referrers(SearchRequest q, RepoIndex r, List<SearchHit> hits) {
    io.flotilla.oci.Digest subject = io.flotilla.oci.Digest.parse(q.text());
    List<String> types = q.filter().getOrDefault("type", List.of());
    boolean all = types.isEmpty() || types.contains("");
    for (Map<String, Object> ref : RepoIndexBuilder.referrerList(r.referrers().getOrDefault(subject, List.of()))) {
      if (all || types.contains(ref.get("ArtifactType"))) {
        hits.add(new SearchHit(r.name(), "", (String) ref.get("Digest"), 0, 0, 0, 0, ref));
      }
    }
  }

  // ------------------------------------------------------------------ filters

  /** One platform satisfies both lists (an entry of each, case-insensitive); no platform passes only when neither is set. */
  private static boolean platformsMatch(Map<String, List<String>> filter, List<Platform> platforms) {
    List<String> os = filter.getOrDefault("Os", List.of());
    List<String> arch = filter.getOrDefault("Arch", List.of());
    if (os.isEmpty() && arch.isEmpty()) {
      return true;
    }
    for (Platform p : platforms) {
      if ((os.isEmpty() || os.contains(p.os().toLowerCase(Locale.ROOT)))
          && (arch.isEmpty() || arch.contains(p.arch().toLowerCase(Locale.ROOT)))) {
        return true;
      }
    }
    return false;
  }

  private static Boolean flag(Map<String, List<String>> filter, String key) {
    List<String> v = filter.get(key);
    return v == null || v.isEmpty() ? null : Boolean.valueOf(v.get(0));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Object o) {
    return (Map<String, Object>) o;
  }
}
