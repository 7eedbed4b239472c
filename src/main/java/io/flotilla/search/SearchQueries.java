package io.flotilla.search;

import io.flotilla.bus.Messages.SearchHit;
import io.flotilla.bus.Messages.SearchRequest;
import io.flotilla.oci.Digest;
import io.flotilla.scan.ScanResults;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * The queries of zot's search API on the node that received them: arguments are checked and
 * turned into member operations ({@link LocalSearch}), sent through {@link ClusterSearch}, and
 * the merged hits shaped into the GraphQL result. Error messages are zot's where zot has them.
 */
public final class SearchQueries {
  /** Longest GlobalSearch text and Os/Arch filter entry, as zot allows. */
  static final int MAX_TEXT = 256;

  private final ClusterSearch cluster;
  private final BiPredicate<String, String> mayRead;
  private final boolean downloadsCounted;
  private final CveQueries cves;

  /** A query's value (GraphQL-shaped) and the members whose part is missing from it. */
  public record Answer(Object data, List<String> unanswered) {}

  /**
   * @param downloadsCounted whether the cluster counts pulls ({@link Downloads#counted}); DOWNLOADS
   *     sorting is refused when it does not
   */
  public SearchQueries(ClusterSearch cluster, BiPredicate<String, String> mayRead, boolean downloadsCounted) {
    this(cluster, mayRead, downloadsCounted, ScanResults.DISABLED);
  }

  /**
   * @param scans this node's scan results: whether the CVE queries are served ({@link ScanResults#enabled})
   */
  public SearchQueries(ClusterSearch cluster, BiPredicate<String, String> mayRead, boolean downloadsCounted,
      ScanResults scans) {
    this.cluster = cluster;
    this.mayRead = mayRead;
    this.downloadsCounted = downloadsCounted;
    this.cves = new CveQueries(this, cluster, mayRead, scans);
  }

  /** The CVE queries. */
  public CveQueries cve() {
    return cves;
  }

  // ------------------------------------------------------------------ lists

  public Future<Answer> imageListForDigest(RequestContext ctx, Map<String, Object> args) {
    PageRequest page = page(args, SortCriteria.RELEVANCE);
    return images(cluster.request(ctx, LocalSearch.IMAGES_BY_DIGEST, (String) args.get("id"), "", null, null, null, page));
  }

  public Future<Answer> repoListWithNewestImage(RequestContext ctx, Map<String, Object> args) {
    return repos(cluster.request(ctx, LocalSearch.REPOS, "", "", null, null, null, page(args, SortCriteria.UPDATE_TIME)));
  }

  public Future<Answer> imageList(RequestContext ctx, Map<String, Object> args) {
    String repo = (String) args.get("repo");
    PageRequest page = page(args, SortCriteria.RELEVANCE);
    if (repo.isEmpty()) {
      return images(cluster.request(ctx, LocalSearch.IMAGES_ALL, "", "", null, null, null, page));
    }
    return oneRepoImages(cluster.request(ctx, LocalSearch.IMAGES_IN_REPO, "", repo, null, null, null, page));
  }

  public Future<Answer> starredRepos(RequestContext ctx, Map<String, Object> args) {
    return repos(cluster.request(ctx, LocalSearch.REPOS, "", "", null, null, Map.of("IsStarred", List.of("true")),
        page(args, SortCriteria.UPDATE_TIME)));
  }

  public Future<Answer> bookmarkedRepos(RequestContext ctx, Map<String, Object> args) {
    return repos(cluster.request(ctx, LocalSearch.REPOS, "", "", null, null, Map.of("IsBookmarked", List.of("true")),
        page(args, SortCriteria.UPDATE_TIME)));
  }

