package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.RepositoryName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Moves the metadata of the file layout that nodes before the metadata database wrote (one file
 * per fact under {@code <dataDir>/repositories/<name>/_meta/}) into the {@link MetaDb}, once, at
 * start-up. Crash-safe and resumable: each repository is one batch that also records that the
 * repository is done; a restart after a crash skips those and goes on. When every repository is
 * in, one batch sets the "done" mark (and clears the per-repository marks); only then is the old
 * tree renamed to {@code repositories.migrated} and deleted in the background (a restart deletes
 * what is left).
 *
 * <p>The old files are read as the file-layout store read them at start-up: half-written temp files
 * ({@code ._tmp-*}) are ignored, a manifest or tag that a tombstone covers is gone (a delete that a
 * crash interrupted), a tag whose manifest is missing is not served, tag and link times are the
 * files' modification times. One line is logged with what was moved.
 */
final class FileLayoutMigration {
  private static final System.Logger LOG = System.getLogger(FileLayoutMigration.class.getName());
  private static final byte[] DONE = MetaKeys.internal("layout-migrated");

  /** Called after each repository's batch is committed (tests inject a crash there). */
  @FunctionalInterface
  interface Hook {
    Hook NONE = name -> {};

    void afterRepository(RepositoryName name) throws IOException;
  }

  /** What one run moved. */
  record Result(int repositories, int resumed, int manifests, int tags, int links, int tombstones, long millis) {}

  private final Path dataDir;
  private final MetaDb db;
  private final Hook hook;

  FileLayoutMigration(Path dataDir, MetaDb db, Hook hook) {
    this.dataDir = dataDir;
    this.db = db;
    this.hook = hook;
  }

  private static byte[] progress(RepositoryName name) {
    return MetaKeys.internal("migrating", name.value());
  }

  /** Migrates if needed; returns what was moved (null when nothing was to do). */
  Result run() throws IOException {
    Path root = dataDir.resolve("repositories");
    Path retired = dataDir.resolve("repositories.migrated");
    if (db.get(DONE) != null) {
      removeOldTree(root, retired); // a crash after the done mark: finish the clean-up
      return null;
    }
    if (!Files.isDirectory(root)) {
      markDone("empty");
      return null;
    }
    long start = System.nanoTime();
    int[] n = new int[6]; // repositories, resumed, manifests, tags, links, tombstones
    List<RepoDir> repos = new ArrayList<>();
    findRepositories(root, "", repos);
    for (RepoDir dir : repos) {
      if (db.get(progress(dir.name())) != null) {
        n[1]++;
        continue;
      }
      RepoState old = read(dir.name(), dir.meta());
      try (RepoChange c = new RepoChange(new RepoState(dir.name()))) {
        for (ManifestMeta m : old.manifests.values()) {
          c.putManifest(m);
        }
        for (Map.Entry<String, Digest> e : old.tags.entrySet()) {
          c.putTag(e.getKey(), e.getValue(), old.tagTimes.get(e.getKey()));
        }
        for (Map.Entry<Digest, long[]> e : old.blobs.entrySet()) {
          c.linkBlob(e.getKey(), e.getValue()[0], e.getValue()[1]);
        }
        old.deletedTags.forEach(c::putTagTombstone);
        old.deletedManifests.forEach(c::putManifestTombstone);
        if (old.clearedMillis != 0) {
          c.setCleared(old.clearedMillis);
        }
        c.putInternal(progress(dir.name()), new byte[] {1});
        c.commit(db);
      }
      n[0]++;
      n[2] += old.manifests.size();
      n[3] += old.tags.size();
      n[4] += old.blobs.size();
      n[5] += old.deletedTags.size() + old.deletedManifests.size() + (old.clearedMillis != 0 ? 1 : 0);
      hook.afterRepository(dir.name());
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    Result result = new Result(n[0], n[1], n[2], n[3], n[4], n[5], millis);
    try (MetaDb.Batch b = new MetaDb.Batch()) {
      db.scan(MetaKeys.internal("migrating", ""), (k, v) -> {
        b.delete(k);
        return true;
      });
      b.put(DONE, result.toString().getBytes(StandardCharsets.UTF_8));
      db.commit(b);
    }
    removeOldTree(root, retired);
    LOG.log(System.Logger.Level.INFO, String.format("moved the file layout's metadata into the metadata database: "
        + "%d repositories (%d more were moved before an interruption), %d manifests, %d tags, %d blob links, "
        + "%d tombstones in %d ms", result.repositories(), result.resumed(), result.manifests(), result.tags(),
        result.links(), result.tombstones(), result.millis()));
    return result;
  }

  private void markDone(String why) {
    try (MetaDb.Batch b = new MetaDb.Batch()) {
      b.put(DONE, why.getBytes(StandardCharsets.UTF_8));
      db.commit(b);
    }
  }

  /**
   * Renames the old tree out of the way (durably) and deletes it on a background thread: deleting
   * hundreds of thousands of small files takes minutes and nothing waits for it (a restart deletes
   * what is left).
   */
  private static void removeOldTree(Path root, Path retired) throws IOException {
    if (Files.isDirectory(root)) {
      if (Files.exists(retired)) {
        Fs.deleteTree(retired); // left by an earlier run; the rename needs its name
      }
      Fs.moveAtomic(root, retired);
    }
    if (Files.exists(retired)) {
      Thread t = new Thread(() -> {
        try {
          Fs.deleteTree(retired);
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "could not delete " + retired + " (a restart tries again): " + e);
        }
      }, "flotilla-migrated-cleanup");
      t.setDaemon(true);
      t.start();
    }
  }

