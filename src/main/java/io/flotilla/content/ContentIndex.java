package io.flotilla.content;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the registry's request paths ask of the content objects on every request, kept as immutable
 * maps rebuilt when a record of their kind changes: the distribution of each base path, the settings
 * of each managed repository, and the remote of each repository served on demand. Lookups are one map
 * read, safe on an event loop; a registry without content objects pays only an empty-map check.
 */
public final class ContentIndex {
  private final ContentStore store;
  private volatile Map<String, Distribution> byBasePath = Map.of();
  private volatile Map<String, RepoSettings> managed = Map.of();
  private volatile Map<String, Remote> onDemand = Map.of();

  public ContentIndex(ContentStore store) {
    this.store = store;
    rebuild();
    store.listen(r -> {
      if (r.kind().equals(Distribution.KIND) || r.kind().equals(RepoSettings.KIND) || r.kind().equals(Remote.KIND)) {
        rebuild();
      }
    });
  }

  /** The distribution whose base path is {@code name}. */
  public Optional<Distribution> distribution(String name) {
    Map<String, Distribution> m = byBasePath;
    return m.isEmpty() ? Optional.empty() : Optional.ofNullable(m.get(name));
  }

  /** The settings of {@code repository} when it is managed (has settings). */
  public Optional<RepoSettings> managed(String repository) {
    Map<String, RepoSettings> m = managed;
    return m.isEmpty() ? Optional.empty() : Optional.ofNullable(m.get(repository));
  }

  /** The onDemand remote {@code repository} is served from. */
  public Optional<Remote> onDemand(String repository) {
    Map<String, Remote> m = onDemand;
    return m.isEmpty() ? Optional.empty() : Optional.ofNullable(m.get(repository));
  }

  private synchronized void rebuild() {
    Map<String, Distribution> dists = new HashMap<>();
    for (ContentRecord r : store.list(Distribution.KIND)) {
      Distribution d = ContentJson.read(r.body(), Distribution.class);
      dists.put(d.basePath(), d);
    }
    Map<String, Remote> remotes = new HashMap<>();
    for (ContentRecord r : store.list(Remote.KIND)) {
      Remote remote = ContentJson.read(r.body(), Remote.class);
      remotes.put(remote.name(), remote);
    }
    Map<String, RepoSettings> settings = new HashMap<>();
    Map<String, Remote> lazy = new HashMap<>();
    for (ContentRecord r : store.list(RepoSettings.KIND)) {
      RepoSettings s = ContentJson.read(r.body(), RepoSettings.class);
      settings.put(s.name(), s);
      Remote remote = s.remote() == null ? null : remotes.get(s.remote());
      if (remote != null && remote.onDemand()) {
        lazy.put(s.name(), remote);
      }
    }
    byBasePath = Map.copyOf(dists);
    managed = Map.copyOf(settings);
    onDemand = Map.copyOf(lazy);
  }
}