  public Future<Answer> globalSearch(RequestContext ctx, Map<String, Object> args) {
    String raw = (String) args.get("query");
    if (raw.length() > MAX_TEXT) {
      throw new SearchException("search text is longer than " + MAX_TEXT + " characters");
    }
    PageRequest page;
    try {
      page = page(args, SortCriteria.RELEVANCE);
    } catch (SearchException e) {
      throw new SearchException("requested page limit parameter can't be negative request parameter has invalid value");
    }
    Map<String, List<String>> filter = filter(args.get("filter"));
    String q = trimSlashes(raw.trim()).toLowerCase(Locale.ROOT);
    if (q.indexOf(':') < 0 && q.indexOf('@') < 0) {
      return repos(cluster.request(ctx, LocalSearch.REPOS, q, "", null, null, filter, page)).map(a -> global(a, "Repos"));
    }
    if (q.startsWith("sha256:")) {
      return images(cluster.request(ctx, LocalSearch.IMAGES_BY_DIGEST, q, "", null, null, filter, page))
          .map(a -> global(a, "Images"));
    }
    int colon = q.indexOf(':');
    if (colon >= 0) {
      String repo = q.substring(0, colon);
      String tag = q.substring(colon + 1);
      if (tag.indexOf(':') >= 0) {
        throw new SearchException("failed to parse search text, invalid format invalid image reference format, use [repo:tag] or [repo@digest]");
      }
      if (repo.isEmpty() && !tag.isEmpty()) {
        return images(cluster.request(ctx, LocalSearch.IMAGES_BY_TAG, tag, "", null, null, filter, page))
            .map(a -> global(a, "Images"));
      }
      if (!repo.isEmpty()) {
        return oneRepoImages(cluster.request(ctx, LocalSearch.IMAGES_IN_REPO, tag, repo, null, null, filter, page))
            .map(a -> global(a, "Images"));
      }
    }
    throw new SearchException("invalid search query");
  }

  /** A GlobalSearchResult with {@code field} filled from a paginated answer, the other lists empty. */
  @SuppressWarnings("unchecked")
  private static Answer global(Answer a, String field) {
    Map<String, Object> paged = (Map<String, Object>) a.data();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("Page", paged.get("Page"));
    out.put("Images", field.equals("Images") ? paged.get("Results") : List.of());
    out.put("Repos", field.equals("Repos") ? paged.get("Results") : List.of());
    out.put("Layers", List.of());
    return new Answer(out, a.unanswered());
  }

  public Future<Answer> derivedImageList(RequestContext ctx, Map<String, Object> args) {
    return related(ctx, args, LocalSearch.IMAGES_DERIVED);
  }

  public Future<Answer> baseImageList(RequestContext ctx, Map<String, Object> args) {
    return related(ctx, args, LocalSearch.IMAGES_BASE);
  }

  @SuppressWarnings("unchecked")
  private Future<Answer> related(RequestContext ctx, Map<String, Object> args, String operation) {
    String[] ref = repoTag((String) args.get("image"));
    String digest = (String) args.get("digest");
    PageRequest page = page(args, SortCriteria.UPDATE_TIME);
    SortCriteria.Kind kind = SortCriteria.Kind.IMAGES;
    page.sort().order(kind);
    return findImage(ctx, ref[0], ref[1], "repository not found").compose(hit -> {
      List<List<String>> layers = (List<List<String>>) hit.summary().get("_layers");
      List<Map<String, Object>> manifests = (List<Map<String, Object>>) hit.summary().get("Manifests");
      List<List<String>> base = new ArrayList<>();
      List<String> own = new ArrayList<>(); // the image's own manifests are never its base or derivative
      own.add(hit.digest());
      for (int i = 0; i < manifests.size(); i++) {
        String d = (String) manifests.get(i).get("Digest");
        own.add(d);
        if (digest == null || digest.equals(d)) {
          base.add(layers.get(i));
        }
      }
      if (base.isEmpty()) {
        return Future.failedFuture(new SearchException("can't find image: " + ref[0] + ":" + ref[1]));
      }
      return images(cluster.request(ctx, operation, "", "", base, own, null, page));
    });
  }

