package io.flotilla.search;

import io.flotilla.bus.Messages.SearchHit;
import io.flotilla.oci.MediaTypes;
import io.flotilla.scan.ScanResults;
import io.flotilla.search.SearchQueries.Answer;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * zot's four CVE queries on the node that received them. {@code CVEListForImage} and
 * {@code ImageListWithCVEFixed} are answered by the repository's answering member (which scans
 * what has no stored scan); {@code ImageListForCVE} fans out like the other image lists;
 * {@code CVEDiffListForImages} fetches both images' CVE lists (possibly from two members) and
 * subtracts them here. All four answer {@code cve search is disabled} when this node has no
 * active vulnerability database. Runs on the caller's event loop; errors are zot's messages.
 */
public final class CveQueries {
  private final SearchQueries queries;
  private final ClusterSearch cluster;
  private final BiPredicate<String, String> mayRead;
  private final ScanResults scans;

  CveQueries(SearchQueries queries, ClusterSearch cluster, BiPredicate<String, String> mayRead, ScanResults scans) {
    this.queries = queries;
    this.cluster = cluster;
    this.mayRead = mayRead;
    this.scans = scans;
  }

  private void enabled() {
    if (!scans.enabled()) {
      throw new SearchException("cve search is disabled");
    }
  }

  // ------------------------------------------------------------------ CVEListForImage

  @SuppressWarnings("unchecked")
  public Future<Answer> cveListForImage(RequestContext ctx, Map<String, Object> args) {
    enabled();
    String image = (String) args.get("image");
    int at = image.indexOf('@');
    int cut = at >= 0 ? at : image.indexOf(':');
    String repo = cut < 0 ? image : image.substring(0, cut);
    String reference = cut < 0 ? "" : image.substring(cut + 1);
    if (!readable(ctx, repo)) {
      return Future.succeededFuture(new Answer(Map.of(), List.of()));
    }
    if (reference.isEmpty()) {
      throw new SearchException("no reference provided");
    }
    PageRequest page = CveList.page((Map<String, Object>) args.get("requestedPage"));
    Map<String, List<String>> filter = cveFilter(args, (String) args.get("severity"));
    return cveList(ctx, repo, reference, filter, page).map(m -> new Answer(m, List.of()));
  }

  private static Map<String, List<String>> cveFilter(Map<String, Object> args, String severity) {
    Map<String, List<String>> f = new LinkedHashMap<>();
    f.put("searchedCVE", List.of(text(args.get("searchedCVE"))));
    f.put("excludedCVE", List.of(text(args.get("excludedCVE"))));
    f.put("severity", List.of(text(severity)));
    return f;
  }

  private static String text(Object o) {
    return o == null ? "" : o.toString();
  }

  /** A {@code CVEResultForImage} from the repository's answering member; fails with zot's messages. */
  private Future<Map<String, Object>> cveList(RequestContext ctx, String repo, String reference,
      Map<String, List<String>> filter, PageRequest page) {
    var q = cluster.request(ctx, LocalSearch.CVES_FOR_IMAGE, reference, repo, null, null, filter, page);
    return cluster.one(q).compose(r -> {
      if (!r.page().items().isEmpty()) {
        Map<String, Object> m = r.page().items().get(0).summary();
        if (m.get("_error") instanceof String error) {
          return Future.failedFuture(new SearchException(error));
        }
        return Future.succeededFuture(m);
      }
      if (reference.contains(":")) {
        return Future.failedFuture(new SearchException("manifest not found"));
      }
      return queries.exists(ctx, repo).compose(found -> Future.failedFuture(found
          ? new SearchException("tag metadata not found for given repo and tag names")
          : SearchQueries.missing(r.unanswered(), "repo metadata not found for given repo name")));
    });
  }

  // ------------------------------------------------------------------ image lists

  public Future<Answer> imageListForCve(RequestContext ctx, Map<String, Object> args) {
    enabled();
    PageRequest page = queries.page(args, SortCriteria.UPDATE_TIME);
    return queries.images(cluster.request(ctx, LocalSearch.IMAGES_FOR_CVE, (String) args.get("id"), "", null, null,
        SearchQueries.filter(args.get("filter")), page));
  }

  @SuppressWarnings("unchecked")
  public Future<Answer> imageListWithCveFixed(RequestContext ctx, Map<String, Object> args) {
    enabled();
    String repo = (String) args.get("image");
    PageRequest page = queries.page(args, SortCriteria.UPDATE_TIME);
    var q = cluster.request(ctx, LocalSearch.IMAGES_CVE_FIXED, (String) args.get("id"), repo, null, null,
        SearchQueries.filter(args.get("filter")), page);
    return queries.oneRepoImages(q).compose(a -> {
      if (!((List<Object>) ((Map<String, Object>) a.data()).get("Results")).isEmpty() || !readable(ctx, repo)) {
        return Future.succeededFuture(a);
      }
      return queries.exists(ctx, repo).map(found -> {
        if (!found) {
          throw SearchQueries.missing(a.unanswered(), "repo metadata not found for given repo name");
        }
        return a;
      });
    });
  }

