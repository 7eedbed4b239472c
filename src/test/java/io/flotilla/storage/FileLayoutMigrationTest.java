package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The move of the old file layout into the metadata database, on the fixture in
 * {@code src/test/resources/migration/file-layout-v1} (written by the file-per-fact store; see its
 * README): the store serves exactly what that code served, and a crash in the middle of the
 * migration is finished by the next start.
 */
class FileLayoutMigrationTest {
  private static final Path FIXTURE = fixture();

  @TempDir
  Path dir;

  private static Path fixture() {
    try {
      return Path.of(FileLayoutMigrationTest.class.getResource("/migration/file-layout-v1").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Copies the fixture's data folder to {@code to}; returns tag file -> modification time of the copy. */
  private static Map<String, Long> copyFixture(Path to) throws IOException {
    Path from = FIXTURE.resolve("data");
    Map<String, Long> tagTimes = new HashMap<>();
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
          Path rel = from.resolve("repositories").relativize(p);
          if (rel.getNameCount() >= 3 && rel.getName(rel.getNameCount() - 2).toString().equals("tags")) {
            String repo = rel.subpath(0, rel.getNameCount() - 3).toString().replace('\\', '/');
            tagTimes.put(repo + ":" + rel.getFileName(), Files.getLastModifiedTime(target).toMillis());
          }
        }
      }
    }
    return tagTimes;
  }

  private static MetadataStore open(Path dataDir, FileLayoutMigration.Hook hook) throws IOException {
    MetadataStore s = new MetadataStore(dataDir, MetadataStore.DEFAULT_CACHE_WEIGHT, hook);
    s.load();
    return s;
  }

  /** The same dump as the fixture's {@code expected.json}, of the new store. */
  private static JsonNode dump(MetadataStore r) throws IOException {
    Map<String, Object> out = new TreeMap<>();
    out.put("catalog", r.catalog(1000, null).items());
    out.put("repositories", r.repositories().stream().map(RepositoryName::value).sorted().toList());
    Map<String, Object> repos = new TreeMap<>();
    for (RepositoryName n : r.repositories()) {
      Map<String, Object> v = new TreeMap<>();
      v.put("exists", r.exists(n));
      Map<String, String> tags = new TreeMap<>();
      for (String t : r.tags(n, Integer.MAX_VALUE, null).items()) {
        tags.put(t, r.tag(n, new Tag(t)).toString());
      }
      v.put("tags", tags);
      Map<String, Object> ms = new TreeMap<>();
      r.manifests(n).forEach((k, m) -> ms.put(k.toString(), m));
      v.put("manifests", ms);
      Map<String, Long> bs = new TreeMap<>();
      r.blobs(n).forEach((k, x) -> bs.put(k.toString(), x[0]));
      v.put("blobs", bs);
      Map<String, List<String>> refs = new TreeMap<>();
      for (ManifestMeta m : r.manifests(n).values()) {
        if (m.subject() != null) {
          refs.put(m.subject().toString(), r.referrers(n, m.subject()).stream().map(x -> x.digest().toString()).toList());
        }
      }
      v.put("referrers", refs);
      MetadataStore.Tombstones tb = r.tombstones(n);
      v.put("tagTombstones", new TreeMap<>(tb.tags()));
      Map<String, Long> mt = new TreeMap<>();
      tb.manifests().forEach((k, x) -> mt.put(k.toString(), x));
      v.put("manifestTombstones", mt);
      v.put("clearedMillis", tb.clearedMillis());
      v.put("fingerprint", r.fingerprint(n));
      repos.put(n.value(), v);
    }
    out.put("repos", repos);
    return MetaValues.JSON.readTree(MetaValues.JSON.writeValueAsBytes(out));
  }

  private static JsonNode expected() throws IOException {
    return MetaValues.JSON.readTree(FIXTURE.resolve("expected.json").toFile());
  }

  private static void assertServesTheFixture(MetadataStore s, Map<String, Long> tagTimes) throws IOException {
    assertEquals(expected(), dump(s));
    // times of live tags came from the files' modification times
    for (RepositoryName n : s.repositories()) {
      s.tagEntries(n).forEach((tag, e) -> assertEquals(tagTimes.get(n.value() + ":" + tag), e.getValue(), n + ":" + tag));
    }
    RepositoryName app = RepositoryName.of("team/app");
    assertNull(s.tag(app, new Tag("dangling")), "a tag whose manifest never made it is not served");
    assertEquals(2, s.referrers(app, s.tag(app, new Tag("latest"))).size());
    assertFalse(s.exists(RepositoryName.of("old/gone")));
    assertTrue(s.holds(RepositoryName.of("old/gone")), "its repository tombstone is kept");
  }

