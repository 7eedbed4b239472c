package io.flotilla.search;

import io.flotilla.scan.Finding;
import io.flotilla.scan.ImageScan;
import io.flotilla.scan.ScanResults;
import io.flotilla.scan.VulnerabilitySummary;
import io.flotilla.search.RepoIndex.ImageEntry;
import io.flotilla.search.RepoIndex.ManifestLayers;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One member's vulnerability side of search, over its {@link ScanResults}: the
 * {@code Vulnerabilities} of image summaries patched from stored scans, the manifests a
 * reference names, the scans of manifests (stored, else scanned now on this node, the repository's
 * primary owner), and which tags of a repository have a CVE fixed (zot's rule). With scanning
 * disabled, patching costs one check per image. Non-blocking: called on event loops and workers.
 */
final class CveSearch {
  private final ScanResults scans;

  CveSearch(ScanResults scans) {
    this.scans = scans;
  }

  ScanResults scans() {
    return scans;
  }

  // ------------------------------------------------------------------ summaries

  /**
   * An image summary with {@code Vulnerabilities} (the image's and each manifest's) from the stored
   * scans: not scanned ({@code ""}) for a manifest without a successful scan, and for an index of
   * which some child has none; an index's is over the union of its children's findings. The same
   * map when scanning is disabled.
   */
  @SuppressWarnings("unchecked")
  Map<String, Object> withVulnerabilities(Map<String, Object> summary) {
    if (!scans.enabled() || summary == null) {
      return summary;
    }
    List<Finding> all = new ArrayList<>();
    boolean complete = true;
    List<Map<String, Object>> manifests = new ArrayList<>();
    List<Object> given = (List<Object>) summary.get("Manifests");
    for (Object o : given == null ? List.of() : given) {
      Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) o);
      ImageScan scan = scans.stored((String) m.get("Digest")).filter(s -> !s.failed()).orElse(null);
      if (scan == null) {
        complete = false;
        m.put("Vulnerabilities", VulnerabilitySummary.NOT_SCANNED.toGraphQl());
      } else {
        all.addAll(scan.findings());
        m.put("Vulnerabilities", VulnerabilitySummary.of(scan.findings()).toGraphQl());
      }
      manifests.add(m);
    }
    Map<String, Object> s = new LinkedHashMap<>(summary);
    s.put("Manifests", manifests);
    s.put("Vulnerabilities", (complete && !manifests.isEmpty() ? VulnerabilitySummary.of(all)
        : VulnerabilitySummary.NOT_SCANNED).toGraphQl());
    return s;
  }

  // ------------------------------------------------------------------ references and scans

  /**
   * The image manifests a reference names in a repository: a tag's (its children for an index),
   * an image's by its digest, or one manifest by its digest; empty when none.
   */
  static List<String> manifestsOf(RepoIndex r, String reference) {
    boolean digest = reference.contains(":");
    for (ImageEntry i : r.images()) {
      if (digest ? i.digest().equals(reference) : i.tag().equals(reference)) {
        return digests(i);
      }
    }
    if (digest) {
      for (ImageEntry i : r.images()) {
        for (ManifestLayers m : i.manifests()) {
          if (m.digest().equals(reference)) {
            return List.of(reference);
          }
        }
      }
    }
    return List.of();
  }

  static List<String> digests(ImageEntry i) {
    List<String> out = new ArrayList<>(i.manifests().size());
    for (ManifestLayers m : i.manifests()) {
      out.add(m.digest());
    }
    return out;
  }

  /**
   * The scans of {@code digests} of {@code repository}: the stored one, else one made now when
   * {@code scan} (this node is the repository's answering member). A scan that fails or is not
   * made maps to a failed {@link ImageScan} carrying the reason.
   */
  Future<Map<String, ImageScan>> scansOf(String repository, Collection<String> digests, boolean scan) {
    Map<String, ImageScan> out = new java.util.concurrent.ConcurrentHashMap<>();
    List<Future<?>> pending = new ArrayList<>();
    for (String d : new LinkedHashSet<>(digests)) {
      var stored = scans.stored(d);
      if (stored.isPresent()) {
        out.put(d, stored.get());
        continue;
      }
      if (!scan) {
        out.put(d, failed(d, new IllegalStateException("not scanned yet")));
        continue;
      }
      pending.add(scans.scanNow(repository, d).transform(ar -> {
        out.put(d, ar.succeeded() ? ar.result() : failed(d, ar.cause()));
        return Future.succeededFuture();
      }));
    }
    return Future.join(pending).map(v -> new HashMap<>(out));
  }

  private static ImageScan failed(String digest, Throwable cause) {
    String why = cause == null || cause.getMessage() == null ? "scan failed" : cause.getMessage();
    return new ImageScan(digest, "", 0, why, null, List.of(), List.of(), 0);
  }

  // ------------------------------------------------------------------ fixed tags

  /** A tag and the manifests of it that are listed (an index may be listed with some of its children). */
  record Listed(ImageEntry image, Set<String> manifests) {}

  /**
   * zot's tags with CVE {@code id} fixed: the tags (and, of an index, the children) that do not
   * have it and are no older than the earliest vulnerable tag; every tag when none has it. A
   * manifest whose scan failed counts as vulnerable, as zot counts it. Times are the manifests'
   * {@code LastUpdated}; an index's is its newest child's, and a vulnerable index's time is its
   * newest vulnerable child's (zot picks the earliest vulnerable tag in map order when indexes are
   * involved; this takes the least of those times, which is the same without indexes).
   */
  static List<Listed> fixedTags(List<ImageEntry> images, Map<String, ImageScan> scanned, String id) {
    Map<String, Boolean> vulnerable = new HashMap<>();
    scanned.forEach((d, s) -> vulnerable.put(d, s.failed() || s.findings().stream().anyMatch(f -> f.id().equals(id))));
    Long earliest = null;
    for (ImageEntry i : images) {
      long newestVulnerable = Long.MIN_VALUE;
      for (String d : digests(i)) {
        if (vulnerable.getOrDefault(d, true)) {
          newestVulnerable = Math.max(newestVulnerable, time(i, d));
        }
      }
      if (newestVulnerable != Long.MIN_VALUE) {
        earliest = earliest == null ? newestVulnerable : Math.min(earliest, newestVulnerable);
      }
    }
    List<Listed> out = new ArrayList<>();
    for (ImageEntry i : images) {
      List<String> ds = digests(i);
      if (earliest == null) {
        out.add(new Listed(i, new LinkedHashSet<>(ds)));
        continue;
      }
      long newest = Long.MIN_VALUE;
      for (String d : ds) {
        newest = Math.max(newest, time(i, d));
      }
      if (ds.isEmpty() || newest < earliest) {
        continue;
      }
      Set<String> fixed = new LinkedHashSet<>();
      for (String d : ds) {
        if (time(i, d) >= earliest && !vulnerable.getOrDefault(d, true)) {
          fixed.add(d);
        }
      }
      if (!fixed.isEmpty()) {
        out.add(new Listed(i, fixed));
      }
    }
    return out;
  }

  /** A manifest's LastUpdated (epoch nanoseconds, 0 unknown) as its image summary has it. */
  @SuppressWarnings("unchecked")
  private static long time(ImageEntry i, String manifest) {
    for (Object o : (List<Object>) i.summary().get("Manifests")) {
      Map<String, Object> m = (Map<String, Object>) o;
      if (manifest.equals(m.get("Digest"))) {
        return Times.parse((String) m.get("LastUpdated"));
      }
    }
    return 0;
  }

  /** An image summary listing only {@code keep} of its manifests (zot lists an index with its matching children). */
  @SuppressWarnings("unchecked")
  static Map<String, Object> onlyManifests(Map<String, Object> summary, Set<String> keep) {
    List<Object> manifests = (List<Object>) summary.get("Manifests");
    if (manifests.size() == keep.size()) {
      return summary;
    }
    List<Object> kept = new ArrayList<>();
    for (Object o : manifests) {
      if (keep.contains(((Map<String, Object>) o).get("Digest"))) {
        kept.add(o);
      }
    }
    Map<String, Object> s = new LinkedHashMap<>(summary);
    s.put("Manifests", kept);
    return s;
  }

  // ------------------------------------------------------------------ the CVE list of an image

  /**
   * zot's {@code CVEResultForImage} of manifests {@code digests} of {@code repository} (one image,
   * or an index's children, as the union of their findings), filtered and paged; or a map with
   * {@code _error} when a scan failed. {@code Summary} counts every CVE, {@code Page} the filtered ones.
   */
  Future<Map<String, Object>> cveResult(String repository, String reference, List<String> digests, boolean scan,
      String searched, String excluded, String severity, PageRequest page) {
    return scansOf(repository, digests, scan).map(scanned -> {
      List<Finding> findings = new ArrayList<>();
      for (String d : digests) {
        ImageScan s = scanned.get(d);
        if (s.failed()) {
          Map<String, Object> err = new LinkedHashMap<>();
          err.put("_error", "scanning " + repository + "@" + d + " failed: " + s.error());
          return err;
        }
        findings.addAll(s.findings());
      }
      List<Map<String, Object>> all = CveList.of(findings, scans::advisory);
      CveList.Page p = CveList.slice(CveList.filter(all, searched, excluded, severity), page);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("Tag", reference);
      out.put("CVEList", p.items());
      out.put("Summary", VulnerabilitySummary.of(findings).toGraphQl());
      out.put("Page", p.info());
      return out;
    });
  }
}