  private record RepoDir(RepositoryName name, Path meta) {}

  private static void findRepositories(Path dir, String prefix, List<RepoDir> out) throws IOException {
    List<Path> children = new ArrayList<>();
    try (var list = Files.list(dir)) {
      list.filter(Files::isDirectory).sorted().forEach(children::add);
    }
    for (Path child : children) {
      String fileName = child.getFileName().toString();
      if (fileName.equals("_meta") && !prefix.isEmpty()) {
        out.add(new RepoDir(RepositoryName.of(prefix), child));
      } else if (!fileName.startsWith("_") && !fileName.startsWith(".")) {
        findRepositories(child, prefix.isEmpty() ? fileName : prefix + "/" + fileName, out);
      }
    }
  }

  /** One repository as the file-layout store loaded it (read only: nothing is deleted here). */
  static RepoState read(RepositoryName name, Path meta) throws IOException {
    RepoState repo = new RepoState(name);
    for (DigestAlgorithm alg : DigestAlgorithm.values()) {
      for (Path f : list(meta.resolve("manifests").resolve(alg.id()))) {
        repo.indexManifest(MetaValues.JSON.readValue(f.toFile(), ManifestMeta.class));
      }
      for (Path f : list(meta.resolve("blobs").resolve(alg.id()))) {
        long size = Long.parseLong(Files.readString(f).trim());
        repo.blobs.put(new Digest(alg, f.getFileName().toString()),
            new long[] {size, Files.getLastModifiedTime(f).toMillis()});
      }
    }
    Path deleted = meta.resolve("deleted");
    Path cleared = deleted.resolve("repository");
    if (Files.isRegularFile(cleared)) {
      repo.clearedMillis = readMillis(cleared);
    }
    for (Path f : list(deleted.resolve("tags"))) {
      repo.deletedTags.put(f.getFileName().toString(), readMillis(f));
    }
    for (DigestAlgorithm alg : DigestAlgorithm.values()) {
      for (Path f : list(deleted.resolve("manifests").resolve(alg.id()))) {
        repo.deletedManifests.put(new Digest(alg, f.getFileName().toString()), readMillis(f));
      }
    }
    // a delete that a crash interrupted: what its tombstone covers is gone
    for (ManifestMeta m : List.copyOf(repo.manifests.values())) {
      if (m.createdMillis() <= Math.max(repo.clearedMillis, repo.deletedManifests.getOrDefault(m.digest(), 0L))) {
        repo.unindexManifest(m);
      }
    }
    for (Path f : list(meta.resolve("tags"))) {
      String tag = f.getFileName().toString();
      Digest d = Digest.parse(Files.readString(f).trim());
      long setAt = Files.getLastModifiedTime(f).toMillis();
      boolean covered = setAt <= Math.max(repo.clearedMillis, repo.deletedTags.getOrDefault(tag, 0L));
      if (!covered && repo.manifests.containsKey(d)) {
        repo.putTag(tag, d, setAt, 0);
      }
    }
    return repo;
  }

  private static long readMillis(Path f) throws IOException {
    return Long.parseLong(Files.readString(f, StandardCharsets.US_ASCII).trim());
  }

  /** The regular files of a folder, without half-written temp files (none when it is missing). */
  private static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("._tmp-")).toList();
    }
  }
}
