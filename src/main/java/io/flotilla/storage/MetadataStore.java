package io.flotilla.storage;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import com.fasterxml.jackson.databind.deser.std.FromStringDeserializer;
import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
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

/**
 * Repository metadata: tags, manifest links, blob links and (derived from manifests' subjects) the
 * referrers index. Layout, one small file per fact, each written atomically:
 *
 * <pre>
 * &lt;root&gt;/repositories/&lt;name&gt;/_meta/
 *     tags/&lt;tag&gt;                      the digest the tag points at
 *     manifests/&lt;alg&gt;/&lt;hex&gt;           {@link ManifestMeta} as JSON (presence = manifest is in the repo)
 *     blobs/&lt;alg&gt;/&lt;hex&gt;               the blob's size (presence = blob is visible in the repo)
 * </pre>
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
    for (Path f : list(meta.resolve("tags"))) {
      if (isTemp(f)) {
        Files.deleteIfExists(f);
        continue;
      }
      Digest d = Digest.parse(Files.readString(f).trim());
      if (repo.manifests.containsKey(d)) {
        repo.tags.put(f.getFileName().toString(), d);
        repo.tagTimes.put(f.getFileName().toString(), Files.getLastModifiedTime(f).toMillis());
      }
    }
    repos.put(name.value(), repo);
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
    if (n == 0) {
      return new Page(List.of(), false);
    }
    NavigableMap<String, RepoState> tail = last == null ? repos : repos.tailMap(last, false);
    List<String> out = new ArrayList<>(Math.min(n, 1024));
    for (var e : tail.entrySet()) {
      if (e.getValue().isEmpty()) {
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

  private RepoState repoForWrite(RepositoryName name) {
    return repos.computeIfAbsent(name.value(), k -> new RepoState(name, repoDir(name).resolve("_meta")));
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
    RepoState r = repoForWrite(name);
    synchronized (r) {
      if (r.blobs.containsKey(digest)) {
        return;
      }
      Fs.writeAtomic(blobLink(r, digest), Long.toString(size).getBytes(StandardCharsets.US_ASCII));
      r.blobs.put(digest, new long[] {size, System.currentTimeMillis()});
    }
  }

  /** Hides a blob from a repository; returns whether it was linked. */
  public boolean unlinkBlob(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      if (!r.blobs.containsKey(digest)) {
        return false;
      }
      Fs.deleteDurably(blobLink(r, digest));
      r.blobs.remove(digest);
      return true;
    }
  }

  /**
   * Records a manifest (whose bytes are already durable in the blob store) and optionally points a
   * tag at it. The manifest file is written before the tag, so a tag never names a missing manifest.
   * {@code check} runs under the repository lock first (reference validation), so a concurrent
   * delete cannot slip between validation and write.
   */
  public void putManifest(RepositoryName name, ManifestMeta meta, Tag tag, Runnable check) {
    RepoState r = repoForWrite(name);
    synchronized (r) {
      check.run();
      if (!r.manifests.containsKey(meta.digest())) {
        try {
          Fs.writeAtomic(manifestFile(r, meta.digest()), JSON.writeValueAsBytes(meta));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        r.indexManifest(meta);
      }
      if (tag != null && !meta.digest().equals(r.tags.get(tag.value()))) {
        writeTag(r, tag.value(), meta.digest(), System.currentTimeMillis());
      }
    }
  }

  /**
   * Points a tag at a manifest already recorded here if the tag is missing or was last set before
   * {@code updatedMillis} (last writer wins, by the writing node's clock); the tag keeps that time.
   * Returns whether the tag changed.
   */
  public boolean importTag(RepositoryName name, Tag tag, Digest digest, long updatedMillis) {
    RepoState r = repoForWrite(name);
    synchronized (r) {
      if (!r.manifests.containsKey(digest)) {
        throw new IllegalStateException("manifest " + digest + " is not recorded in " + name);
      }
      Digest current = r.tags.get(tag.value());
      if (digest.equals(current) || (current != null && r.tagTimes.getOrDefault(tag.value(), 0L) >= updatedMillis)) {
        return false;
      }
      writeTag(r, tag.value(), digest, updatedMillis);
      return true;
    }
  }

  private void writeTag(RepoState r, String tag, Digest digest, long millis) {
    Path file = r.metaDir.resolve("tags").resolve(tag);
    Fs.writeAtomic(file, digest.toString().getBytes(StandardCharsets.US_ASCII));
    try {
      Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(millis));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    r.tags.put(tag, digest);
    r.tagTimes.put(tag, millis);
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
   * A cheap value that changes whenever the repository's tags, manifests or linked blobs change
   * (equal values mean "very likely unchanged"; replication uses it to skip repositories it already
   * copied).
   */
  public long fingerprint(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return 0;
    }
    return 31L * (31L * r.tags.hashCode() + r.manifests.keySet().hashCode()) + r.blobs.keySet().hashCode();
  }

  /**
   * Forgets a repository on this node: its metadata files go, durably, and it leaves the catalog.
   * Blob files stay for garbage collection (other repositories may share them). Used when a
   * repository has moved to other nodes.
   */
  public void dropRepository(RepositoryName name) {
    RepoState r = repo(name);
    if (r == null) {
      return;
    }
    synchronized (r) {
      try {
        Fs.deleteTreeDurably(r.metaDir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      repos.remove(name.value(), r);
    }
  }

  /** Removes a manifest and every tag pointing at it; returns whether it existed. */
  public boolean deleteManifest(RepositoryName name, Digest digest) {
    RepoState r = repo(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      ManifestMeta meta = r.manifests.get(digest);
      if (meta == null) {
        return false;
      }
      for (var e : List.copyOf(r.tags.entrySet())) {
        if (e.getValue().equals(digest)) {
          Fs.deleteDurably(r.metaDir.resolve("tags").resolve(e.getKey()));
          r.tags.remove(e.getKey());
          r.tagTimes.remove(e.getKey());
        }
      }
      Fs.deleteDurably(manifestFile(r, digest));
      r.unindexManifest(meta);
      return true;
    }
  }

  /** Removes one tag; returns whether it existed. */
  public boolean deleteTag(RepositoryName name, Tag tag) {
    RepoState r = repo(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      if (!r.tags.containsKey(tag.value())) {
        return false;
      }
      Fs.deleteDurably(r.metaDir.resolve("tags").resolve(tag.value()));
      r.tags.remove(tag.value());
      r.tagTimes.remove(tag.value());
      return true;
    }
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
}
