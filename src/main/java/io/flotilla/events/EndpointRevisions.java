package io.flotilla.events;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Revisions of the API-managed webhook endpoints, so that changes made on different nodes end the
 * same on every node (last writer wins, per endpoint).
 *
 * <p>A revision is a Lamport clock seeded with wall-clock milliseconds: a node gives a change
 * {@code max(now, highest revision it has seen + 1)}, so a change made after another one was seen
 * always has the higher revision, and a node that (re)starts does not start again at 0. A change
 * applies only when it is newer than what the node holds for that name: the endpoint's revision or,
 * for a name deleted since this node started, the delete's revision (an in-memory tombstone). Equal
 * revisions (two nodes changing one endpoint in the same millisecond) are ordered by content so
 * every node picks the same winner: a delete beats a put, and of two puts the one whose JSON sorts
 * last wins. An endpoint this node holds without a revision (from the configuration file) loses to
 * any change.
 *
 * <p>{@link #next} and {@link #seen} are thread-safe; the rest is confined to the {@link Webhooks}
 * context.
 */
final class EndpointRevisions {
  private final AtomicLong clock = new AtomicLong();
  private final Map<String, Long> held = new HashMap<>();
  private final Map<String, Long> deleted = new HashMap<>();

  /** The revision of a change made on this node now. */
  long next() {
    return clock.updateAndGet(c -> Math.max(c + 1, System.currentTimeMillis()));
  }

  /** A revision made elsewhere: later local changes get a higher one. */
  void seen(long revision) {
    clock.accumulateAndGet(revision, Math::max);
  }

  /**
   * Whether a put of an endpoint wins over what this node holds.
   *
   * @param json the put endpoint's JSON (with secret)
   * @param heldJson the held endpoint's JSON (with secret), null when this node has none
   */
  boolean putWins(String name, long revision, String json, String heldJson) {
    seen(revision);
    Long tombstone = deleted.get(name);
    if (tombstone != null && revision <= tombstone) {
      return false;
    }
    Long current = held.get(name);
    if (current == null) {
      return true;
    }
    return revision > current || (revision == current && heldJson != null && json.compareTo(heldJson) > 0);
  }

  /** Whether a delete wins over what this node holds. */
  boolean deleteWins(String name, long revision) {
    seen(revision);
    Long current = held.get(name);
    return current == null || revision >= current;
  }

  /** This node now holds the endpoint at {@code revision}. */
  void put(String name, long revision) {
    seen(revision);
    deleted.remove(name);
    held.put(name, revision);
  }

  /** This node deleted the endpoint at {@code revision}: older puts of it will lose. */
  void delete(String name, long revision) {
    seen(revision);
    held.remove(name);
    deleted.merge(name, revision, Math::max);
  }

  /** The held revision, or -1 when the name is not API-managed here. */
  long of(String name) {
    return held.getOrDefault(name, -1L);
  }

  /** The API-managed names this node holds. */
  Set<String> names() {
    return Set.copyOf(held.keySet());
  }
}
