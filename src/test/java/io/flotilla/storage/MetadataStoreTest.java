package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataStoreTest {
  private static final RepositoryName APP = RepositoryName.of("team/app");
  private static final RepositoryName NESTED = RepositoryName.of("team/app/sub");
  private static final RepositoryName SOLO = RepositoryName.of("solo");

  @TempDir
  Path dir;

  private static Digest digest(String s) {
    return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
  }

  private static ManifestMeta meta(String name, Digest subject, List<Digest> refs, Map<String, String> annotations) {
    return new ManifestMeta(digest("manifest-" + name), MediaTypes.OCI_MANIFEST, 100 + name.length(),
        subject == null ? null : "application/vnd.example+type", subject, annotations, refs, 1_700_000_000_000L + name.length());
  }

  /** A comparable snapshot of everything a store shows about a repository. */
  private static Map<String, Object> view(MetadataStore s, RepositoryName name) {
    Map<String, Object> v = new TreeMap<>();
    v.put("exists", s.exists(name));
    v.put("tags", s.tags(name, Integer.MAX_VALUE, null).items());
    Map<String, String> tagTargets = new TreeMap<>();
    for (String t : s.tags(name, Integer.MAX_VALUE, null).items()) {
      tagTargets.put(t, String.valueOf(s.tag(name, new Tag(t))));
    }
    v.put("tagTargets", tagTargets);
    v.put("manifests", new TreeMap<>(s.manifests(name).entrySet().stream()
        .collect(Collectors.toMap(e -> e.getKey().toString(), Map.Entry::getValue))));
    v.put("blobs", new TreeMap<>(s.blobs(name).entrySet().stream()
        .collect(Collectors.toMap(e -> e.getKey().toString(), e -> e.getValue()[0]))));
    Map<String, List<String>> referrers = new TreeMap<>();
    for (ManifestMeta m : s.manifests(name).values()) {
      if (m.subject() != null) {
        referrers.put(m.subject().toString(),
            s.referrers(name, m.subject()).stream().map(r -> r.digest().toString()).toList());
      }
    }
    v.put("referrers", referrers);
    return v;
  }

  private static MetadataStore load(Path dir) throws IOException {
    MetadataStore s = new MetadataStore(dir);
    s.load();
    return s;
  }

  @Test
  void aFreshInstanceLoadsExactlyWhatWasWritten() throws IOException {
    MetadataStore w = load(dir);
    Digest config = digest("config");
    Digest layer1 = digest("layer1");
    Digest layer2 = digest("layer2");
    Digest sha512Layer = Digest.of(DigestAlgorithm.SHA512, "big".getBytes(StandardCharsets.UTF_8));
    w.linkBlob(APP, config, 123);
    w.linkBlob(APP, layer1, 4567);
    w.linkBlob(APP, layer2, 89);
    w.linkBlob(APP, sha512Layer, 3);
    ManifestMeta image = meta("image", null, List.of(config, layer1, layer2), Map.of("org.example.k", "v"));
    w.putManifest(APP, image, new Tag("v1"), () -> {});
    w.putManifest(APP, image, new Tag("latest"), () -> {});
    ManifestMeta sig = meta("signature", image.digest(), List.of(config), Map.of());
    w.putManifest(APP, sig, null, () -> {});
    ManifestMeta other = meta("other", null, List.of(layer1), null);
    w.putManifest(APP, other, new Tag("old"), () -> {});
    // Moving a tag and deleting things must be reflected too.
    w.putManifest(APP, other, new Tag("latest"), () -> {});
    assertTrue(w.deleteTag(APP, new Tag("old")));
    assertTrue(w.unlinkBlob(APP, layer2));
    // A nested repository under an existing one, and a repository that ends up empty.
    w.linkBlob(NESTED, layer1, 4567);
    w.putManifest(NESTED, other, new Tag("n1"), () -> {});
    w.linkBlob(SOLO, config, 123);
    ManifestMeta gone = meta("gone", null, List.of(config), null);
    w.putManifest(SOLO, gone, new Tag("x"), () -> {});
    assertTrue(w.deleteManifest(SOLO, gone.digest()));
    assertTrue(w.unlinkBlob(SOLO, config));

    Map<String, Object> appBefore = view(w, APP);
    Map<String, Object> nestedBefore = view(w, NESTED);
    Map<String, Object> soloBefore = view(w, SOLO);
    assertEquals(List.of("latest", "v1"), appBefore.get("tags"));
    assertEquals(Map.of("latest", other.digest().toString(), "v1", image.digest().toString()), appBefore.get("tagTargets"));

    MetadataStore r = load(dir);
    assertEquals(appBefore, view(r, APP));
    assertEquals(nestedBefore, view(r, NESTED));
    assertEquals(soloBefore, view(r, SOLO));
    assertEquals(image, r.manifest(APP, image.digest()), "manifest meta round-trips field by field");
    assertEquals(sig, r.manifest(APP, sig.digest()));
    assertEquals(List.of(sig), r.referrers(APP, image.digest()));
    assertEquals(4567, r.blobSize(APP, layer1));
    assertEquals(3, r.blobSize(APP, sha512Layer));
    assertEquals(-1, r.blobSize(APP, layer2));
    assertEquals(w.catalog(100, null), r.catalog(100, null));
    assertEquals(List.of("team/app", "team/app/sub"), r.catalog(100, null).items());
    assertFalse(r.exists(SOLO));
    assertEquals(w.repositories().stream().map(RepositoryName::value).sorted().toList(),
        r.repositories().stream().map(RepositoryName::value).sorted().toList());
  }

  @Test
  void loadDropsCrashLeftovers() throws IOException {
    MetadataStore w = load(dir);
    Digest layer = digest("layer");
    w.linkBlob(APP, layer, 10);
    ManifestMeta m = meta("m", null, List.of(layer), null);
    w.putManifest(APP, m, new Tag("ok"), () -> {});
    Path metaDir = dir.resolve("repositories").resolve("team").resolve("app").resolve("_meta");
    // A tag written for a manifest whose own file never made it, and half-written temp files.
    Files.writeString(metaDir.resolve("tags").resolve("dangling"), digest("never-written").toString());
    Path tmpTag = metaDir.resolve("tags").resolve("._tmp-1");
    Path tmpManifest = metaDir.resolve("manifests").resolve("sha256").resolve("._tmp-2");
    Path tmpBlob = metaDir.resolve("blobs").resolve("sha256").resolve("._tmp-3");
    Files.writeString(tmpTag, "sha256:");
    Files.writeString(tmpManifest, "{\"digest\":");
    Files.writeString(tmpBlob, "");

    MetadataStore r = load(dir);
    assertEquals(List.of("ok"), r.tags(APP, 100, null).items(), "tag of a missing manifest is not served");
    assertNull(r.tag(APP, new Tag("dangling")));
    assertEquals(m.digest(), r.tag(APP, new Tag("ok")));
    assertEquals(1, r.manifests(APP).size());
    assertEquals(1, r.blobs(APP).size());
    assertFalse(Files.exists(tmpTag));
    assertFalse(Files.exists(tmpManifest));
    assertFalse(Files.exists(tmpBlob));
  }

  @Test
  void writesAreFilesOfTheDocumentedLayout() throws IOException {
    MetadataStore w = load(dir);
    Digest layer = digest("layer");
    w.linkBlob(APP, layer, 42);
    ManifestMeta m = meta("m", null, List.of(layer), null);
    w.putManifest(APP, m, new Tag("t"), () -> {});
    Path metaDir = dir.resolve("repositories").resolve("team").resolve("app").resolve("_meta");
    assertEquals("42", Files.readString(metaDir.resolve("blobs").resolve("sha256").resolve(layer.hex())).trim());
    assertEquals(m.digest().toString(), Files.readString(metaDir.resolve("tags").resolve("t")).trim());
    assertTrue(Files.isRegularFile(metaDir.resolve("manifests").resolve("sha256").resolve(m.digest().hex())));
    try (Stream<Path> s = Files.walk(dir)) {
      assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith("._tmp-")).toList());
    }
  }

  @Test
  void aFailedCheckWritesNothing() throws IOException {
    MetadataStore w = load(dir);
    ManifestMeta m = meta("m", null, List.of(), null);
    assertThrows(IllegalStateException.class, () -> w.putManifest(APP, m, new Tag("t"), () -> {
      throw new IllegalStateException("blob unknown");
    }));
    assertNull(w.manifest(APP, m.digest()));
    MetadataStore r = load(dir);
    assertNull(r.manifest(APP, m.digest()));
    assertNull(r.tag(APP, new Tag("t")));
    assertFalse(r.exists(APP));
  }

  @Test
  void importedTagsAreLastWriterWinsAndKeepTheirTimeAcrossARestart() throws IOException {
    MetadataStore s = new MetadataStore(dir);
    s.load();
    ManifestMeta older = meta("older", null, List.of(), Map.of());
    ManifestMeta newer = meta("newer", null, List.of(), Map.of());
    s.putManifest(APP, older, null, () -> {});
    s.putManifest(APP, newer, null, () -> {});
    Tag latest = new Tag("latest");

    assertTrue(s.importTag(APP, latest, newer.digest(), 2_000_000_000_000L));
    assertFalse(s.importTag(APP, latest, older.digest(), 1_000_000_000_000L), "an older write must not win");
    assertEquals(newer.digest(), s.tag(APP, latest));
    assertFalse(s.importTag(APP, latest, newer.digest(), 3_000_000_000_000L), "same target: nothing to do");

    MetadataStore reloaded = new MetadataStore(dir);
    reloaded.load();
    assertEquals(Map.entry(newer.digest(), 2_000_000_000_000L), reloaded.tagEntries(APP).get("latest"));
    assertFalse(reloaded.importTag(APP, latest, older.digest(), 1_500_000_000_000L));
    assertTrue(reloaded.importTag(APP, latest, older.digest(), 2_500_000_000_000L), "a later write wins");
    assertEquals(older.digest(), reloaded.tag(APP, latest));
    assertThrows(IllegalStateException.class,
        () -> reloaded.importTag(APP, new Tag("x"), digest("not-recorded"), 1L));
  }

  @Test
  void aDroppedRepositoryIsGoneFromMemoryAndDiskAndItsNeighboursStay() throws IOException {
    MetadataStore s = new MetadataStore(dir);
    s.load();
    ManifestMeta m = meta("one", null, List.of(), Map.of());
    for (RepositoryName r : List.of(APP, NESTED)) {
      s.linkBlob(r, digest("blob"), 42);
      s.putManifest(r, m, new Tag("v1"), () -> {});
    }
    long before = s.fingerprint(APP);
    s.dropRepository(APP);
    assertFalse(s.exists(APP));
    assertEquals(0, s.fingerprint(APP));
    assertTrue(s.exists(NESTED), "a nested repository is its own");
    assertTrue(before != 0);

    MetadataStore reloaded = new MetadataStore(dir);
    reloaded.load();
    assertFalse(reloaded.exists(APP));
    assertEquals(List.of(NESTED), reloaded.repositories());
    assertEquals(m.digest(), reloaded.tag(NESTED, new Tag("v1")));
  }

  @Test
  void aRemovalInterruptedByACrashIsFinishedAtLoad() throws IOException {
    Path trash = dir.resolve("repositories").resolve("team").resolve(Fs.TRASH_PREFIX + "x").resolve("manifests");
    Files.createDirectories(trash);
    Files.writeString(trash.resolve("f"), "left over");
    MetadataStore s = new MetadataStore(dir);
    s.load();
    assertFalse(Files.exists(trash.getParent()));
    assertEquals(List.of(), s.repositories());
  }

  @Test
  void theFingerprintChangesWithTagsManifestsAndBlobs() throws IOException {
    MetadataStore s = new MetadataStore(dir);
    s.load();
    s.linkBlob(SOLO, digest("a"), 1);
    long f1 = s.fingerprint(SOLO);
    ManifestMeta m = meta("m", null, List.of(), Map.of());
    s.putManifest(SOLO, m, null, () -> {});
    long f2 = s.fingerprint(SOLO);
    s.putManifest(SOLO, m, new Tag("t"), () -> {});
    long f3 = s.fingerprint(SOLO);
    assertTrue(f1 != f2 && f2 != f3 && f1 != f3, f1 + " " + f2 + " " + f3);
    assertEquals(f3, s.fingerprint(SOLO));
  }
}
