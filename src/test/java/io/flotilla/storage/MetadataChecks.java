package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Consistency of a stopped (or killed) node's metadata database, key by key, as the next start will
 * see it (opening replays the write-ahead log): for the crash tests. Nothing may be half-visible:
 * every tag names a manifest of its repository, every manifest's bytes are in the blob store and
 * everything it references is linked (or, for an index, recorded) in its repository, the referrer
 * index matches the manifests' subjects, and each repository's summary counts what it holds and
 * carries the fingerprint of its entries.
 */
public final class MetadataChecks {
  private MetadataChecks() {}

  /** What {@link #verify} found: repository -> tag count, and the problems (none when consistent). */
  public record Report(Map<String, Integer> tags, int manifests, List<String> problems) {}

  /** Opens the data folder's metadata database (the node must not run), checks it and closes it. */
  public static Report verify(Path dataDir) throws IOException {
    List<String> problems = new ArrayList<>();
    Map<String, Integer> tags = new TreeMap<>();
    int manifests = 0;
    try (MetadataStore store = new MetadataStore(dataDir)) {
      store.load();
      MetaDb db = store.db();
      Set<String> referrerKeys = new HashSet<>();
      db.scan(new byte[] {'s', MetaKeys.SEP}, (k, v) -> referrerKeys.add(String.join("|", MetaKeys.fields(k))));
      for (RepositoryName name : store.repositories()) {
        RepoState r = store.repo(name);
        MetaValues.Summary s = MetaValues.summary(db.get(MetaKeys.summary(name)));
        String n = name.value();
        if (s.manifests() != r.manifests.size() || s.tags() != r.tags.size() || s.blobs() != r.blobs.size()
            || s.tombstones() != r.deletedTags.size() + r.deletedManifests.size()) {
          problems.add(n + ": summary " + s + " does not count what the repository holds");
        }
        if (s.fingerprint() != r.computeFingerprint()) {
          problems.add(n + ": summary fingerprint " + s.fingerprint() + " is not its entries' " + r.computeFingerprint());
        }
        r.tags.forEach((tag, d) -> {
          if (!r.manifests.containsKey(d)) {
            problems.add(n + ": tag " + tag + " points at missing manifest " + d);
          }
        });
        for (ManifestMeta m : r.manifests.values()) {
          manifests++;
          if (!Files.isRegularFile(blobFile(dataDir, m.digest()))) {
            problems.add(n + ": manifest " + m.digest() + " is recorded but its bytes are not in the blob store");
          }
          for (Digest ref : m.references()) {
            if (!r.blobs.containsKey(ref) && !r.manifests.containsKey(ref)) {
              problems.add(n + ": manifest " + m.digest() + " references " + ref + ", which is not linked here");
            } else if (r.blobs.containsKey(ref) && !Files.isRegularFile(blobFile(dataDir, ref))) {
              problems.add(n + ": blob " + ref + " is linked but not stored");
            }
          }
          if (m.subject() != null && !referrerKeys.remove(n + "|" + m.subject() + "|" + m.digest())) {
            problems.add(n + ": referrer " + m.digest() + " of " + m.subject() + " is not indexed");
          }
        }
        tags.put(n, r.tags.size());
      }
      referrerKeys.forEach(k -> problems.add("referrer index entry without its manifest: " + k));
    }
    return new Report(tags, manifests, problems);
  }

  /**
   * What a stopped node's database holds per repository, read key by key: {@code keys} counts every
   * key of each kind ({@code r} summary, {@code t} tag, {@code m} manifest, {@code b} blob link,
   * {@code x} tombstone, {@code s} referrer) by the repository it names, summary or not (so keys a
   * drop left behind show up too); {@code tags} and {@code manifests} are what the stored
   * repositories hold, as the node will load them (tag to digest, manifest digests).
   */
  public record Inventory(Map<String, Map<String, Integer>> keys, Map<String, Map<String, String>> tags,
      Map<String, Set<String>> manifests) {}

  /** Opens the data folder's metadata database (the node must not run), lists what it holds and closes it. */
  public static Inventory inventory(Path dataDir) throws IOException {
    Map<String, Map<String, Integer>> keys = new TreeMap<>();
    Map<String, Map<String, String>> tags = new TreeMap<>();
    Map<String, Set<String>> manifests = new TreeMap<>();
    try (MetadataStore store = new MetadataStore(dataDir)) {
      store.load();
      MetaDb db = store.db();
      for (String kind : List.of("r", "t", "m", "b", "x", "s")) {
        db.scan(new byte[] {(byte) kind.charAt(0), MetaKeys.SEP}, (k, v) -> {
          keys.computeIfAbsent(MetaKeys.fields(k)[0], n -> new TreeMap<>()).merge(kind, 1, Integer::sum);
          return true;
        });
      }
      for (RepositoryName name : store.repositories()) {
        RepoState r = store.repo(name);
        if (r == null) {
          continue;
        }
        Map<String, String> t = new TreeMap<>();
        r.tags.forEach((tag, d) -> t.put(tag, d.toString()));
        tags.put(name.value(), t);
        Set<String> m = new java.util.TreeSet<>();
        r.manifests.keySet().forEach(d -> m.add(d.toString()));
        manifests.put(name.value(), m);
      }
    }
    return new Inventory(keys, tags, manifests);
  }

  private static Path blobFile(Path dataDir, Digest d) {
    return dataDir.resolve("blobs").resolve(d.algorithm().id()).resolve(d.hex().substring(0, 2)).resolve(d.hex());
  }
}
