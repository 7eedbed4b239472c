package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deletes stay deleted: tombstones and last-writer-wins times in {@link MetadataStore}, as
 * replication applies them (copies from other nodes keep their times and lose to newer deletes), and
 * the drop of a repository that moved away, which no concurrent write may slip past.
 */
class TombstonesTest {
  private static final RepositoryName REPO = RepositoryName.of("team/app");
  private static final Tag LATEST = new Tag("latest");
  private static final long T = 1_700_000_000_000L;

  @TempDir
  Path dir;

  private static Digest digest(String s) {
    return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
  }

  private static ManifestMeta meta(String name, long created, List<Digest> refs, String mediaType) {
    return new ManifestMeta(digest("manifest-" + name), mediaType, 100, null, null, Map.of(), refs, created);
  }

  private static ManifestMeta meta(String name, long created) {
    return meta(name, created, List.of(), MediaTypes.OCI_MANIFEST);
  }

  /** Stores opened by the test; RocksDB lets one process open a data folder once at a time. */
  private final List<MetadataStore> opened = new java.util.ArrayList<>();

  /** Opens the store on {@code dir} again, as a restart does: the store that had it open is closed first. */
  private MetadataStore load() throws IOException {
    return open(dir);
  }

  private MetadataStore open(Path d) throws IOException {
    opened.removeIf(s -> {
      if (s.db().dir().startsWith(d.resolve("metadata"))) {
        s.close();
        return true;
      }
      return false;
    });
    MetadataStore s = new MetadataStore(d);
    s.load();
    opened.add(s);
    return s;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(MetadataStore::close);
  }

  @Test
  void aDeletedTagIsNotBroughtBackByAnOlderCopyButANewerWriteWins() throws IOException {
    MetadataStore s = load();
    ManifestMeta m = meta("a", T);
    s.putManifest(REPO, m, LATEST, T + 10, true, () -> {});
    assertTrue(s.deleteTag(REPO, LATEST, T + 20, true));
    assertFalse(s.importTag(REPO, LATEST, m.digest(), T + 15, 0).changed(), "a copy set before the delete must not win");
    assertNull(s.tag(REPO, LATEST));

    MetadataStore reloaded = load();
    assertFalse(reloaded.importTag(REPO, LATEST, m.digest(), T + 19, 0).changed(), "the tombstone survives a restart");
    assertNull(reloaded.tag(REPO, LATEST));
    assertTrue(reloaded.importTag(REPO, LATEST, m.digest(), T + 30, 0).changed(), "a tag set after the delete wins");
    assertEquals(m.digest(), reloaded.tag(REPO, LATEST));
    assertTrue(reloaded.tombstones(REPO).tags().isEmpty(), "an obsolete tombstone is dropped");
  }

  @Test
  void aClientsDeleteIsStampedAfterTheTagItRemovesWhateverTheClock() throws IOException {
    MetadataStore s = load();
    ManifestMeta m = meta("a", T);
    s.putManifest(REPO, m, LATEST, T + 1_000_000, true, () -> {}); // set by a node whose clock runs ahead
    assertTrue(s.deleteTag(REPO, LATEST, T, true));
    assertFalse(s.importTag(REPO, LATEST, m.digest(), T + 1_000_000, 0).changed(), "the copy it saw must not come back");
    assertEquals(T + 1_000_001, s.tombstones(REPO).tags().get("latest").longValue());
  }

  @Test
  void aCopiedDeleteLosesToATagSetAfterIt() throws IOException {
    MetadataStore s = load();
    ManifestMeta m = meta("a", T);
    s.putManifest(REPO, m, LATEST, T + 50, true, () -> {});
    assertFalse(s.deleteTag(REPO, LATEST, T + 40, false));
    assertEquals(m.digest(), s.tag(REPO, LATEST));
    assertTrue(s.deleteTag(REPO, LATEST, T + 60, false));
    assertNull(s.tag(REPO, LATEST));
  }

  @Test
  void aDeletedManifestIsNotCopiedBackAndItsTagsGoWithIt() throws IOException {
    MetadataStore s = load();
    ManifestMeta m = meta("a", T);
    s.putManifest(REPO, m, LATEST, T + 1, true, () -> {});
    assertTrue(s.deleteManifest(REPO, m.digest(), T + 5, true));
    assertNull(s.manifest(REPO, m.digest()));
    assertNotNull(s.tombstones(REPO).tags().get("latest"), "its tag has a tombstone too");

    MetadataStore reloaded = load();
    assertFalse(reloaded.putManifest(REPO, m, null, 0, true, () -> {}), "a copy created before the delete");
    assertNull(reloaded.manifest(REPO, m.digest()));

    // a client pushes it again: newer than the tombstone, whatever time its metadata carries
    reloaded.putManifest(REPO, m, LATEST, () -> {});
    assertNotNull(reloaded.manifest(REPO, m.digest()));
    assertTrue(reloaded.manifest(REPO, m.digest()).createdMillis() > T + 5);
    assertEquals(m.digest(), reloaded.tag(REPO, LATEST));
    assertFalse(reloaded.tombstones(REPO).manifests().containsKey(m.digest()));
  }

