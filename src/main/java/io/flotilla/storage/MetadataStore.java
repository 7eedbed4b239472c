package io.flotilla.storage;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.databind.deser.std.FromStringDeserializer;
import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Function;

/**
 * Repository metadata: tags, manifest links, blob links and (derived from manifests' subjects) the
 * referrers index. Layout, one small file per fact, each written atomically:
 *
 * <pre>
 * &lt;root&gt;/repositories/&lt;name&gt;/_meta/
 *     tags/&lt;tag&gt;                      the digest the tag points at
 *     manifests/&lt;alg&gt;/&lt;hex&gt;           {@link ManifestMeta} as JSON (presence = manifest is in the repo)
 *     blobs/&lt;alg&gt;/&lt;hex&gt;               the blob's size (presence = blob is visible in the repo)
 *     deleted/tags/&lt;tag&gt;              tombstone: when the tag was deleted (millis)
 *     deleted/manifests/&lt;alg&gt;/&lt;hex&gt;   tombstone: when the manifest was deleted (millis)
 *     deleted/repository              when the whole repository was deleted (millis)
 * </pre>
 *
 * <p><b>Deletes stay deleted.</b> Every tag, manifest and tombstone carries a time; copies of a
 * repository on other nodes converge by last-writer-wins on those times: a tag set at {@code t}
 * survives a delete stamped {@code t' < t} and loses to one stamped {@code t' > t}; a manifest
 * created (on the node that first stored it) before its tombstone is not copied back. A delete made
 * here is stamped after the entry it removes, so it always wins over what it saw. Tombstones are
 * kept for {@code storage.tombstoneRetention} and then pruned by garbage collection, together with
 * repositories that hold nothing any more.
 *
 * Repository names never contain a component starting with {@code _}, so {@code _meta} cannot clash
 * with a nested repository. Everything is loaded into memory at start-up and read from there;
 * writers block (call them on worker threads) and update memory only after the file is durable.
 */
public final class MetadataStore {
  static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .registerModule(new SimpleModule()
          .addSerializer(Digest.class, ToStringSerializer.instance)
          .addDeserializer(Digest.class, new FromStringDeserializer<>(Digest.class) {
            @Override
            protected Digest _deserialize(String value, com.fasterxml.jackson.databind.DeserializationContext ctx) {
              return Digest.parse(value);
            }
          }));

  private final Path root;
  private final ConcurrentSkipListMap<String, RepoState> repos = new ConcurrentSkipListMap<>();

  public MetadataStore(Path dataDir) {
    this.root = dataDir.resolve("repositories");
  }

  // ------------------------------------------------------------------ loading

  /** Reads every repository's metadata into memory; blocking, once at start-up. */
  public void load() throws IOException {
    Files.createDirectories(root);
    loadDir(root, "");
  }

  private void loadDir(Path dir, String prefix) throws IOException {
    List<Path> children = new ArrayList<>();
    try (var list = Files.list(dir)) {
      list.filter(Files::isDirectory).forEach(children::add);
    }
    for (Path child : children) {
      String fileName = child.getFileName().toString();
      if (fileName.startsWith(Fs.TRASH_PREFIX)) {
        Fs.deleteTree(child); // a repository removal a crash interrupted
      } else if (fileName.equals("_meta") && !prefix.isEmpty()) {
        loadRepo(RepositoryName.of(prefix), child);
      } else if (!fileName.startsWith("_") && !fileName.startsWith(".")) {
        loadDir(child, prefix.isEmpty() ? fileName : prefix + "/" + fileName);
      }
    }
  }

