package io.flotilla.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.search.RepoIndex.ImageEntry;
import io.flotilla.search.RepoIndex.ManifestLayers;
import io.flotilla.search.RepoIndex.Platform;
import io.flotilla.search.RepoIndex.RepoEntry;
import io.flotilla.storage.ManifestMeta;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Builds a {@link RepoIndex} from one repository's tags, manifests and referrers, reading manifest
 * and image config bytes (small JSON) through {@link Content}. Sizes, times, platforms and
 * descriptive fields follow zot's definitions: an image's size is its manifest, config and layers
 * (for an index: the index and its children's unique blobs); descriptive fields come from
 * annotations, then the config's OCI labels, then label-schema labels. Blocking: run on a worker.
 */
public final class RepoIndexBuilder {
  /** Where the builder reads a repository from: a metadata store and blob store, or a test's maps. */
  public interface Content {
    /** Tag -> (digest, when it was tagged, epoch millis). */
    Map<String, Map.Entry<Digest, Long>> tags();

    Map<Digest, ManifestMeta> manifests();

    /** The manifests whose subject is {@code digest}. */
    List<ManifestMeta> referrers(Digest digest);

    /** A blob's bytes (a manifest, an image config), or null when it is not stored here. */
    byte[] read(Digest digest) throws IOException;
  }

  static final String COSIGN_SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json";
  static final String NOTATION_SIGNATURE = "application/vnd.cns.notary.signature";
  private static final String OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json";
  private static final String DOCKER_IMAGE_CONFIG = "application/vnd.docker.container.image.v1+json";
  private static final Pattern COSIGN_TAG = Pattern.compile("sha256-([a-f0-9]{64})\\.sig");
  /** Configs larger than this are not read (an artifact's config can be anything). */
  private static final int MAX_CONFIG = 4 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String repo;
  private final Content content;
  private final Map<Digest, ParsedManifest> parsed = new HashMap<>();
  /** Signed digest -> signatures (tool names), from cosign tags and signature referrers. */
  private final Map<String, List<String>> signatures = new HashMap<>();

  private RepoIndexBuilder(String repo, Content content) {
    this.repo = repo;
    this.content = content;
  }

  /** The index of {@code repo} at metadata {@code version}. */
  public static RepoIndex build(String repo, long version, Content content) throws IOException {
    return new RepoIndexBuilder(repo, content).build(version);
  }

  /** Whether a tag names a cosign signature ({@code sha256-<hex>.sig}); such tags are signatures, not images. */
  static boolean isSignatureTag(String tag) {
    return COSIGN_TAG.matcher(tag).matches();
  }

  private record ParsedManifest(ManifestMeta meta, JsonNode json, JsonNode config, String configDigest,
      long configSize, List<JsonNode> layers) {}

  private RepoIndex build(long version) throws IOException {
    Map<String, Map.Entry<Digest, Long>> tags = content.tags();
    Map<Digest, ManifestMeta> manifests = content.manifests();
    for (var e : tags.entrySet()) {
      var m = COSIGN_TAG.matcher(e.getKey());
      if (m.matches() && manifests.containsKey(e.getValue().getKey())) {
        signatures.computeIfAbsent("sha256:" + m.group(1), k -> new ArrayList<>()).add("cosign");
      }
    }
    Map<Digest, List<ManifestMeta>> referrers = new HashMap<>();
    for (ManifestMeta m : manifests.values()) {
      if (m.subject() != null) {
        referrers.computeIfAbsent(m.subject(), k -> content.referrers(m.subject()));
        String tool = COSIGN_SIGNATURE.equals(m.artifactType()) ? "cosign"
            : NOTATION_SIGNATURE.equals(m.artifactType()) ? "notation" : null;
        if (tool != null) {
          signatures.computeIfAbsent(m.subject().toString(), k -> new ArrayList<>()).add(tool);
        }
      }
    }
    List<ImageEntry> images = new ArrayList<>();
    for (var e : tags.entrySet()) {
      ManifestMeta meta = manifests.get(e.getValue().getKey());
      if (isSignatureTag(e.getKey()) || meta == null) {
        continue;
      }
      images.add(image(e.getKey(), meta, e.getValue().getValue(), manifests, referrers));
    }
    return new RepoIndex(repo, version, List.copyOf(images), repoEntry(images), Map.copyOf(referrers));
  }

  private ParsedManifest parse(ManifestMeta meta) throws IOException {
    ParsedManifest p = parsed.get(meta.digest());
    if (p != null) {
      return p;
    }
    byte[] bytes = content.read(meta.digest());
    JsonNode json = bytes == null ? JSON.createObjectNode() : JSON.readTree(bytes);
    JsonNode config = null;
    String configDigest = json.path("config").path("digest").asText("");
    long configSize = json.path("config").path("size").asLong(0);
    String configType = json.path("config").path("mediaType").asText("");
    if (!configDigest.isEmpty() && configSize <= MAX_CONFIG
        && (configType.equals(OCI_IMAGE_CONFIG) || configType.equals(DOCKER_IMAGE_CONFIG))) {
      try {
        byte[] c = content.read(Digest.parse(configDigest));
        config = c == null ? null : JSON.readTree(c);
      } catch (RuntimeException | IOException e) {
        config = null; // an unreadable config leaves the config's fields empty
      }
    }
    List<JsonNode> layers = new ArrayList<>();
    json.path("layers").forEach(layers::add);
    p = new ParsedManifest(meta, json, config, configDigest, configSize, layers);
    parsed.put(meta.digest(), p);
    return p;
  }

  private ImageEntry image(String tag, ManifestMeta meta, long taggedMillis, Map<Digest, ManifestMeta> manifests,
      Map<Digest, List<ManifestMeta>> referrers) throws IOException {
    ParsedManifest top = parse(meta);
    boolean index = MediaTypes.isIndex(meta.mediaType());
    List<Map<String, Object>> summaries = new ArrayList<>();
    List<ManifestLayers> layerLists = new ArrayList<>();
    List<Platform> platforms = new ArrayList<>();
    Set<String> digests = new LinkedHashSet<>();
    Map<String, Long> unique = new LinkedHashMap<>();
    unique.put(meta.digest().toString(), meta.size());
    long updated = 0;
    JsonNode labels = null;
    List<ParsedManifest> children = new ArrayList<>();
    if (index) {
      for (JsonNode d : top.json().path("manifests")) {
        ManifestMeta child = manifests.get(parseDigest(d.path("digest").asText("")));
        if (child != null && !MediaTypes.isIndex(child.mediaType())) {
          children.add(parse(child));
        }
      }
    } else {
      children.add(top);
    }
    for (ParsedManifest c : children) {
      Map<String, Object> ms = manifestSummary(c, referrers);
      summaries.add(ms);
      @SuppressWarnings("unchecked")
      Map<String, Object> platform = (Map<String, Object>) ms.get("Platform");
      Platform pf = new Platform((String) platform.get("Os"), (String) platform.get("Arch"));
      if (!pf.os().isEmpty() || !pf.arch().isEmpty()) {
        platforms.add(pf);
      }
      updated = Math.max(updated, lastUpdated(c));
      List<String> layers = new ArrayList<>();
      for (JsonNode l : c.layers()) {
        layers.add(l.path("digest").asText(""));
        unique.put(l.path("digest").asText(""), l.path("size").asLong(0));
      }
      layerLists.add(new ManifestLayers(c.meta().digest().toString(), List.copyOf(layers)));
      unique.put(c.meta().digest().toString(), c.meta().size());
      if (!c.configDigest().isEmpty()) {
        unique.put(c.configDigest(), c.configSize());
      }
      if (labels == null && c.config() != null) {
        labels = c.config().path("config").path("Labels");
      }
    }
    digests.addAll(unique.keySet());
    long size = unique.values().stream().mapToLong(Long::longValue).sum();
    String digest = meta.digest().toString();
    List<Map<String, Object>> signatureInfo = signatureInfo(digest);
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("RepoName", repo);
    s.put("Tag", tag);
    s.put("Digest", digest);
    s.put("MediaType", meta.mediaType());
    s.put("Manifests", List.copyOf(summaries));
    s.put("Size", Long.toString(size));
    s.put("DownloadCount", null);
    s.put("LastPullTimestamp", null);
    s.put("PushTimestamp", Times.format(Times.ofMillis(meta.createdMillis())));
    s.put("PushedBy", null);
    long tagged = taggedMillis > 0 ? taggedMillis : meta.createdMillis();
    s.put("TaggedTimestamp", Times.format(Times.ofMillis(tagged)));
    s.put("LastUpdated", Times.format(updated));
    Map<String, String> annotations = meta.annotations().isEmpty() ? text(top.json().path("annotations")) : meta.annotations();
    Descriptive d = Descriptive.of(annotations, labels == null ? Map.of() : text(labels));
    s.put("Description", d.description());
    s.put("IsSigned", !signatureInfo.isEmpty());
    s.put("SignatureInfo", signatureInfo);
    s.put("Licenses", d.licenses());
    s.put("Labels", null);
    s.put("Title", d.title());
    s.put("Source", d.source());
    s.put("Documentation", d.documentation());
    s.put("Vendor", d.vendor());
    s.put("Authors", d.authors());
    s.put("Vulnerabilities", notScanned());
    s.put("Referrers", referrerList(referrers.getOrDefault(meta.digest(), List.of())));
    s.put("IsDeletable", false);
    s.put("ArtifactType", index ? top.json().path("artifactType").asText("") : artifactType(top));
    return new ImageEntry(repo, tag, digest, updated, List.copyOf(platforms), !signatureInfo.isEmpty(),
        List.copyOf(layerLists), Set.copyOf(digests), java.util.Collections.unmodifiableMap(s));
  }

  private Map<String, Object> manifestSummary(ParsedManifest c, Map<Digest, List<ManifestMeta>> referrers) {
    Map<String, Object> m = new LinkedHashMap<>();
    String digest = c.meta().digest().toString();
    m.put("Digest", digest);
    m.put("ConfigDigest", c.configDigest());
    m.put("LastUpdated", Times.format(lastUpdated(c)));
    long size = c.meta().size() + c.configSize();
    List<Map<String, Object>> layers = new ArrayList<>();
    for (JsonNode l : c.layers()) {
      size += l.path("size").asLong(0);
      layers.add(layer(l.path("digest").asText(""), l.path("size").asLong(0)));
    }
    m.put("Size", Long.toString(size));
    List<Map<String, Object>> signatureInfo = signatureInfo(digest);
    m.put("IsSigned", !signatureInfo.isEmpty());
    m.put("SignatureInfo", signatureInfo);
    JsonNode config = c.config();
    String os = config == null ? "" : config.path("os").asText("");
    String arch = config == null ? "" : config.path("architecture").asText("");
    String variant = config == null ? "" : config.path("variant").asText("");
    Map<String, Object> platform = new LinkedHashMap<>();
    platform.put("Os", os);
    platform.put("Arch", variant.isEmpty() ? arch : arch + "/" + variant);
    m.put("Platform", platform);
    m.put("DownloadCount", null);
    m.put("Layers", layers);
    m.put("History", history(config, layers));
    m.put("Vulnerabilities", notScanned());
    m.put("Referrers", referrerList(referrers.getOrDefault(c.meta().digest(), List.of())));
    m.put("ArtifactType", artifactType(c));
    return m;
  }

  /** History entries paired with the layers they made (entries marked empty_layer make none). */
  private static List<Map<String, Object>> history(JsonNode config, List<Map<String, Object>> layers) {
    List<Map<String, Object>> out = new ArrayList<>();
    int next = 0;
    if (config != null) {
      for (JsonNode h : config.path("history")) {
        boolean empty = h.path("empty_layer").asBoolean(false);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("Created", Times.format(Times.parse(h.path("created").asText(null))));
        d.put("CreatedBy", h.path("created_by").asText(""));
        d.put("Author", h.path("author").asText(""));
        d.put("Comment", h.path("comment").asText(""));
        d.put("EmptyLayer", empty);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("Layer", !empty && next < layers.size() ? layers.get(next++) : null);
        e.put("HistoryDescription", d);
        out.add(e);
      }
    }
    while (next < layers.size()) { // layers the history does not describe
      // zot answers an empty description (every field null) for a config without history, never a null one:
      // zot's UI reads HistoryDescription.CreatedBy of every entry and fails on null.
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("Created", null);
      d.put("CreatedBy", null);
      d.put("Author", null);
      d.put("Comment", null);
      d.put("EmptyLayer", null);
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("Layer", layers.get(next++));
      e.put("HistoryDescription", d);
      out.add(e);
    }
    return out;
  }

  /** The config's created time, else its newest history entry; 0 when neither is known. */
  private static long lastUpdated(ParsedManifest c) {
    if (c.config() == null) {
      return 0;
    }
    long created = Times.parse(c.config().path("created").asText(null));
    if (created != 0) {
      return created;
    }
    long newest = 0;
    for (JsonNode h : c.config().path("history")) {
      newest = Math.max(newest, Times.parse(h.path("created").asText(null)));
    }
    return newest;
  }

  private static String artifactType(ParsedManifest c) {
    String at = c.json().path("artifactType").asText("");
    return at.isEmpty() ? c.json().path("config").path("mediaType").asText("") : at;
  }

  private List<Map<String, Object>> signatureInfo(String digest) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String tool : signatures.getOrDefault(digest, List.of())) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("Tool", tool);
      s.put("IsTrusted", false); // no trust material is configured: signatures are found, not verified
      s.put("Author", "");
      out.add(s);
    }
    return out;
  }

  private RepoEntry repoEntry(List<ImageEntry> images) {
    if (images.isEmpty()) {
      return null;
    }
    ImageEntry newest = images.stream().min(Comparator.comparingLong((ImageEntry i) -> -i.updated())
        .thenComparing(ImageEntry::tag)).orElseThrow();
    long updated = newest.updated();
    Set<Platform> platforms = new LinkedHashSet<>();
    Set<String> vendors = new LinkedHashSet<>();
    for (ImageEntry i : images) {
      updated = Math.max(updated, Times.parse((String) i.summary().get("TaggedTimestamp")));
      platforms.addAll(i.platforms());
      Object vendor = i.summary().get("Vendor");
      if (vendor instanceof String v && !v.isEmpty()) {
        vendors.add(v);
      }
    }
    long size = 0;
    Set<String> counted = new java.util.HashSet<>();
    for (ImageEntry i : images) {
      size += sizeOnce(i, counted);
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("Name", repo);
    s.put("LastUpdated", Times.format(updated));
    s.put("Size", Long.toString(size));
    List<Map<String, Object>> pl = new ArrayList<>();
    for (Platform p : platforms) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("Os", p.os());
      m.put("Arch", p.arch());
      pl.add(m);
    }
    s.put("Platforms", pl);
    s.put("Vendors", List.copyOf(vendors));
    s.put("NewestImage", newest.summary());
    s.put("DownloadCount", null);
    s.put("StarCount", 0);
    s.put("IsBookmarked", false);
    s.put("IsStarred", false);
    s.put("Rank", null);
    return new RepoEntry(repo, updated, List.copyOf(platforms), newest.signed(), java.util.Collections.unmodifiableMap(s));
  }

  /** The bytes of {@code image}'s blobs not yet in {@code counted} (a repository's size counts each blob once). */
  private long sizeOnce(ImageEntry image, Set<String> counted) {
    long size = 0;
    ParsedManifest top = parsed.get(Digest.parse(image.digest()));
    if (top != null && counted.add(image.digest())) {
      size += top.meta().size();
    }
    for (ManifestLayers ml : image.manifests()) {
      ParsedManifest p = parsed.get(Digest.parse(ml.digest()));
      if (p == null) {
        continue;
      }
      if (counted.add(ml.digest())) {
        size += p.meta().size();
      }
      if (!p.configDigest().isEmpty() && counted.add(p.configDigest())) {
        size += p.configSize();
      }
      for (JsonNode l : p.layers()) {
        if (counted.add(l.path("digest").asText(""))) {
          size += l.path("size").asLong(0);
        }
      }
    }
    return size;
  }

  static Map<String, Object> notScanned() {
    return io.flotilla.scan.VulnerabilitySummary.NOT_SCANNED.toGraphQl();
  }

  private static Map<String, Object> layer(String digest, long size) {
    Map<String, Object> l = new LinkedHashMap<>();
    l.put("Size", Long.toString(size));
    l.put("Digest", digest);
    return l;
  }

  /** Referrer objects of a subject, each digest once, in digest order. */
  static List<Map<String, Object>> referrerList(List<ManifestMeta> referrers) {
    Map<String, Map<String, Object>> out = new java.util.TreeMap<>();
    for (ManifestMeta m : referrers) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("MediaType", m.mediaType());
      r.put("ArtifactType", m.artifactType() == null ? "" : m.artifactType());
      r.put("Size", m.size());
      r.put("Digest", m.digest().toString());
      List<Map<String, Object>> annotations = new ArrayList<>();
      new java.util.TreeMap<>(m.annotations()).forEach((k, v) -> {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("Key", k);
        a.put("Value", v);
        annotations.add(a);
      });
      r.put("Annotations", annotations);
      out.putIfAbsent(m.digest().toString(), r);
    }
    return List.copyOf(out.values());
  }

  private static Map<String, String> text(JsonNode object) {
    Map<String, String> out = new LinkedHashMap<>();
    if (object != null && object.isObject()) {
      object.fields().forEachRemaining(e -> {
        if (e.getValue().isTextual()) {
          out.put(e.getKey(), e.getValue().asText());
        }
      });
    }
    return out;
  }

  private static Digest parseDigest(String s) {
    try {
      return Digest.parse(s);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