  @Test
  void aManifestAnIndexListsCannotBeDeletedByAClientButACopiedDeleteApplies() throws IOException {
    MetadataStore s = load();
    ManifestMeta child = meta("child", T);
    ManifestMeta index = meta("index", T + 1, List.of(child.digest()), MediaTypes.OCI_INDEX);
    s.putManifest(REPO, child, null, 0, true, () -> {});
    s.putManifest(REPO, index, new Tag("multi"), T + 2, true, () -> {});
    OciException e = assertThrows(OciException.class, () -> s.deleteManifest(REPO, child.digest(), T + 10, true));
    assertEquals(OciError.DENIED, e.error());
    assertEquals(409, e.status());
    assertNotNull(s.manifest(REPO, child.digest()));
    assertTrue(s.tombstones(REPO).manifests().isEmpty(), "a refused delete leaves no tombstone");
    assertTrue(s.deleteManifest(REPO, index.digest(), T + 10, true));
    assertTrue(s.deleteManifest(REPO, child.digest(), T + 11, true), "once the index is gone");
  }

  @Test
  void aDeletedRepositoryStaysDeletedForOlderCopies() throws IOException {
    MetadataStore s = load();
    ManifestMeta old = meta("old", T);
    s.putManifest(REPO, old, LATEST, T + 1, true, () -> {});
    assertTrue(s.clearRepository(REPO, T + 10, true));
    assertFalse(s.exists(REPO));
    assertFalse(s.putManifest(REPO, old, LATEST, T + 1, true, () -> {}), "an older copy does not come back");

    MetadataStore reloaded = load();
    assertFalse(reloaded.exists(REPO));
    assertEquals(T + 10, reloaded.tombstones(REPO).clearedMillis());
    ManifestMeta newer = meta("newer", T + 20);
    assertTrue(reloaded.putManifest(REPO, newer, LATEST, T + 21, true, () -> {}), "a later push is kept");
    assertTrue(reloaded.exists(REPO));
    assertFalse(reloaded.clearRepository(REPO, T + 15, false), "a copied older delete removes nothing newer");
    assertEquals(newer.digest(), reloaded.tag(REPO, LATEST));
  }

  @Test
  void aDeleteThatACrashInterruptedInTheOldFileLayoutIsFinishedByTheMigration() throws IOException {
    // the file layout: the tombstone is durable, the tag file was not removed yet (killed in between)
    ManifestMeta m = meta("a", T);
    Path meta = dir.resolve("repositories/team/app/_meta");
    Path manifestFile = meta.resolve("manifests/sha256").resolve(m.digest().hex());
    Files.createDirectories(manifestFile.getParent());
    Files.write(manifestFile, MetaValues.JSON.writeValueAsBytes(m));
    Path tagFile = meta.resolve("tags/latest");
    Files.createDirectories(tagFile.getParent());
    Files.writeString(tagFile, m.digest().toString());
    Files.setLastModifiedTime(tagFile, FileTime.fromMillis(T + 1));
    Path tomb = meta.resolve("deleted/tags/latest");
    Files.createDirectories(tomb.getParent());
    Files.writeString(tomb, Long.toString(T + 5));
    MetadataStore reloaded = load();
    assertNull(reloaded.tag(REPO, LATEST));
    assertEquals(T + 5, reloaded.tombstones(REPO).tags().get("latest").longValue());
    assertNotNull(reloaded.manifest(REPO, m.digest()));
    assertFalse(Files.exists(tagFile), "the old layout is gone once migrated");
  }

  @Test
  void fingerprintsAgreeOnEqualContentAndSeeTombstones() throws IOException {
    MetadataStore a = open(dir.resolve("a"));
    MetadataStore b = open(dir.resolve("b"));
    ManifestMeta m = meta("a", T);
    a.putManifest(REPO, m, LATEST, T + 1, true, () -> {});
    b.putManifest(REPO, meta("a", T + 999), LATEST, T + 7, true, () -> {}); // other times, same content
    b.linkBlob(REPO, digest("upload-in-flight"), 3); // links are not compared
    assertEquals(a.fingerprint(REPO), b.fingerprint(REPO));
    long before = a.fingerprint(REPO);
    a.deleteTag(REPO, new Tag("never-set"), T + 3, true);
    assertNotEquals(before, a.fingerprint(REPO), "a tombstone is part of the state");
    assertEquals(0, a.fingerprint(RepositoryName.of("not/here")));
  }

