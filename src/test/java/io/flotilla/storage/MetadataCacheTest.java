package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded repository cache over the metadata database: heap follows what is in use, evicted
 * repositories are read back whole, and writers racing evictions lose nothing.
 */
class MetadataCacheTest {
  private static final long BOUND = 60;

  @TempDir
  Path dir;

  private static Digest digest(String s) {
    return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
  }

  private static ManifestMeta meta(String name, List<Digest> refs) {
    return new ManifestMeta(digest("manifest-" + name), MediaTypes.OCI_MANIFEST, 100, null, null, Map.of(), refs, 1_000);
  }

  /** Pushes a small image: a link, a manifest over it and a tag (4 entries with its repository). */
  private static void push(MetadataStore s, RepositoryName repo, String name) {
    Digest layer = digest("layer-" + name);
    s.linkBlob(repo, layer, 10);
    s.putManifest(repo, meta(name, List.of(layer)), new Tag(name), () -> {});
  }

  @Test
  void theCacheStaysWithinItsBoundAndEvictedRepositoriesReadBackWhole() throws Exception {
    try (MetadataStore s = new MetadataStore(dir, BOUND, FileLayoutMigration.Hook.NONE)) {
      s.load();
      for (int i = 0; i < 100; i++) {
        push(s, RepositoryName.of("r/" + i), "v" + i);
        assertTrue(s.cache().weight() <= BOUND + 4, "weight " + s.cache().weight() + " after " + i);
      }
      assertTrue(s.cache().evictions() > 0);
      assertEquals(100, s.catalog(1000, null).items().size(), "the catalog does not need the cache");
      for (int i = 0; i < 100; i++) {
        RepositoryName r = RepositoryName.of("r/" + i);
        assertEquals(digest("manifest-v" + i), s.tag(r, new Tag("v" + i)));
        assertEquals(10, s.blobSize(r, digest("layer-v" + i)));
        assertEquals(s.fingerprint(r), s.repo(r).computeFingerprint());
      }
      assertTrue(s.cache().weight() <= BOUND + 4);
    }
  }

  @Test
  void writersRacingEvictionsLoseNothing() throws Exception {
    List<String> expected = new ArrayList<>();
    try (MetadataStore s = new MetadataStore(dir, BOUND, FileLayoutMigration.Hook.NONE)) {
      s.load();
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          int thread = t;
          work.add(pool.submit(() -> {
            for (int i = 0; i < 40; i++) {
              // each repository is written by two threads, interleaved with reads of others
              RepositoryName repo = RepositoryName.of("r/" + ((thread / 2) * 10 + i % 10));
              push(s, repo, "t" + thread + "-" + i);
              s.tags(RepositoryName.of("r/" + (i * 7 % 40)), 100, null);
            }
            return null;
          }));
          for (int i = 0; i < 40; i++) {
            expected.add("r/" + ((t / 2) * 10 + i % 10) + ":t" + t + "-" + i);
          }
        }
        for (Future<?> f : work) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertTrue(s.cache().evictions() > 0);
      assertEquals(expected.stream().sorted().toList(), allTags(s));
    }
    try (MetadataStore reopened = new MetadataStore(dir)) {
      reopened.load();
      assertEquals(expected.stream().sorted().toList(), allTags(reopened), "what was acknowledged is on disk");
      for (RepositoryName r : reopened.repositories()) {
        assertEquals(reopened.manifests(r).size(), reopened.tags(r, 1000, null).items().size());
        assertEquals(reopened.version(r), 2L * reopened.manifests(r).size(), "one version per committed change");
      }
    }
  }

  private static List<String> allTags(MetadataStore s) {
    List<String> out = new ArrayList<>();
    for (RepositoryName r : s.repositories()) {
      for (String t : s.tags(r, 1000, null).items()) {
        assertEquals(digest("manifest-" + t), s.tag(r, new Tag(t)));
        out.add(r.value() + ":" + t);
      }
    }
    out.sort(null);
    return out;
  }
}
