package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.storage.ManifestMeta;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Summaries built from manifests and configs in memory: sizes, times, platforms, signatures. */
class RepoIndexBuilderTest {
  private final Map<Digest, byte[]> blobs = new HashMap<>();
  private final Map<Digest, ManifestMeta> manifests = new HashMap<>();
  private final Map<String, Map.Entry<Digest, Long>> tags = new TreeMap<>();

  private Digest blob(String content) {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    Digest d = Digest.sha256(b);
    blobs.put(d, b);
    return d;
  }

  private static String desc(String type, Digest d, long size) {
    return "{\"mediaType\":\"" + type + "\",\"digest\":\"" + d + "\",\"size\":" + size + "}";
  }

  private Digest manifest(String type, String json, Digest subject, String artifactType) {
    Digest d = blob(json);
    manifests.put(d, new ManifestMeta(d, type, json.length(), artifactType, subject, Map.of(), List.of(), 1_000));
    return d;
  }

  private Digest image(String config, String... layers) {
    Digest c = blob(config);
    List<String> ls = new ArrayList<>();
    for (String l : layers) {
      ls.add(desc("application/vnd.oci.image.layer.v1.tar", blob(l), l.length()));
    }
    return manifest(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"config\":"
        + desc("application/vnd.oci.image.config.v1+json", c, config.length()) + ",\"layers\":[" + String.join(",", ls)
        + "]}", null, null);
  }

  private RepoIndex build() throws Exception {
    return RepoIndexBuilder.build("r", 1, new RepoIndexBuilder.Content() {
      @Override
      public Map<String, Map.Entry<Digest, Long>> tags() {
        return tags;
      }

      @Override
      public Map<Digest, ManifestMeta> manifests() {
        return manifests;
      }

      @Override
      public List<ManifestMeta> referrers(Digest digest) {
        return manifests.values().stream().filter(m -> digest.equals(m.subject())).toList();
      }

      @Override
      public byte[] read(Digest digest) {
        return blobs.get(digest);
      }
    });
  }

  @Test
  void sizesCountEachBlobOnce() throws Exception {
    Digest a = image("{\"os\":\"linux\",\"architecture\":\"amd64\",\"created\":\"2030-01-01T00:00:00Z\"}", "shared", "aaaa");
    Digest b = image("{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\",\"created\":\"2030-01-02T00:00:00Z\"}",
        "shared", "bb");
    String indexJson = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + desc(MediaTypes.OCI_MANIFEST, a, manifests.get(a).size()) + "," + desc(MediaTypes.OCI_MANIFEST, b, manifests.get(b).size()) + "]}";
    Digest index = manifest(MediaTypes.OCI_INDEX, indexJson, null, null);
    tags.put("multi", Map.entry(index, 5_000L));
    tags.put("amd", Map.entry(a, 6_000L));
    RepoIndex r = build();
    RepoIndex.ImageEntry multi = r.images().stream().filter(i -> i.tag().equals("multi")).findFirst().orElseThrow();
    long configs = blobs.get(Digest.parse((String) ((Map<?, ?>) ((List<?>) multi.summary().get("Manifests")).get(0))
        .get("ConfigDigest"))).length + blobs.get(Digest.parse((String) ((Map<?, ?>) ((List<?>) multi.summary().get("Manifests"))
        .get(1)).get("ConfigDigest"))).length;
    long expected = indexJson.length() + manifests.get(a).size() + manifests.get(b).size() + configs + "shared".length()
        + "aaaa".length() + "bb".length();
    assertEquals(Long.toString(expected), multi.summary().get("Size"), "the shared layer counts once");
    assertEquals(Long.toString(expected), r.repo().summary().get("Size"), "the amd tag adds nothing new to the repository");
    assertEquals(List.of(new RepoIndex.Platform("linux", "amd64"), new RepoIndex.Platform("linux", "arm64/v8")), multi.platforms());
    assertEquals("2030-01-02T00:00:00Z", multi.summary().get("LastUpdated"), "the newest child's created time");
    assertEquals("multi", r.repo().summary().get("NewestImage") == multi.summary() ? "multi" : "other");
  }

  @Test
  void unknownTimesAreNullAndTheRepositoryFallsBackToTagTimes() throws Exception {
    Digest a = image("{\"os\":\"linux\",\"architecture\":\"amd64\"}", "layer");
    tags.put("v1", Map.entry(a, 7_000L));
    RepoIndex r = build();
    assertNull(r.images().get(0).summary().get("LastUpdated"));
    assertEquals(0, r.images().get(0).updated());
    assertEquals("1970-01-01T00:00:07Z", r.repo().summary().get("LastUpdated"));
    assertEquals("1970-01-01T00:00:07Z", r.images().get(0).summary().get("TaggedTimestamp"));
  }

  @Test
  void cosignTagsAndNotationReferrersSignImagesAndAreNotImages() throws Exception {
    Digest a = image("{\"os\":\"linux\",\"architecture\":\"amd64\"}", "x");
    Digest b = image("{\"os\":\"linux\",\"architecture\":\"amd64\"}", "y");
    Digest sig = image("{}", "signature payload");
    tags.put("a", Map.entry(a, 1L));
    tags.put("b", Map.entry(b, 1L));
    tags.put(a.toString().replace("sha256:", "sha256-") + ".sig", Map.entry(sig, 1L));
    manifest(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"artifactType\":\"application/vnd.cns.notary.signature\"}", b,
        "application/vnd.cns.notary.signature");
    RepoIndex r = build();
    assertEquals(List.of("a", "b"), r.images().stream().map(RepoIndex.ImageEntry::tag).toList());
    assertTrue(r.images().get(0).signed());
    assertEquals("cosign", ((Map<?, ?>) ((List<?>) r.images().get(0).summary().get("SignatureInfo")).get(0)).get("Tool"));
    assertTrue(r.images().get(1).signed());
    assertEquals(1, ((List<?>) r.images().get(1).summary().get("Referrers")).size());
    assertFalse((Boolean) ((Map<?, ?>) ((List<?>) r.images().get(0).summary().get("Manifests")).get(0)).get("IsSigned") == null);
  }

  @Test
  void layersWithoutHistoryHaveAnEmptyDescriptionNotNull() throws Exception {
    Digest a = image("{\"os\":\"linux\",\"architecture\":\"amd64\"}", "one", "two");
    tags.put("v1", Map.entry(a, 1L));
    List<?> history = (List<?>) ((Map<?, ?>) ((List<?>) build().images().get(0).summary().get("Manifests")).get(0)).get("History");
    assertEquals(2, history.size());
    for (Object h : history) {
      Map<?, ?> d = (Map<?, ?>) ((Map<?, ?>) h).get("HistoryDescription");
      assertTrue(d != null && d.containsKey("CreatedBy") && d.get("CreatedBy") == null, "as zot: {} with null fields");
    }
  }
}