  private void loadRepo(RepositoryName name, Path meta) throws IOException {
    RepoState repo = new RepoState(name, meta);
    for (DigestAlgorithm alg : DigestAlgorithm.values()) {
      for (Path f : list(meta.resolve("manifests").resolve(alg.id()))) {
        if (isTemp(f)) {
          Files.deleteIfExists(f);
          continue;
        }
        repo.indexManifest(JSON.readValue(f.toFile(), ManifestMeta.class));
      }
      for (Path f : list(meta.resolve("blobs").resolve(alg.id()))) {
        if (isTemp(f)) {
          Files.deleteIfExists(f);
          continue;
        }
        long size = Long.parseLong(Files.readString(f).trim());
        repo.blobs.put(new Digest(alg, f.getFileName().toString()), new long[] {size, Files.getLastModifiedTime(f).toMillis()});
      }
    }
    Path deleted = meta.resolve("deleted");
    Path cleared = deleted.resolve("repository");
    if (Files.isRegularFile(cleared)) {
      repo.clearedMillis = readMillis(cleared);
    }
    for (Path f : list(deleted.resolve("tags"))) {
      if (isTemp(f)) {
        Files.deleteIfExists(f);
      } else {
        repo.deletedTags.put(f.getFileName().toString(), readMillis(f));
      }
    }
    for (DigestAlgorithm alg : DigestAlgorithm.values()) {
      for (Path f : list(deleted.resolve("manifests").resolve(alg.id()))) {
        if (isTemp(f)) {
          Files.deleteIfExists(f);
        } else {
          repo.deletedManifests.put(new Digest(alg, f.getFileName().toString()), readMillis(f));
        }
      }
    }
    // a delete that a crash interrupted: what its tombstone covers is gone
    for (ManifestMeta m : List.copyOf(repo.manifests.values())) {
      if (m.createdMillis() <= Math.max(repo.clearedMillis, repo.deletedManifests.getOrDefault(m.digest(), 0L))) {
        Fs.deleteDurably(manifestFile(repo, m.digest()));
        repo.unindexManifest(m);
      }
    }
    for (Path f : list(meta.resolve("tags"))) {
      if (isTemp(f)) {
        Files.deleteIfExists(f);
        continue;
      }
      String tag = f.getFileName().toString();
      Digest d = Digest.parse(Files.readString(f).trim());
      long setAt = Files.getLastModifiedTime(f).toMillis();
      if (setAt <= Math.max(repo.clearedMillis, repo.deletedTags.getOrDefault(tag, 0L))) {
        Fs.deleteDurably(f);
      } else if (repo.manifests.containsKey(d)) {
        repo.tags.put(tag, d);
        repo.tagTimes.put(tag, setAt);
      }
    }
    repos.put(name.value(), repo);
  }

  private static long readMillis(Path f) throws IOException {
    return Long.parseLong(Files.readString(f, StandardCharsets.US_ASCII).trim());
  }

  private static boolean isTemp(Path f) {
    return f.getFileName().toString().startsWith("._tmp-");
  }