  @Test
  void aDropIsRefusedAfterAChangeAndWhileAnUploadSettles() throws IOException {
    MetadataStore s = load();
    s.putManifest(REPO, meta("a", T), LATEST, T + 1, true, () -> {});
    long version = s.version(REPO);
    s.putManifest(REPO, meta("b", T), new Tag("b"), T + 2, true, () -> {}); // lands after the copy started
    assertFalse(s.dropIfUnchanged(REPO, version, 0));
    assertTrue(s.exists(REPO));

    s.linkBlob(REPO, digest("layer-of-a-push"), 10);
    long now = s.version(REPO);
    long cutoff = System.currentTimeMillis() - 60_000;
    assertFalse(s.dropIfUnchanged(REPO, now, cutoff), "a young unreferenced link");
    assertEquals(java.util.Map.of(digest("layer-of-a-push"), 10L), s.youngUnreferencedLinks(REPO, cutoff));
    assertEquals(java.util.Map.of(), s.youngUnreferencedLinks(REPO, System.currentTimeMillis() + 1));
    assertFalse(s.dropIfUnchanged(REPO, now, cutoff, java.util.Set.of(digest("another-upload"))));
    assertTrue(s.dropIfUnchanged(REPO, now, cutoff, java.util.Set.of(digest("layer-of-a-push"))),
        "an upload handed over to the new owners holds nothing back");
    assertFalse(s.exists(REPO));
    assertFalse(load().exists(REPO), "the drop is durable");
  }

  @Test
  void aWriteRacingADropLandsInAFreshRepositoryAndSurvivesARestart() throws Exception {
    MetadataStore s = load();
    s.putManifest(REPO, meta("a", T), LATEST, T + 1, true, () -> {});
    CountDownLatch checking = new CountDownLatch(1);
    CountDownLatch dropped = new CountDownLatch(1);
    ManifestMeta racing = meta("racing", T + 5);
    Thread writer = new Thread(() -> s.putManifest(REPO, racing, new Tag("racing"), T + 6, true, () -> {
      checking.countDown();
      try {
        dropped.await(5, TimeUnit.SECONDS); // holds the repository lock: the drop waits for it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    writer.start();
    assertTrue(checking.await(5, TimeUnit.SECONDS));
    long version = s.version(REPO);
    Thread dropper = new Thread(() -> s.dropIfUnchanged(REPO, version, Long.MAX_VALUE));
    dropper.start();
    dropped.countDown();
    writer.join(5000);
    dropper.join(5000);
    // the write came first: the drop saw a new version and refused
    assertNotNull(s.manifest(REPO, racing.digest()));
    MetadataStore reloaded = load();
    assertNotNull(reloaded.manifest(REPO, racing.digest()), "what was acknowledged is on disk");
    assertEquals(racing.digest(), reloaded.tag(REPO, new Tag("racing")));

    // and after a drop, a writer holding no state gets a fresh one whose files are loaded again
    assertTrue(reloaded.dropIfUnchanged(REPO, reloaded.version(REPO), Long.MAX_VALUE));
    reloaded.putManifest(REPO, meta("after", T + 9), new Tag("after"), T + 9, true, () -> {});
    MetadataStore again = load();
    assertEquals(digest("manifest-after"), again.tag(REPO, new Tag("after")));
    assertNull(again.tag(REPO, LATEST), "nothing of the dropped copy comes back");
  }

  @Test
  void oldTombstonesArePrunedWithRepositoriesThatHoldNothing() throws IOException {
    MetadataStore s = load();
    RepositoryName other = RepositoryName.of("only/deletes");
    s.deleteTag(other, LATEST, T, true);
    s.putManifest(REPO, meta("a", T), LATEST, T + 1, true, () -> {});
    s.deleteTag(REPO, new Tag("x"), T + 2, true);
    assertEquals(2, s.pruneTombstones(T + 100));
    assertFalse(s.repositories().contains(other), "a repository that holds nothing is forgotten");
    assertTrue(s.repositories().contains(REPO));
    assertTrue(s.tombstones(REPO).tags().isEmpty());
    assertFalse(load().repositories().contains(other));
  }
}