  // ------------------------------------------------------------------ one repository

  public Future<Answer> expandedRepoInfo(RequestContext ctx, Map<String, Object> args) {
    String repo = (String) args.get("repo");
    if (!readable(ctx, repo)) {
      return Future.succeededFuture(new Answer(emptyRepoInfo(), List.of()));
    }
    return cluster.one(cluster.request(ctx, LocalSearch.REPO_INFO, "", repo, null, null, null, allPages())).map(r -> {
      if (r.page().items().isEmpty()) {
        throw missing(r.unanswered(), "repo metadata not found for given repo name");
      }
      return new Answer(r.page().items().get(0).summary(), List.of());
    });
  }

  public Future<Answer> image(RequestContext ctx, Map<String, Object> args) {
    String[] ref = repoTag((String) args.get("image"));
    if (!readable(ctx, ref[0])) {
      return Future.succeededFuture(new Answer(Map.of(), List.of()));
    }
    return findImage(ctx, ref[0], ref[1], "repo metadata not found for given repo name").map(hit -> {
      Map<String, Object> s = new LinkedHashMap<>(hit.summary());
      s.remove("_layers");
      return new Answer(s, List.of());
    });
  }

  public Future<Answer> referrers(RequestContext ctx, Map<String, Object> args) {
    String repo = (String) args.get("repo");
    String digest = (String) args.get("digest");
    try {
      Digest.parse(digest);
    } catch (RuntimeException e) {
      throw new SearchException("bad digest string from request '" + digest + "'");
    }
    if (!readable(ctx, repo)) {
      return Future.succeededFuture(new Answer(List.of(), List.of()));
    }
    @SuppressWarnings("unchecked")
    List<String> types = args.get("type") == null ? List.of() : (List<String>) args.get("type");
    SearchRequest q = cluster.request(ctx, LocalSearch.REFERRERS, digest, repo, null, null,
        Map.of("type", List.copyOf(types)), allPages());
    return cluster.one(q).compose(r -> {
      if (!r.page().items().isEmpty()) {
        return Future.succeededFuture(new Answer(summaries(r.page().items()), List.of()));
      }
      return exists(ctx, repo).map(found -> {
        if (!found) {
          throw missing(r.unanswered(), "repo metadata not found for given repo name");
        }
        return new Answer(List.of(), r.unanswered());
      });
    });
  }

  /** The image {@code repo:tag}, with its layer lists, from the repository's owner; fails with zot's messages. */
  private Future<SearchHit> findImage(RequestContext ctx, String repo, String tag, String unknownRepo) {
    return cluster.one(cluster.request(ctx, LocalSearch.IMAGE, tag, repo, null, null, null, allPages())).compose(r -> {
      if (!r.page().items().isEmpty()) {
        return Future.succeededFuture(r.page().items().get(0));
      }
      return exists(ctx, repo).compose(found -> Future.failedFuture(found
          ? new SearchException("can't find image: " + repo + ":" + tag) : missing(r.unanswered(), unknownRepo)));
    });
  }

  Future<Boolean> exists(RequestContext ctx, String repo) {
    return cluster.one(cluster.request(ctx, LocalSearch.REPO_INFO, "", repo, null, null, null, allPages()))
        .map(r -> !r.page().items().isEmpty());
  }

  static SearchException missing(List<String> unanswered, String message) {
    return new SearchException(unanswered.isEmpty() ? message
        : message + " (no answer from " + String.join(", ", unanswered) + ")");
  }

  // ------------------------------------------------------------------ shaping

  private Future<Answer> repos(SearchRequest q) {
    return cluster.list(q, SortCriteria.Kind.REPOS).map(r -> paginated(r.page(), r.unanswered()));
  }

  Future<Answer> images(SearchRequest q) {
    return cluster.list(q, SortCriteria.Kind.IMAGES).map(r -> paginated(r.page(), r.unanswered()));
  }