  private static List<Path> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var s = Files.list(dir)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }

  // ------------------------------------------------------------------ reads (any thread)

  /** The repository, or null if nothing was ever stored in it. */
  RepoState repo(RepositoryName name) {
    return repos.get(name.value());
  }

  public ManifestMeta manifest(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    return r == null ? null : r.manifests.get(digest);
  }

  public Digest tag(RepositoryName name, Tag tag) {
    RepoState r = repo(name);
    return r == null ? null : r.tags.get(tag.value());
  }

  /** When a tag was last set, or 0 when it is not set. */
  public long tagTime(RepositoryName name, Tag tag) {
    RepoState r = repo(name);
    return r == null || !r.tags.containsKey(tag.value()) ? 0 : r.tagTimes.getOrDefault(tag.value(), 0L);
  }

  /** A repository's fingerprint and the version of its state it belongs to (0, 0 when not held here). */
  public StorageTypes.Fingerprint fingerprintAt(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return new StorageTypes.Fingerprint(0, 0);
    }
    while (true) {
      long v = r.version;
      long fp = r.fingerprint();
      if (v == r.version) {
        return new StorageTypes.Fingerprint(v, fp);
      }
    }
  }

  /** Size of a blob linked into the repository, or -1 when it is not visible there. */
  public long blobSize(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    long[] v = r == null ? null : r.blobs.get(digest);
    return v == null ? -1 : v[0];
  }

  public boolean exists(RepositoryName name) {
    RepoState r = repo(name);
    return r != null && !r.isEmpty();
  }

  /** Tags after {@code last} (exclusive), at most {@code n}; plus whether more follow. */
  public Page tags(RepositoryName name, int n, String last) {
    RepoState r = repo(name);
    if (r == null) {
      return new Page(List.of(), false);
    }
    return page(r.tags.navigableKeySet(), n, last);
  }

  /** Non-empty repository names after {@code last}, at most {@code n}; plus whether more follow. */
  public Page catalog(int n, String last) {
    return catalog(n, last, name -> true);
  }

  /** A catalog page of the repositories {@code visible} accepts (paging counts only those). */
  public Page catalog(int n, String last, java.util.function.Predicate<String> visible) {
    if (n == 0) {
      return new Page(List.of(), false);
    }
    NavigableMap<String, RepoState> tail = last == null ? repos : repos.tailMap(last, false);
    List<String> out = new ArrayList<>(Math.min(n, 1024));
    for (var e : tail.entrySet()) {
      if (e.getValue().isEmpty() || !visible.test(e.getKey())) {
        continue;
      }
      if (out.size() == n) {
        return new Page(out, true);
      }
      out.add(e.getKey());
    }
    return new Page(out, false);
  }

  public List<ManifestMeta> referrers(RepositoryName name, Digest subject) {
    RepoState r = repo(name);
    if (r == null) {
      return List.of();
    }
    var set = r.referrers.get(subject);
    if (set == null) {
      return List.of();
    }
    List<ManifestMeta> out = new ArrayList<>(set.size());
    for (Digest d : set) {
      ManifestMeta m = r.manifests.get(d);
      if (m != null) {
        out.add(m);
      }
    }
    out.sort((a, b) -> a.digest().compareTo(b.digest()));
    return out;
  }

  /** The tombstones of a repository, for replication (all empty when there are none). */
  public Tombstones tombstones(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return new Tombstones(Map.of(), Map.of(), 0);
    }
    return new Tombstones(Map.copyOf(r.deletedTags), Map.copyOf(r.deletedManifests), r.clearedMillis);
  }

  /**
   * Deletes a repository remembers: tag and manifest tombstones (when each was deleted) and when the
   * whole repository was last deleted (0 = never).
   */
  public record Tombstones(Map<String, Long> tags, Map<Digest, Long> manifests, long clearedMillis) {}

  /** A counter that every change of the repository increments (0 when it is not held here). */
  public long version(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? 0 : r.version;
  }

  /** Every repository name, including empty ones (GC and usage). */
  public List<RepositoryName> repositories() {
    return repos.values().stream().map(r -> r.name).toList();
  }

  public Map<Digest, ManifestMeta> manifests(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? Map.of() : Map.copyOf(r.manifests);
  }

  /** Linked blobs of a repository: digest -> [size, linked-at millis]. */
  public Map<Digest, long[]> blobs(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? Map.of() : Map.copyOf(r.blobs);
  }

  private static Page page(java.util.NavigableSet<String> keys, int n, String last) {
    if (n == 0) {
      return new Page(List.of(), false);
    }
    var tail = last == null ? keys : keys.tailSet(last, false);
    List<String> out = new ArrayList<>(Math.min(n, 1024));
    for (String k : tail) {
      if (out.size() == n) {
        return new Page(out, true);
      }
      out.add(k);
    }
    return new Page(out, false);
  }

  /** One page of a sorted listing. */
  public record Page(List<String> items, boolean more) {}

  // ------------------------------------------------------------------ writes (worker threads)

  /**
   * Runs {@code action} under the repository's lock, on a state that is not dropped (a writer that
   * raced with a drop gets a fresh state, so nothing is written into a repository that was removed).
   */
  private <T> T write(RepositoryName name, Function<RepoState, T> action) {
    while (true) {
      RepoState r = repos.computeIfAbsent(name.value(), k -> new RepoState(name, repoDir(name).resolve("_meta")));
      synchronized (r) {
        if (r.dropped) {
          repos.remove(name.value(), r);
          continue;
        }
        return action.apply(r);
      }
    }
  }

  private Path repoDir(RepositoryName name) {
    Path p = root;
    for (String part : name.value().split("/")) {
      p = p.resolve(part);
    }
    return p;
  }

  /** Makes a stored blob visible in a repository. */
  public void linkBlob(RepositoryName name, Digest digest, long size) {
    write(name, r -> {
      if (!r.blobs.containsKey(digest)) {
        Fs.writeAtomic(blobLink(r, digest), Long.toString(size).getBytes(StandardCharsets.US_ASCII));
        r.blobs.put(digest, new long[] {size, System.currentTimeMillis()});
        r.changed();
      }
      return null;
    });
  }

  /** Hides a blob from a repository; returns whether it was linked. */
  public boolean unlinkBlob(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      if (r.dropped || !r.blobs.containsKey(digest)) {
        return false;
      }
      Fs.deleteDurably(blobLink(r, digest));
      r.blobs.remove(digest);
      r.changed();
      return true;
    }
  }

  /** A client's push: see {@link #putManifest(RepositoryName, ManifestMeta, Tag, long, boolean, Runnable)}. */
  public void putManifest(RepositoryName name, ManifestMeta meta, Tag tag, Runnable check) {
    putManifest(name, meta, tag, 0, false, check);
  }

  /**
   * Records a manifest (whose bytes are already durable in the blob store) and optionally points a
   * tag at it. The manifest file is written before the tag, so a tag never names a missing manifest.
   * {@code check} runs under the repository lock first (reference validation), so a concurrent
   * delete cannot slip between validation and write.
   *
   * <p>A client's push ({@code replica} false) is newer than anything here: its times are moved past
   * any tombstone of the same manifest or tag. A copy from another node ({@code replica} true) keeps
   * the times it had there ({@code meta.createdMillis()}, {@code tagMillis}) and loses, last writer
   * wins, to a newer delete or tag here.
   *
   * @param tagMillis when the tag was set (0 = now)
   * @return whether the manifest is recorded here afterwards
   */
  public boolean putManifest(RepositoryName name, ManifestMeta meta, Tag tag, long tagMillis, boolean replica,
      Runnable check) {
    return write(name, r -> {
      check.run();
      Digest d = meta.digest();
      if (!r.manifests.containsKey(d)) {
        long tomb = Math.max(r.clearedMillis, r.deletedManifests.getOrDefault(d, 0L));
        ManifestMeta m = meta;
        if (meta.createdMillis() <= tomb) {
          if (replica) {
            return false; // deleted here after it was created there
          }
          m = new ManifestMeta(d, meta.mediaType(), meta.size(), meta.artifactType(), meta.subject(),
              meta.annotations(), meta.references(), tomb + 1);
        }
        try {
          Fs.writeAtomic(manifestFile(r, d), JSON.writeValueAsBytes(m));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        r.indexManifest(m);
        if (r.deletedManifests.remove(d) != null) {
          Fs.deleteDurably(manifestTombstone(r, d)); // obsolete: the manifest is newer
        }
        r.changed();
      }
      if (tag != null) {
        setTag(r, tag.value(), d, tagMillis > 0 ? tagMillis : System.currentTimeMillis(), !replica);
      }
      return true;
    });
  }

  /**
   * Points a tag at a manifest already recorded here if the tag is missing or was last set before
   * {@code updatedMillis}, and no delete of it or of the repository is newer (last writer wins, by
   * the writing node's clock); the tag keeps that time. Returns whether the tag changed.
   */
  public boolean importTag(RepositoryName name, Tag tag, Digest digest, long updatedMillis) {
    return write(name, r -> {
      if (!r.manifests.containsKey(digest)) {
        throw new IllegalStateException("manifest " + digest + " is not recorded in " + name);
      }
      return setTag(r, tag.value(), digest, updatedMillis, false);
    });
  }

  /** Sets a tag under the lock; {@code fresh} moves the time past what is known here, else last writer wins. */
  private boolean setTag(RepoState r, String tag, Digest digest, long millis, boolean fresh) {
    Digest current = r.tags.get(tag);
    long known = Math.max(r.clearedMillis, Math.max(r.tagTimes.getOrDefault(tag, 0L), r.deletedTags.getOrDefault(tag, 0L)));
    if (digest.equals(current)) {
      return false;
    }
    if (millis <= known) {
      if (!fresh) {
        return false;
      }
      millis = known + 1;
    }
    Path file = r.metaDir.resolve("tags").resolve(tag);
    Fs.writeAtomic(file, digest.toString().getBytes(StandardCharsets.US_ASCII));
    try {
      Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(millis));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    r.tags.put(tag, digest);
    r.tagTimes.put(tag, millis);
    if (r.deletedTags.remove(tag) != null) {
      Fs.deleteDurably(tagTombstone(r, tag)); // obsolete: the tag is newer
    }
    r.changed();
    return true;
  }

  /** Tag -> (digest, last set) of a repository, for replication. */
  public Map<String, Map.Entry<Digest, Long>> tagEntries(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return Map.of();
    }
    Map<String, Map.Entry<Digest, Long>> out = new java.util.TreeMap<>();
    for (var e : r.tags.entrySet()) {
      out.put(e.getKey(), Map.entry(e.getValue(), r.tagTimes.getOrDefault(e.getKey(), 0L)));
    }
    return out;
  }

  /**
   * A 64-bit value that changes whenever the repository's tags, manifests or tombstones change; equal
   * values on two nodes mean their copies agree (blob links are left out: copies link only what
   * their manifests reference). 0 when the repository is not held here.
   */
  public long fingerprint(RepositoryName name) {
    RepoState r = repo(name);
    return r == null ? 0 : r.fingerprint();
  }

  /**
   * Forgets a repository on this node: its metadata files go, durably, and it leaves the catalog.
   * Blob files stay for garbage collection (other repositories may share them).
   */
  public void dropRepository(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return;
    }
    synchronized (r) {
      drop(r);
    }
  }

  /**
   * Drops a repository that moved to other nodes, only if nothing changed since {@code version} and no
   * upload is settling in it (a blob linked after {@code youngLinkCutoff} that no manifest references
   * yet belongs to a push in flight). The check and the drop hold the repository's lock, so a write
   * either lands before (and the drop is refused) or after (on a fresh repository). Returns whether
   * the repository is gone.
   */
  public boolean dropIfUnchanged(RepositoryName name, long version, long youngLinkCutoff) {
    RepoState r = repo(name);
    if (r == null) {
      return true;
    }
    synchronized (r) {
      if (r.dropped) {
        return true;
      }
      if (r.version != version) {
        return false;
      }
      java.util.Set<Digest> referenced = new java.util.HashSet<>();
      for (ManifestMeta m : r.manifests.values()) {
        referenced.addAll(m.references());
      }
      for (var e : r.blobs.entrySet()) {
        if (e.getValue()[1] > youngLinkCutoff && !referenced.contains(e.getKey())) {
          return false;
        }
      }
      drop(r);
      return true;
    }
  }

  private void drop(RepoState r) {
    try {
      Fs.deleteTreeDurably(r.metaDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    r.dropped = true;
    r.changed();
    repos.remove(r.name.value(), r);
  }

  /** A client's delete of a manifest and every tag pointing at it, stamped now; returns whether it existed. */
  public boolean deleteManifest(RepositoryName name, Digest digest) {
    return deleteManifest(name, digest, System.currentTimeMillis(), true);
  }

  /**
   * Deletes a manifest and every tag pointing at it, and keeps a tombstone so that no older copy
   * brings it back. A client's delete ({@code fresh}) is stamped after the manifest's creation and
   * is refused (DENIED, 409) while an index in the repository lists the manifest; a delete copied
   * from another node ({@code fresh} false) loses to a manifest created after it. The tombstone is
   * kept even when the manifest is not here (a stale copy elsewhere must not return). Returns
   * whether the manifest was here.
   */
  public boolean deleteManifest(RepositoryName name, Digest digest, long millis, boolean fresh) {
    return write(name, r -> {
      ManifestMeta meta = r.manifests.get(digest);
      if (meta == null) {
        recordManifestTombstone(r, digest, millis);
        return false;
      }
      if (!fresh && meta.createdMillis() >= millis) {
        return false; // pushed again after that delete
      }
      if (fresh) {
        requireUnlisted(r, digest);
      }
      long t = fresh ? Math.max(millis, meta.createdMillis() + 1) : millis;
      recordManifestTombstone(r, digest, t);
      for (var e : List.copyOf(r.tags.entrySet())) {
        if (e.getValue().equals(digest)) {
          removeTag(r, e.getKey(), t);
        }
      }
      Fs.deleteDurably(manifestFile(r, digest));
      r.unindexManifest(meta);
      r.changed();
      return true;
    });
  }

  /**
   * Refuses (DENIED, 409) the delete of a manifest that an index in the repository lists: deleting
   * it would leave the index dangling.
   */
  public void checkDeletable(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    if (r != null) {
      requireUnlisted(r, digest);
    }
  }

  private static void requireUnlisted(RepoState r, Digest digest) {
    for (ManifestMeta m : r.manifests.values()) {
      if (!m.digest().equals(digest) && MediaTypes.isIndex(m.mediaType()) && m.references().contains(digest)) {
        throw new OciException(OciError.DENIED, "manifest " + digest + " is listed by index " + m.digest()
            + " in " + r.name + "; delete the index first", 409);
      }
    }
  }

  /** Whether this node keeps anything of the repository (content or tombstones). */
  public boolean holds(RepositoryName name) {
    return repo(name) != null;
  }

  private void recordManifestTombstone(RepoState r, Digest digest, long millis) {
    Long tomb = r.deletedManifests.get(digest);
    if ((tomb == null || tomb < millis) && millis > r.clearedMillis) {
      Fs.writeAtomic(manifestTombstone(r, digest), Long.toString(millis).getBytes(StandardCharsets.US_ASCII));
      r.deletedManifests.put(digest, millis);
      r.changed();
    }
  }

  /** A client's delete of one tag, stamped now; returns whether it existed. */
  public boolean deleteTag(RepositoryName name, Tag tag) {
    return deleteTag(name, tag, System.currentTimeMillis(), true);
  }

  /**
   * Deletes a tag and keeps a tombstone (also when the tag is not here). A client's delete
   * ({@code fresh}) is stamped after the tag was set; a copied one loses to a tag set after it.
   * Returns whether the tag was here and is gone.
   */
  public boolean deleteTag(RepositoryName name, Tag tag, long millis, boolean fresh) {
    return write(name, r -> {
      String t = tag.value();
      Long setAt = r.tagTimes.get(t);
      if (r.tags.get(t) == null) {
        recordTagTombstone(r, t, millis);
        return false;
      }
      if (!fresh && setAt >= millis) {
        return false; // set again after that delete
      }
      removeTag(r, t, fresh ? Math.max(millis, setAt + 1) : millis);
      return true;
    });
  }

  private void removeTag(RepoState r, String tag, long millis) {
    recordTagTombstone(r, tag, millis);
    Fs.deleteDurably(r.metaDir.resolve("tags").resolve(tag));
    r.tags.remove(tag);
    r.tagTimes.remove(tag);
    r.changed();
  }

  private void recordTagTombstone(RepoState r, String tag, long millis) {
    Long tomb = r.deletedTags.get(tag);
    if ((tomb == null || tomb < millis) && millis > r.clearedMillis) {
      Fs.writeAtomic(tagTombstone(r, tag), Long.toString(millis).getBytes(StandardCharsets.US_ASCII));
      r.deletedTags.put(tag, millis);
      r.changed();
    }
  }

  /**
   * Deletes everything in a repository and remembers when, so that no older copy brings any of it
   * back. A client's delete ({@code fresh}) is stamped after everything here; a copied one removes
   * only what was set before it. Returns whether the repository held anything.
   */
  public boolean clearRepository(RepositoryName name, long millis, boolean fresh) {
    return write(name, r -> {
      boolean had = !r.isEmpty();
      long t = millis;
      if (fresh) {
        for (long v : r.tagTimes.values()) {
          t = Math.max(t, v + 1);
        }
        for (ManifestMeta m : r.manifests.values()) {
          t = Math.max(t, m.createdMillis() + 1);
        }
      }
      if (t <= r.clearedMillis) {
        return false;
      }
      Fs.writeAtomic(r.metaDir.resolve("deleted").resolve("repository"),
          Long.toString(t).getBytes(StandardCharsets.US_ASCII));
      r.clearedMillis = t;
      boolean removed = false;
      for (var e : List.copyOf(r.tags.entrySet())) {
        if (r.tagTimes.getOrDefault(e.getKey(), 0L) <= t) {
          Fs.deleteDurably(r.metaDir.resolve("tags").resolve(e.getKey()));
          r.tags.remove(e.getKey());
          r.tagTimes.remove(e.getKey());
          removed = true;
        }
      }
      for (ManifestMeta m : List.copyOf(r.manifests.values())) {
        if (m.createdMillis() <= t) {
          Fs.deleteDurably(manifestFile(r, m.digest()));
          r.unindexManifest(m);
          removed = true;
        }
      }
      for (var e : List.copyOf(r.blobs.entrySet())) {
        if (fresh || e.getValue()[1] <= t) {
          Fs.deleteDurably(blobLink(r, e.getKey()));
          r.blobs.remove(e.getKey());
        }
      }
      for (var e : List.copyOf(r.deletedTags.entrySet())) {
        if (e.getValue() <= t) {
          Fs.deleteDurably(tagTombstone(r, e.getKey()));
          r.deletedTags.remove(e.getKey());
        }
      }
      for (var e : List.copyOf(r.deletedManifests.entrySet())) {
        if (e.getValue() <= t) {
          Fs.deleteDurably(manifestTombstone(r, e.getKey()));
          r.deletedManifests.remove(e.getKey());
        }
      }
      r.changed();
      return had && removed;
    });
  }

  /**
   * Forgets tombstones older than {@code cutoffMillis}, and repositories that then hold nothing at
   * all. Returns how many tombstones went. A node that was away for longer than the retention can
   * bring back what was deleted meanwhile.
   */
  public int pruneTombstones(long cutoffMillis) {
    int pruned = 0;
    for (RepoState r : List.copyOf(repos.values())) {
      synchronized (r) {
        if (r.dropped) {
          continue;
        }
        int before = pruned;
        for (var e : List.copyOf(r.deletedTags.entrySet())) {
          if (e.getValue() < cutoffMillis) {
            Fs.deleteDurably(tagTombstone(r, e.getKey()));
            r.deletedTags.remove(e.getKey());
            pruned++;
          }
        }
        for (var e : List.copyOf(r.deletedManifests.entrySet())) {
          if (e.getValue() < cutoffMillis) {
            Fs.deleteDurably(manifestTombstone(r, e.getKey()));
            r.deletedManifests.remove(e.getKey());
            pruned++;
          }
        }
        if (r.clearedMillis != 0 && r.clearedMillis < cutoffMillis) {
          Fs.deleteDurably(r.metaDir.resolve("deleted").resolve("repository"));
          r.clearedMillis = 0;
          pruned++;
        }
        if (pruned != before) {
          r.changed();
        }
        if (r.isVacant()) {
          drop(r);
        }
      }
    }
    return pruned;
  }

  /** Runs {@code action} under a repository's write lock (GC uses it to sweep links safely). */
  public void withLock(RepositoryName name, Runnable action) {
    RepoState r = repo(name);
    if (r == null) {
      return;
    }
    synchronized (r) {
      action.run();
    }
  }

  private static Path blobLink(RepoState r, Digest d) {
    return r.metaDir.resolve("blobs").resolve(d.algorithm().id()).resolve(d.hex());
  }

  private static Path manifestFile(RepoState r, Digest d) {
    return r.metaDir.resolve("manifests").resolve(d.algorithm().id()).resolve(d.hex());
  }

  private static Path tagTombstone(RepoState r, String tag) {
    return r.metaDir.resolve("deleted").resolve("tags").resolve(tag);
  }

  private static Path manifestTombstone(RepoState r, Digest d) {
    return r.metaDir.resolve("deleted").resolve("manifests").resolve(d.algorithm().id()).resolve(d.hex());
  }
}