  // ------------------------------------------------------------------ CVEDiffListForImages

  /** An image input resolved to one image manifest: what is echoed, and what the diff needs. */
  private record Resolved(Map<String, Object> identifier, String repo, String digest, List<String> layers) {}

  @SuppressWarnings("unchecked")
  public Future<Answer> cveDiffListForImages(RequestContext ctx, Map<String, Object> args) {
    enabled();
    Map<String, Object> minuend = (Map<String, Object>) args.get("minuend");
    Map<String, Object> subtrahend = (Map<String, Object>) args.get("subtrahend");
    String minuendRepo = text(minuend.get("Repo"));
    if (minuendRepo.isEmpty()) {
      throw new SearchException("minuend image " + describe(minuend) + ": repo name can't be empty string");
    }
    if (!readable(ctx, minuendRepo)) {
      return Future.succeededFuture(unreadableDiff());
    }
    PageRequest page = CveList.page((Map<String, Object>) args.get("requestedPage"));
    Map<String, List<String>> filter = cveFilter(args, "");
    return resolve(ctx, minuend, "minuend").compose(m -> {
      String subtrahendRepo = text(subtrahend.get("Repo"));
      if (!subtrahendRepo.isEmpty() && !readable(ctx, subtrahendRepo)) {
        return Future.succeededFuture(unreadableDiff());
      }
      Future<Resolved> s = subtrahendRepo.isEmpty() ? baseImage(ctx, m) : resolve(ctx, subtrahend, "subtrahend");
      return s.compose(sub -> {
        PageRequest all = new PageRequest(0, 0, SortCriteria.SEVERITY);
        var left = cveList(ctx, m.repo(), m.digest(), filter, all);
        var right = cveList(ctx, sub.repo(), sub.digest(), filter, all);
        return Future.all(left, right).map(both -> new Answer(diff(m, sub, left.result(), right.result(), page),
            List.of()));
      });
    });
  }