  @Test
  void aMigratedStoreServesExactlyWhatTheFileLayoutServed() throws Exception {
    Map<String, Long> tagTimes = copyFixture(dir);
    try (MetadataStore s = open(dir, FileLayoutMigration.Hook.NONE)) {
      assertServesTheFixture(s, tagTimes);
      assertFalse(Files.exists(dir.resolve("repositories")), "the old files go once everything is in");
      io.flotilla.testing.Await.until("the old tree is deleted in the background", java.time.Duration.ofSeconds(30),
          () -> !Files.exists(dir.resolve("repositories.migrated")));
    }
    try (MetadataStore again = open(dir, FileLayoutMigration.Hook.NONE)) {
      assertServesTheFixture(again, tagTimes);
    }
  }

  @Test
  void aCrashInTheMiddleOfTheMigrationIsFinishedByTheNextStart() throws IOException {
    Map<String, Long> tagTimes = copyFixture(dir);
    List<String> committed = new ArrayList<>();
    IOException crash = assertThrows(IOException.class, () -> open(dir, name -> {
      committed.add(name.value());
      if (committed.size() == 2) {
        throw new IOException("killed after the second repository");
      }
    }));
    assertEquals("killed after the second repository", crash.getMessage());
    // what the interrupted run left: two repositories, each whole, and the old tree untouched
    try (MetaDb db = MetaDb.open(dir.resolve("metadata"))) {
      List<String> stored = new ArrayList<>();
      db.scan(MetaKeys.summaryPrefix(), (k, v) -> stored.add(MetaKeys.last(k)));
      assertEquals(committed, stored);
      assertNull(db.get(MetaKeys.internal("layout-migrated")));
      assertNotNull(db.get(MetaKeys.internal("migrating", committed.get(0))));
    }
    assertTrue(Files.isDirectory(dir.resolve("repositories/team/app/_meta")));

    List<String> second = new ArrayList<>();
    try (MetadataStore s = open(dir, name -> second.add(name.value()))) {
      assertFalse(second.contains(committed.get(0)), "a repository moved before the crash is not moved again");
      assertFalse(second.contains(committed.get(1)));
      assertEquals(expected().path("repositories").size(), committed.size() + second.size());
      assertServesTheFixture(s, tagTimes);
      List<String> marks = new ArrayList<>();
      s.db().scan(MetaKeys.internal("migrating", ""), (k, v) -> marks.add(MetaKeys.last(k)));
      assertEquals(List.of(), marks, "the per-repository marks go with the done mark");
    }
    assertFalse(Files.exists(dir.resolve("repositories")));
  }

  @Test
  void oldFilesLeftByACrashAfterTheMigrationCommittedAreRemovedNotMovedAgain() throws Exception {
    Map<String, Long> tagTimes = copyFixture(dir);
    open(dir, FileLayoutMigration.Hook.NONE).close();
    io.flotilla.testing.Await.until("the old tree is deleted in the background", java.time.Duration.ofSeconds(30),
        () -> !Files.exists(dir.resolve("repositories.migrated")));
    // the old tree is back as if the node had died before deleting it (here: with an extra tag)
    copyFixture(dir);
    Files.writeString(dir.resolve("repositories/team/app/_meta/tags/extra"), Digest.sha256(new byte[0]).toString());
    try (MetadataStore s = open(dir, name -> {
      throw new AssertionError("nothing is moved twice: " + name);
    })) {
      assertServesTheFixture(s, tagTimes);
      assertFalse(Files.exists(dir.resolve("repositories")));
    }
  }

  @Test
  void aNewDataFolderHasNothingToMigrate() throws IOException {
    try (MetadataStore s = open(dir, name -> {
      throw new AssertionError("nothing to move: " + name);
    })) {
      assertEquals(List.of(), s.repositories());
      assertNotNull(s.db().get(MetaKeys.internal("layout-migrated")));
    }
  }
}
