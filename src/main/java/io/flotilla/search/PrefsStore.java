package io.flotilla.search;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.search.PrefToggles.Kind;
import io.flotilla.storage.Fs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * This node's copy of every user's stars and bookmarks (zot's user preferences): all of them in
 * memory, so what search reads ({@link #starred}, {@link #bookmarked}, {@link #stars}) is a map
 * lookup; every change is saved before the method that made it returns. Thread-safe: reads are
 * lock-free, changes are serialised.
 *
 * <p><b>Records.</b> The state is a set of {@link Pref}s, one per (user, repository, kind): whether
 * it is set, and when and on which node that was decided. Of two records of one key the later
 * (time, then node name, then set over unset) wins, a total order, so merging sets in any order,
 * any number of times, gives every node the same state. A toggle writes a record later than the one
 * it flips (this node's clock, or one millisecond after the record when that is ahead), so a toggle
 * always flips what this node shows. Unset records stay (they are what keeps a stale "set" from
 * coming back): a few dozen bytes per key ever toggled.
 *
 * <p><b>On disk.</b> One JSON file, {@code <dataDir>/_search/userprefs.json}, replaced atomically and
 * durably on every change ({@link Fs#writeAtomic}: temp file, fsync, rename, fsync of the folder),
 * as {@code auth.ApiKeyFile} does for API keys: a crash leaves the old set or the new one.
 *
 * <pre>{"version":1,"savedMillis":..,"prefs":[{"user":..,"repository":..,"kind":"STAR","on":true,
 *   "millis":..,"node":..}]}</pre>
 *
 * <p>Blocking: {@link #open}, {@link #toggle} and {@link #merge} write the file; call them from
 * worker threads. The others are safe on an event loop.
 */
public final class PrefsStore implements UserPrefs {
  static final int VERSION = 1;
  private static final int MAX_USER = 256;
  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * One decision: {@code user}'s {@code kind} on {@code repository} is {@code on} since
   * {@code millis} (epoch), decided on {@code node}.
   */
  public record Pref(String user, String repository, Kind kind, boolean on, long millis, String node) {}

  /** The file's content. */
  record Content(int version, long savedMillis, List<Pref> prefs) {
    Content {
      prefs = List.copyOf(prefs == null ? List.of() : prefs);
    }
  }

  private record Key(String user, String repository, Kind kind) {}

  private final Path file;
  private final String nodeId;
  private final LongSupplier clock;
  private final Map<Key, Pref> prefs = new ConcurrentHashMap<>();
  private final Map<String, Integer> stars = new ConcurrentHashMap<>();
  private final Object lock = new Object();

  private PrefsStore(Path dataDir, String nodeId, LongSupplier clock) {
    this.file = dataDir.resolve("_search").resolve("userprefs.json");
    this.nodeId = nodeId;
    this.clock = clock;
  }

  /** Loads {@code <dataDir>/_search/userprefs.json} (none yet: nothing set). Blocking. */
  public static PrefsStore open(Path dataDir, String nodeId) {
    return open(dataDir, nodeId, System::currentTimeMillis);
  }

  /** {@link #open(Path, String)} with a clock (epoch milliseconds), for tests. */
  public static PrefsStore open(Path dataDir, String nodeId, LongSupplier clock) {
    PrefsStore s = new PrefsStore(dataDir, nodeId, clock);
    try {
      Content c = JSON.readValue(Files.readAllBytes(s.file), Content.class);
      if (c.version() != VERSION) {
        throw new IOException("unsupported version " + c.version());
      }
      for (Pref p : c.prefs()) {
        if (wellFormed(p)) {
          s.apply(s.prefs.get(key(p)), p);
        }
      }
    } catch (NoSuchFileException e) {
      // no preferences yet
    } catch (IOException e) {
      throw new UncheckedIOException("read " + s.file, e);
    }
    return s;
  }

  @Override
  public boolean starred(String user, String repository) {
    return isOn(user, repository, Kind.STAR);
  }

  @Override
  public boolean bookmarked(String user, String repository) {
    return isOn(user, repository, Kind.BOOKMARK);
  }

  @Override
  public int stars(String repository) {
    return repository == null ? 0 : stars.getOrDefault(repository, 0);
  }

  private boolean isOn(String user, String repository, Kind kind) {
    Pref p = user == null || repository == null ? null : prefs.get(new Key(user, repository, kind));
    return p != null && p.on();
  }

  /**
   * Flips {@code user}'s {@code kind} on {@code repository} and saves it. Blocking.
   *
   * @return the new record (to pass on to the other nodes)
   * @throws IllegalArgumentException for an empty user or an invalid repository name
   * @throws UncheckedIOException when it could not be saved (then nothing changed)
   */
  public Pref toggle(String user, String repository, Kind kind) {
    if (user == null || user.isEmpty() || user.length() > MAX_USER || kind == null) {
      throw new IllegalArgumentException("not a valid user or kind");
    }
    if (!validRepository(repository)) {
      throw new IllegalArgumentException("not a valid repository name: " + repository);
    }
    synchronized (lock) {
      Key k = new Key(user, repository, kind);
      Pref current = prefs.get(k);
      long now = clock.getAsLong();
      long millis = current == null ? now : Math.max(now, current.millis() + 1);
      Pref next = new Pref(user, repository, kind, current == null || !current.on(), millis, nodeId);
      apply(current, next);
      try {
        save(now);
      } catch (RuntimeException e) {
        apply(next, current); // a failed save leaves nothing changed
        throw e;
      }
      return next;
    }
  }

  /**
   * Merges records from a peer: for each key the later record wins; malformed records are ignored.
   * Blocking when something changed (saves the file).
   *
   * @return whether this node's state changed
   */
  public boolean merge(Collection<Pref> incoming) {
    synchronized (lock) {
      boolean changed = false;
      for (Pref in : incoming) {
        if (!wellFormed(in)) {
          continue;
        }
        Pref mine = prefs.get(key(in));
        if (mine == null || later(in, mine)) {
          apply(mine, in);
          changed = true;
        }
      }
      if (changed) {
        save(clock.getAsLong());
      }
      return changed;
    }
  }

  /** Every record this node holds (what it offers its peers). */
  public List<Pref> snapshot() {
    return List.copyOf(prefs.values());
  }

  /** Whether {@code a} wins over {@code b}, a record of the same key: later time, then node name, then set. */
  static boolean later(Pref a, Pref b) {
    if (a.millis() != b.millis()) {
      return a.millis() > b.millis();
    }
    int byNode = a.node().compareTo(b.node());
    if (byNode != 0) {
      return byNode > 0;
    }
    return a.on() && !b.on();
  }

  /** Replaces {@code old} (null: none) by {@code next} (null: none) and keeps the star counts. Under the lock. */
  private void apply(Pref old, Pref next) {
    Pref any = next != null ? next : old;
    if (any == null) {
      return;
    }
    if (next == null) {
      prefs.remove(key(old));
    } else {
      prefs.put(key(next), next);
    }
    if (any.kind() == Kind.STAR) {
      int delta = (next != null && next.on() ? 1 : 0) - (old != null && old.on() ? 1 : 0);
      if (delta != 0) {
        stars.compute(any.repository(), (r, n) -> {
          int v = (n == null ? 0 : n) + delta;
          return v <= 0 ? null : v;
        });
      }
    }
  }

  private void save(long now) {
    try {
      Fs.writeAtomic(file, JSON.writeValueAsBytes(new Content(VERSION, now, List.copyOf(prefs.values()))));
    } catch (IOException e) {
      throw new UncheckedIOException("encode " + file, e);
    }
  }

  private static Key key(Pref p) {
    return new Key(p.user(), p.repository(), p.kind());
  }

  private static boolean wellFormed(Pref p) {
    return p != null && p.user() != null && !p.user().isEmpty() && p.user().length() <= MAX_USER
        && p.kind() != null && p.node() != null && !p.node().isEmpty() && p.millis() > 0
        && validRepository(p.repository());
  }

  private static boolean validRepository(String repository) {
    if (repository == null) {
      return false;
    }
    try {
      return RepositoryName.of(repository).value().equals(repository);
    } catch (OciException e) {
      return false;
    }
  }
}