  /**
   * The empty diff of an unreadable image, without an error: zot answers an empty object, whose
   * non-null identifiers then fail GraphQL's null check; these are empty instead.
   */
  private static Answer unreadableDiff() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("Minuend", identifier("", "", null, null));
    out.put("Subtrahend", identifier("", "", null, null));
    return new Answer(out, List.of());
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> diff(Resolved m, Resolved s, Map<String, Object> minuend,
      Map<String, Object> subtrahend, PageRequest page) {
    Set<String> subtracted = new HashSet<>();
    for (Map<String, Object> c : (List<Map<String, Object>>) subtrahend.get("CVEList")) {
      subtracted.add((String) c.get("Id"));
    }
    List<Map<String, Object>> left = new ArrayList<>();
    for (Map<String, Object> c : (List<Map<String, Object>>) minuend.get("CVEList")) {
      if (!subtracted.contains(c.get("Id"))) {
        left.add(c);
      }
    }
    List<Map<String, Object>> cves = new ArrayList<>();
    for (Map<String, Object> c : CveList.slice(left, page).items()) {
      Map<String, Object> cve = new LinkedHashMap<>(c);
      List<Map<String, Object>> packages = new ArrayList<>();
      for (Map<String, Object> p : (List<Map<String, Object>>) c.get("PackageList")) {
        Map<String, Object> pkg = new LinkedHashMap<>(p);
        pkg.put("PackagePath", null); // zot's diff leaves it out
        packages.add(pkg);
      }
      cve.put("PackageList", packages);
      cves.add(cve);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("Minuend", m.identifier());
    out.put("Subtrahend", s.identifier());
    out.put("CVEList", cves);
    out.put("Summary", CveList.diffSummary(left));
    Map<String, Object> info = new LinkedHashMap<>(); // zot drops the page info
    info.put("TotalCount", 0);
    info.put("ItemCount", 0);
    out.put("Page", info);
    return out;
  }

  /** zot's resolution of an {@code ImageInput}: a tag's manifest, or the child of an index named by digest or platform. */
  @SuppressWarnings("unchecked")
  private Future<Resolved> resolve(RequestContext ctx, Map<String, Object> input, String which) {
    String repo = text(input.get("Repo"));
    String tag = text(input.get("Tag"));
    String prefix = which + " image " + describe(input) + ": ";
    if (tag.isEmpty()) {
      return Future.failedFuture(new SearchException(prefix + "tag can't be empty string"));
    }
    String digest = text(input.get("Digest"));
    Map<String, Object> platform = (Map<String, Object>) input.get("Platform");
    String os = platform == null ? "" : text(platform.get("Os"));
    String arch = platform == null ? "" : text(platform.get("Arch"));
    var q = cluster.request(ctx, LocalSearch.IMAGE, tag, repo, null, null, null, new PageRequest(0, 0,
        SortCriteria.ALPHABETIC_ASC));
    return cluster.one(q).compose(r -> {
      if (r.page().items().isEmpty()) {
        return queries.exists(ctx, repo).compose(found -> Future.failedFuture(new SearchException(prefix
            + (found ? "image not found" : "repo metadata not found for given repo name"))));
      }
      SearchHit hit = r.page().items().get(0);
      List<Map<String, Object>> manifests = (List<Map<String, Object>>) hit.summary().get("Manifests");
      List<List<String>> layers = (List<List<String>>) hit.summary().get("_layers");
      if (!MediaTypes.isIndex((String) hit.summary().get("MediaType"))) {
        // zot echoes the given platform of a plain image as it was given
        Map<String, Object> echo = platform == null ? null : platform((String) platform.get("Os"),
            (String) platform.get("Arch"));
        return Future.succeededFuture(new Resolved(identifier(repo, tag, hit.digest(), echo), repo, hit.digest(),
            layers.isEmpty() ? List.of() : layers.get(0)));
      }
      if (digest.isEmpty() && (os.isEmpty() || arch.isEmpty())) {
        return Future.failedFuture(new SearchException(prefix
            + "input is not specific enough: platform or specific manifest digest needed"));
      }
      for (int i = 0; i < manifests.size(); i++) {
        Map<String, Object> p = (Map<String, Object>) manifests.get(i).get("Platform");
        String d = (String) manifests.get(i).get("Digest");
        if (d.equals(digest) || (os.equals(p.get("Os")) && arch.equals(p.get("Arch")))) {
          return Future.succeededFuture(new Resolved(identifier(repo, tag, d, platform((String) p.get("Os"),
              (String) p.get("Arch"))), repo, d, layers.get(i)));
        }
      }
      return Future.failedFuture(new SearchException(prefix + "image not found"));
    });
  }

  /**
   * zot's subtrahend when none is given: among the minuend's base images in its own repository
   * (BaseImageList's rule: a manifest whose layers are a prefix of the minuend's), the one sharing
   * the most layers, the first in (tag) order on a tie.
   */
  @SuppressWarnings("unchecked")
  private Future<Resolved> baseImage(RequestContext ctx, Resolved m) {
    var q = cluster.request(ctx, LocalSearch.IMAGES_BASE, "", m.repo(), List.of(m.layers()), List.of(m.digest()), null,
        new PageRequest(0, 0, SortCriteria.ALPHABETIC_ASC));
    return cluster.one(q).compose(r -> {
      Set<String> own = new HashSet<>(m.layers());
      Resolved best = null;
      int bestScore = 0;
      for (SearchHit h : r.page().items()) {
        for (Map<String, Object> manifest : (List<Map<String, Object>>) h.summary().get("Manifests")) {
          List<String> layers = new ArrayList<>();
          for (Map<String, Object> l : (List<Map<String, Object>>) manifest.get("Layers")) {
            layers.add((String) l.get("Digest"));
          }
          String d = (String) manifest.get("Digest");
          boolean base = !d.equals(m.digest()) && !layers.isEmpty() && layers.size() <= m.layers().size()
              && m.layers().subList(0, layers.size()).equals(layers);
          int score = (int) layers.stream().filter(own::contains).count();
          if (base && score > bestScore) {
            bestScore = score;
            Map<String, Object> p = (Map<String, Object>) manifest.get("Platform");
            best = new Resolved(identifier(h.repo(), h.tag(), d, platform((String) p.get("Os"), (String) p.get("Arch"))),
                h.repo(), d, layers);
          }
        }
      }
      return best != null ? Future.succeededFuture(best) : Future.failedFuture(new SearchException(
          "subtrahend image: no base image of " + m.repo() + "@" + m.digest() + " found"));
    });
  }

  private static Map<String, Object> identifier(String repo, String tag, String digest, Map<String, Object> platform) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("Repo", repo);
    m.put("Tag", tag);
    m.put("Digest", digest);
    m.put("Platform", platform);
    return m;
  }

  private static Map<String, Object> platform(String os, String arch) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("Os", os);
    m.put("Arch", arch);
    return m;
  }

  /** An image input as zot names it in errors: {@code repo:tag} or {@code repo@digest}, and {@code (os/arch)}. */
  @SuppressWarnings("unchecked")
  private static String describe(Map<String, Object> input) {
    String name = text(input.get("Repo"));
    name = name.isEmpty() ? "<empty>" : name;
    if (!text(input.get("Tag")).isEmpty()) {
      name += ":" + input.get("Tag");
    } else if (!text(input.get("Digest")).isEmpty()) {
      name += "@" + input.get("Digest");
    }
    Map<String, Object> p = (Map<String, Object>) input.get("Platform");
    if (p != null && !text(p.get("Os")).isEmpty() && !text(p.get("Arch")).isEmpty()) {
      name += " (" + p.get("Os") + "/" + p.get("Arch") + ")";
    }
    return name;
  }

  private boolean readable(RequestContext ctx, String repo) {
    return ctx.isInternal() || mayRead.test(ctx.identity(), repo);
  }
}