  /** One repository's images: its owner sorted and cut them; the page is sliced here like a merge of one list. */
  Future<Answer> oneRepoImages(SearchRequest q) {
    var order = SortCriteria.valueOf(q.sort()).order(SortCriteria.Kind.IMAGES);
    PageRequest page = new PageRequest(q.limit(), q.offset(), SortCriteria.valueOf(q.sort()));
    if (!readable(q.ctx(), q.repository())) {
      return Future.succeededFuture(paginated(new Paging.Page(List.of(), 0), List.of()));
    }
    return cluster.one(q).map(r -> paginated(Paging.merge(List.of(r.page().items()), r.page().total(), order, page),
        r.unanswered()));
  }

  private static Answer paginated(Paging.Page page, List<String> unanswered) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("TotalCount", page.total());
    info.put("ItemCount", page.items().size());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("Page", info);
    out.put("Results", summaries(page.items()));
    return new Answer(out, unanswered);
  }

  private static List<Map<String, Object>> summaries(List<SearchHit> hits) {
    List<Map<String, Object>> out = new ArrayList<>(hits.size());
    for (SearchHit h : hits) {
      out.add(h.summary());
    }
    return out;
  }

  private static Map<String, Object> emptyRepoInfo() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("Images", List.of());
    m.put("Summary", null);
    return m;
  }

  private boolean readable(RequestContext ctx, String repo) {
    return ctx.isInternal() || mayRead.test(ctx.identity(), repo);
  }

  @SuppressWarnings("unchecked")
  PageRequest page(Map<String, Object> args, SortCriteria defaultSort) {
    PageRequest page = PageRequest.of((Map<String, Object>) args.get("requestedPage"), defaultSort);
    if (page.sort() == SortCriteria.DOWNLOADS && !downloadsCounted) {
      throw new SearchException("sorting by 'DOWNLOADS' is not supported: pulls are not counted (events are off)");
    }
    return page;
  }

  private static PageRequest allPages() {
    return new PageRequest(0, 0, SortCriteria.ALPHABETIC_ASC);
  }

  /** {@code repo:tag} split at the first colon; zot's error without a tag. */
  private static String[] repoTag(String image) {
    int colon = image.indexOf(':');
    if (colon < 0) {
      throw new SearchException("no reference provided");
    }
    return new String[] {image.substring(0, colon), image.substring(colon + 1)};
  }

  private static String trimSlashes(String s) {
    int a = 0;
    int b = s.length();
    while (a < b && s.charAt(a) == '/') {
      a++;
    }
    while (b > a && s.charAt(b - 1) == '/') {
      b--;
    }
    return s.substring(a, b);
  }

  /** A {@code Filter} argument as member filter strings: Os/Arch lowercased, trimmed, empty entries dropped. */
  @SuppressWarnings("unchecked")
  static Map<String, List<String>> filter(Object arg) {
    if (arg == null) {
      return Map.of();
    }
    Map<String, Object> f = (Map<String, Object>) arg;
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String key : List.of("Os", "Arch")) {
      List<String> values = new ArrayList<>();
      Object v = f.get(key);
      if (v instanceof List<?> list) {
        for (Object o : list) {
          if (o == null) {
            continue;
          }
          String s = o.toString().trim().toLowerCase(Locale.ROOT);
          if (s.length() > MAX_TEXT) {
            throw new SearchException(key + " filter entry is longer than " + MAX_TEXT + " characters");
          }
          if (!s.isEmpty()) {
            values.add(s);
          }
        }
      }
      if (!values.isEmpty()) {
        out.put(key, List.copyOf(values));
      }
    }
    for (String key : List.of("HasToBeSigned", "IsBookmarked", "IsStarred")) {
      if (f.get(key) instanceof Boolean b) {
        out.put(key, List.of(b.toString()));
      }
    }
    return out;
  }
}
