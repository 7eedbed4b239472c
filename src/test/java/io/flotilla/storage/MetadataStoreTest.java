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
import org.junit.jupiter.api.AfterEach;
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

  /** The store that has {@code dir} open (RocksDB lets one process open a data folder once at a time). */
  private MetadataStore open;

  /** Opens the store on {@code dir} again, as a restart does: the store that had it open is closed first. */
  private MetadataStore load(Path dir) throws IOException {
    if (open != null) {
      open.close();
    }
    open = new MetadataStore(dir);
    open.load();
    return open;
  }

  @AfterEach
  void closeStore() {
    if (open != null) {
      open.close();
    }
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
    MetadataStore.Page catalogBefore = w.catalog(100, null);
    List<String> repositoriesBefore = w.repositories().stream().map(RepositoryName::value).sorted().toList();
    assertEquals(Map.of("latest", other.digest().toString(), "v1", image.digest().toString()), appBefore.get("tagTargets"));

    // a client's push is stamped after the newest record of its repository (the tags set just before)
    ManifestMeta sigStored = w.manifest(APP, sig.digest());
    assertTrue(sigStored.createdMillis() > sig.createdMillis(), "stamped after the tags: " + sigStored);
    MetadataStore r = load(dir);
    assertEquals(appBefore, view(r, APP));
    assertEquals(nestedBefore, view(r, NESTED));
    assertEquals(soloBefore, view(r, SOLO));
    assertEquals(image, r.manifest(APP, image.digest()), "manifest meta round-trips field by field");
    assertEquals(sigStored, r.manifest(APP, sig.digest()));
    assertEquals(List.of(sigStored), r.referrers(APP, image.digest()));
    assertEquals(4567, r.blobSize(APP, layer1));
    assertEquals(3, r.blobSize(APP, sha512Layer));
    assertEquals(-1, r.blobSize(APP, layer2));
    assertEquals(catalogBefore, r.catalog(100, null));
    assertEquals(List.of("team/app", "team/app/sub"), r.catalog(100, null).items());
    assertFalse(r.exists(SOLO));
    assertEquals(repositoriesBefore, r.repositories().stream().map(RepositoryName::value).sorted().toList());
  }

  @Test
  void holdsContentStopsAtTheFirstRepositoryWithContent() throws IOException {
    MetadataStore w = load(dir);
    assertFalse(w.holdsContent(), "an empty store holds nothing");
    Digest config = digest("config");
    // a repository that ends up empty sorts first ("solo" < ...): its summary stays but holds nothing
    w.linkBlob(SOLO, config, 123);
    assertTrue(w.unlinkBlob(SOLO, config));
    assertFalse(load(dir).holdsContent(), "only empty summaries");
    w = open;
    w.linkBlob(NESTED, config, 123);
    assertTrue(load(dir).holdsContent());
  }

  @Test
  void writesAreKeysOfTheDocumentedLayout() throws IOException {
    MetadataStore w = load(dir);
    Digest layer = digest("layer");
    w.linkBlob(APP, layer, 42);
    ManifestMeta m = meta("m", null, List.of(layer), null);
    w.putManifest(APP, m, new Tag("t"), () -> {});
    ManifestMeta sig = meta("sig", m.digest(), List.of(), null);
    w.putManifest(APP, sig, null, () -> {});
    w.deleteTag(APP, new Tag("gone"));
    MetaDb db = w.db();
    assertEquals(new MetaValues.BlobLink(42, w.blobs(APP).get(layer)[1]), MetaValues.blob(db.get(key("b", "team/app", layer.toString()))));
    assertEquals(m.digest(), MetaValues.tag(db.get(key("t", "team/app", "t"))).digest());
    assertEquals(m, MetaValues.manifest(db.get(key("m", "team/app", m.digest().toString()))));
    assertEquals(0, db.get(key("s", "team/app", m.digest().toString(), sig.digest().toString())).length);
    assertTrue(MetaValues.millis(db.get(key("x", "team/app", "t", "gone"))) > 0);
    MetaValues.Summary summary = MetaValues.summary(db.get(key("r", "team/app")));
    assertEquals(new MetaValues.Summary(w.version(APP), 0, 2, 1, 1, 1, w.fingerprint(APP)), summary);
    assertNull(db.get(key("r", "team")), "a name's prefix is not a repository");
    assertFalse(Files.exists(dir.resolve("repositories")), "nothing is written in the old file layout");
  }

  private static byte[] key(String... fields) {
    return String.join("\0", fields).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theIncrementalFingerprintInTheSummaryIsTheOneComputedFromTheEntries() throws IOException {
    MetadataStore w = load(dir);
    ManifestMeta a = meta("a", null, List.of(), null);
    ManifestMeta b = meta("b", a.digest(), List.of(), null);
    w.putManifest(APP, a, new Tag("x"), () -> {});
    w.putManifest(APP, b, new Tag("y"), () -> {});
    w.putManifest(APP, b, new Tag("x"), () -> {}); // moves a tag
    w.deleteTag(APP, new Tag("y"));
    w.deleteManifest(APP, digest("never-here"), 5, false);
    w.deleteManifest(APP, digest("never-here"), 9, false); // a newer tombstone replaces the older
    w.deleteManifest(APP, b.digest());
    w.clearRepository(SOLO, 1_000, false);
    Map<RepositoryName, Long> incremental = new TreeMap<>(java.util.Comparator.comparing(RepositoryName::value));
    for (RepositoryName n : List.of(APP, SOLO)) {
      incremental.put(n, MetaValues.summary(w.db().get(MetaKeys.summary(n))).fingerprint());
      assertEquals(w.repo(n).computeFingerprint(), incremental.get(n), n.value());
    }
    MetadataStore r = load(dir);
    for (RepositoryName n : List.of(APP, SOLO)) {
      assertEquals(incremental.get(n), r.fingerprint(n), "from the summary, not loaded: " + n);
      assertEquals(incremental.get(n), r.repo(n).computeFingerprint(), "loaded: " + n);
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
    MetadataStore s = load(dir);
    ManifestMeta older = meta("older", null, List.of(), Map.of());
    ManifestMeta newer = meta("newer", null, List.of(), Map.of());
    s.putManifest(APP, older, null, () -> {});
    s.putManifest(APP, newer, null, () -> {});
    Tag latest = new Tag("latest");

    assertTrue(s.importTag(APP, latest, newer.digest(), 2_000_000_000_000L, 0).changed());
    assertFalse(s.importTag(APP, latest, older.digest(), 1_000_000_000_000L, 0).changed(), "an older write must not win");
    assertEquals(newer.digest(), s.tag(APP, latest));
    assertFalse(s.importTag(APP, latest, newer.digest(), 3_000_000_000_000L, 0).changed(), "same target: nothing to do");

    MetadataStore reloaded = load(dir);
    assertEquals(Map.entry(newer.digest(), 2_000_000_000_000L), reloaded.tagEntries(APP).get("latest"));
    assertFalse(reloaded.importTag(APP, latest, older.digest(), 1_500_000_000_000L, 0).changed());
    assertTrue(reloaded.importTag(APP, latest, older.digest(), 2_500_000_000_000L, 0).changed(), "a later write wins");
    assertEquals(older.digest(), reloaded.tag(APP, latest));
    assertThrows(IllegalStateException.class,
        () -> reloaded.importTag(APP, new Tag("x"), digest("not-recorded"), 1L, 0).changed());
  }

  /**
   * The halves of a split cluster each set a tag: the copies merge by last writer wins, and the copy
   * whose value the winner's writer had not seen reports it as a conflict; a later write that saw the
   * value (an ordinary overwrite a copy missed) is no conflict. Ties go to the greater digest.
   */
  @Test
  void anImportedTagThatItsWriterDidNotSeeIsAConflictAndTiesGoToTheGreaterDigest() throws IOException {
    MetadataStore s = load(dir);
    ManifestMeta mine = meta("mine", null, List.of(), Map.of());
    ManifestMeta theirs = meta("theirs", null, List.of(), Map.of());
    s.putManifest(APP, mine, null, () -> {});
    s.putManifest(APP, theirs, null, () -> {});
    Tag t = new Tag("t");
    long base = 1_000_000_000_000L;
    assertTrue(s.importTag(APP, t, mine.digest(), base + 10, base).changed());

    MetadataStore.TagImport seen = s.importTag(APP, t, theirs.digest(), base + 20, base + 10);
    assertTrue(seen.changed());
    assertFalse(seen.conflict(), "the writer replaced the value held here: an overwrite this copy missed");

    assertTrue(s.importTag(APP, t, mine.digest(), base + 30, base + 20).changed());
    MetadataStore.TagImport unseen = s.importTag(APP, t, theirs.digest(), base + 40, base + 5);
    assertTrue(unseen.changed(), "the later write wins");
    assertTrue(unseen.conflict(), "its writer knew the tag only up to base + 5, not the value set at base + 30");
    assertEquals(mine.digest(), unseen.lost());
    assertEquals(base + 30, unseen.lostMillis());
    s = load(dir);
    assertEquals(base + 5, s.tagReplaced(APP, t), "the writer's knowledge is kept across a restart");

    Tag tie = new Tag("tie");
    ManifestMeta greater = mine.digest().toString().compareTo(theirs.digest().toString()) > 0 ? mine : theirs;
    ManifestMeta lesser = greater == mine ? theirs : mine;
    assertTrue(s.importTag(APP, tie, greater.digest(), base, 0).changed());
    assertFalse(s.importTag(APP, tie, lesser.digest(), base, 0).changed(), "a tie keeps the greater digest");
    MetadataStore other = new MetadataStore(Files.createTempDirectory(dir, "other"));
    other.load();
    other.putManifest(APP, mine, null, () -> {});
    other.putManifest(APP, theirs, null, () -> {});
    assertTrue(other.importTag(APP, tie, lesser.digest(), base, 0).changed());
    assertTrue(other.importTag(APP, tie, greater.digest(), base, 0).changed(), "either order ends alike");
    assertEquals(greater.digest(), other.tag(APP, tie));
    other.close();
  }

  @Test
  void tagValuesWrittenBeforeTheReplacedTimeExistedStillRead() {
    Digest d = digest("old-format");
    byte[] old = java.nio.ByteBuffer.allocate(8 + d.toString().length()).putLong(42L)
        .put(d.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII)).array();
    assertEquals(new MetaValues.TagValue(d, 42L, 0), MetaValues.tag(old));
    assertEquals(new MetaValues.TagValue(d, 42L, 41L), MetaValues.tag(MetaValues.tag(new MetaValues.TagValue(d, 42L, 41L))));
  }

  @Test
  void aDroppedRepositoryIsGoneFromMemoryAndDiskAndItsNeighboursStay() throws IOException {
    MetadataStore s = load(dir);
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

    MetadataStore reloaded = load(dir);
    assertFalse(reloaded.exists(APP));
    assertEquals(List.of(NESTED), reloaded.repositories());
    assertEquals(m.digest(), reloaded.tag(NESTED, new Tag("v1")));
  }


  /**
   * One order per repository, whatever the wall clock says: a write through this node is stamped
   * after everything recorded in the repository (here: a push from a node whose clock ran an hour
   * ahead), so a later delete, and a later push after it, each win; the order survives a restart.
   */
  @Test
  void writesAreOrderedPerRepositoryEvenWhenTheClockIsBehind() throws IOException {
    MetadataStore w = load(dir);
    long now = System.currentTimeMillis();
    long ahead = now + 3_600_000L;
    Digest config = digest("config");
    w.linkBlob(APP, config, 123);
    ManifestMeta early = new ManifestMeta(digest("early"), MediaTypes.OCI_MANIFEST, 100, null, null, Map.of(),
        List.of(config), ahead);
    assertTrue(w.putManifest(APP, early, new Tag("v1"), 0, false, () -> {}));
    long afterPush = w.order(APP);
    assertTrue(afterPush >= ahead, "the order is the push's stamp: " + afterPush);

    // a delete of the tag, stamped by a clock an hour behind: ordered after the push anyway
    assertTrue(w.deleteTag(APP, new Tag("v1"), now, true));
    long afterDelete = w.order(APP);
    assertTrue(afterDelete > afterPush, afterDelete + " after " + afterPush);
    assertNull(w.tag(APP, new Tag("v1")));

    // a push after the delete, still with the slow clock: it wins over the tombstone
    ManifestMeta late = new ManifestMeta(digest("late"), MediaTypes.OCI_MANIFEST, 100, null, null, Map.of(),
        List.of(config), now);
    assertTrue(w.putManifest(APP, late, new Tag("v1"), 0, false, () -> {}));
    assertEquals(late.digest(), w.tag(APP, new Tag("v1")));
    long afterRepush = w.order(APP);
    assertTrue(afterRepush > afterDelete, afterRepush + " after " + afterDelete);
    assertEquals(afterRepush, w.tagTime(APP, new Tag("v1")), "the tag carries the repository's order");
    assertEquals(afterRepush, w.cachedOrder(APP.value()));

    // a copy from another node keeps its own time and does not move the order back
    assertTrue(w.importTag(APP, new Tag("v1"), early.digest(), afterRepush - 10, 0).changed() == false);
    assertEquals(late.digest(), w.tag(APP, new Tag("v1")));

    // a restart computes the same order from what is stored
    MetadataStore r = load(dir);
    assertEquals(afterRepush, r.order(APP));
    assertEquals(0, r.order(SOLO), "nothing recorded");
    assertEquals(-1, r.cachedOrder(SOLO.value()), "not in memory");
  }

  @Test
  void theFingerprintChangesWithTagsManifestsAndBlobs() throws IOException {
    MetadataStore s = load(dir);
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
