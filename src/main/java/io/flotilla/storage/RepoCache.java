package io.flotilla.storage;

import io.flotilla.oci.RepositoryName;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A bounded cache of {@link RepoState}s, least recently used first out. Its bound is a weight: one
 * per tag, manifest, blob link and tombstone held, plus one per repository, so heap use follows
 * what is in use rather than what is stored. The bound is soft: a repository in use (locked by a
 * writer) is not evicted, and one repository larger than the bound is still held while it is used.
 *
 * <p>A repository is loaded whole, on first use, through {@code ConcurrentHashMap.computeIfAbsent},
 * so two loads of one repository never race. Writers hold a state's lock while they commit; eviction
 * only takes states whose lock it gets at once and marks them {@link RepoState#retired}, so a
 * writer either finished before (and the next load reads its commit) or sees the mark and starts
 * over on a fresh load. Readers holding an evicted state still read a consistent, committed copy.
 */
final class RepoCache {
  private final ConcurrentHashMap<String, RepoState> states = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<RepoState, Long> weights = new ConcurrentHashMap<>();
  private final AtomicLong weight = new AtomicLong();
  private final AtomicBoolean evicting = new AtomicBoolean();
  private final AtomicLong evictions = new AtomicLong();
  private final long maxWeight;
  /** Loads a stored repository, or null when the database does not hold it. */
  private final Function<RepositoryName, RepoState> loader;

  RepoCache(long maxWeight, Function<RepositoryName, RepoState> loader) {
    this.maxWeight = maxWeight;
    this.loader = loader;
  }

  /** The repository's state, loaded if needed; null when it is not stored. */
  RepoState get(RepositoryName name) {
    RepoState s = states.get(name.value());
    if (s == null) {
      s = states.computeIfAbsent(name.value(), k -> counted(loader.apply(name)));
      if (s == null) {
        return null;
      }
      evictIfOver(s);
    }
    touch(s);
    return s;
  }

  /** The repository's state if it is held now (no load, no use recorded), else null. */
  RepoState cached(RepositoryName name) {
    return cached(name.value());
  }

  /** {@link #cached(RepositoryName)} by the name's string (already validated by the caller). */
  RepoState cached(String name) {
    return states.get(name);
  }

  /** The repository's state, or a new empty one (not stored yet) when the database does not hold it. */
  RepoState getOrCreate(RepositoryName name) {
    RepoState s = states.get(name.value());
    if (s == null) {
      s = states.computeIfAbsent(name.value(), k -> {
        RepoState loaded = loader.apply(name);
        return counted(loaded != null ? loaded : new RepoState(name));
      });
      evictIfOver(s);
    }
    touch(s);
    return s;
  }

  /** Records a use; at most about once a millisecond per state (a shared write on every read would cost). */
  private static void touch(RepoState s) {
    long now = System.nanoTime();
    if (now - s.lastUsed > 1_000_000) {
      s.lastUsed = now;
    }
  }

  private RepoState counted(RepoState s) {
    if (s != null) {
      long w = s.weight();
      weights.put(s, w);
      weight.addAndGet(w);
    }
    return s;
  }

  /** Takes a state out (dropped, or never stored); call under its lock. */
  void remove(RepoState s) {
    s.retired = true;
    if (states.remove(s.name.value(), s)) {
      Long w = weights.remove(s);
      if (w != null) {
        weight.addAndGet(-w);
      }
    }
  }

  /** Counts a state's new size after a commit; call under its lock. */
  void reweigh(RepoState s) {
    long w = s.weight();
    Long before = weights.replace(s, w);
    if (before != null) {
      weight.addAndGet(w - before);
      evictIfOver(s);
    }
  }

  private void evictIfOver(RepoState keep) {
    if (weight.get() <= maxWeight || !evicting.compareAndSet(false, true)) {
      return;
    }
    try {
      long target = maxWeight - maxWeight / 10;
      // the use times are read once: they may change while we sort
      record Use(RepoState state, long at) {}
      List<Use> candidates = new ArrayList<>();
      for (RepoState s : states.values()) {
        candidates.add(new Use(s, s.lastUsed));
      }
      candidates.sort(Comparator.comparingLong(Use::at));
      for (Use u : candidates) {
        RepoState s = u.state();
        if (weight.get() <= target) {
          break;
        }
        if (s == keep || !s.lock.tryLock()) {
          continue;
        }
        try {
          if (!s.retired) {
            remove(s);
            evictions.incrementAndGet();
          }
        } finally {
          s.lock.unlock();
        }
      }
    } finally {
      evicting.set(false);
    }
  }

  /** The states held now (a snapshot). */
  List<RepoState> cached() {
    return List.copyOf(states.values());
  }

  long weight() {
    return weight.get();
  }

  long maxWeight() {
    return maxWeight;
  }

  long evictions() {
    return evictions.get();
  }
}
