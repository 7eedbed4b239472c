package io.flotilla.search;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.ManifestMeta;
import io.flotilla.storage.MetadataStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The search index of one node: a {@link RepoIndex} per repository held here. Built from the
 * metadata store at start ({@link #rebuild}); each committed change to a repository (a push, a
 * delete, a replica copied in, a repository dropped after it moved) discards that repository's
 * entry, which the next query rebuilds. Blocking: call from worker threads.
 */
public final class SearchIndex {
  private final MetadataStore metadata;
  private final BlobStore blobs;
  private final Set<String> names = new ConcurrentSkipListSet<>();
  private final Map<String, RepoIndex> entries = new ConcurrentHashMap<>();
  /** Changes seen per repository: an entry built while one happened is not kept. */
  private final Map<String, Long> generations = new ConcurrentHashMap<>();
  /** Repositories changed since their entry was last built: {@link #refresh} builds them ahead of queries. */
  private final Set<String> stale = ConcurrentHashMap.newKeySet();

  public SearchIndex(MetadataStore metadata, BlobStore blobs) {
    this.metadata = metadata;
    this.blobs = blobs;
    metadata.onChange(this::changed);
  }

  private void changed(String repository) {
    generations.merge(repository, 1L, Long::sum);
    entries.remove(repository);
    names.add(repository);
    stale.add(repository);
  }

  /**
   * Builds the entries of the repositories that changed since the last call (at most {@code max}),
   * so that queries after a burst of pushes find them built; returns how many were built. A query
   * that comes first builds the entry itself.
   */
  public int refresh(int max) {
    int built = 0;
    for (java.util.Iterator<String> it = stale.iterator(); it.hasNext() && built < max; ) {
      String name = it.next();
      it.remove();
      if (!entries.containsKey(name)) {
        get(name);
        built++;
      }
    }
    return built;
  }

  /** Whether some changed repository waits for {@link #refresh}. */
  public boolean hasStale() {
    return !stale.isEmpty();
  }

  /** Indexes every repository held here; returns how many have images. */
  public int rebuild() {
    int listed = 0;
    for (RepositoryName name : metadata.repositories()) {
      names.add(name.value());
      RepoIndex r = get(name.value());
      if (r != null && r.repo() != null) {
        listed++;
      }
    }
    return listed;
  }

  /** Names of the repositories held here (some may have just been dropped: {@link #get} then answers null). */
  public Set<String> names() {
    return names;
  }

  /** The index of a repository held here, built if needed; null when it is not held here. */
  public RepoIndex get(String repository) {
    RepoIndex cached = entries.get(repository);
    if (cached != null) {
      return cached;
    }
    long generation = generations.getOrDefault(repository, 0L);
    RepositoryName name;
    try {
      name = RepositoryName.of(repository);
    } catch (RuntimeException e) {
      names.remove(repository);
      return null;
    }
    if (!metadata.holds(name)) {
      names.remove(repository);
      if (metadata.holds(name)) { // re-created meanwhile
        names.add(repository);
      }
      return null;
    }
    RepoIndex built;
    try {
      built = RepoIndexBuilder.build(repository, metadata.version(name), content(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    entries.put(repository, built);
    if (generations.getOrDefault(repository, 0L) != generation) {
      entries.remove(repository, built); // changed while it was built: the next query builds it again
    }
    return built;
  }

  private RepoIndexBuilder.Content content(RepositoryName name) {
    return new RepoIndexBuilder.Content() {
      @Override
      public Map<String, Map.Entry<Digest, Long>> tags() {
        return metadata.tagEntries(name);
      }

      @Override
      public Map<Digest, ManifestMeta> manifests() {
        return metadata.manifests(name);
      }

      @Override
      public List<ManifestMeta> referrers(Digest digest) {
        return metadata.referrers(name, digest);
      }

      @Override
      public byte[] read(Digest digest) throws IOException {
        try {
          return blobs.read(digest);
        } catch (NoSuchFileException e) {
          return null;
        }
      }
    };
  }
}
