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
  private final Map<String, Unfinished> unfinished = new java.util.concurrent.ConcurrentHashMap<>();

  /** A task that is waiting or running: where, and for which repository. */
  public record Unfinished(String id, String node, String repository) {}

  public ContentIndex(ContentStore store) {
    this.store = store;
    rebuild();
    for (ContentRecord r : store.list(Task.KIND)) {
      task(r);
    }
    store.listen(r -> {
      if (r.kind().equals(Task.KIND)) {
        task(r);
        return;
      }
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

  /** The tasks that are waiting or running, by id (kept as task records change, one record at a time). */
  public java.util.Collection<Unfinished> unfinished() {
    return java.util.List.copyOf(unfinished.values());
  }

  /** Whether a task of {@code repository} is waiting or running anywhere. */
  public boolean busy(String repository) {
    return unfinished.values().stream().anyMatch(u -> u.repository().equals(repository));
  }

  /** Re-reads the task's current record (listeners may hear two changes of one task out of order). */
  private void task(ContentRecord changed) {
    java.util.Optional<ContentRecord> r = store.get(Task.KIND, changed.key());
    if (r.isEmpty()) {
      unfinished.remove(changed.key());
      return;
    }
    Task t = ContentJson.read(r.get().body(), Task.class);
    if (t.finalState()) {
      unfinished.remove(t.id());
    } else {
      unfinished.put(t.id(), new Unfinished(t.id(), t.node(), t.repository()));
    }
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
