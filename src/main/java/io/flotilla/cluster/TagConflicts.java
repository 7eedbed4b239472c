package io.flotilla.cluster;

import io.flotilla.oci.Digest;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.RequestContext;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reports a tag conflict found while copies merge: two writes of one tag that did not see each other
 * (the halves of a split cluster each took a push), resolved by last writer wins (ties: the greater
 * digest). The losing value was acknowledged to its client, so it must not vanish without a word: a
 * warning in the log, a {@code conflict} event (target: the repository, the tag, the manifest the tag
 * no longer names as {@code digest}, which stays stored and pullable by digest, and the one it names
 * now in {@code references}), and the {@code flotilla_tag_conflicts_total} counter. Each copy that
 * overwrites a value reports it, so a conflict is reported once per owner that held the losing value.
 */
public final class TagConflicts {
  private static final System.Logger LOG = System.getLogger(TagConflicts.class.getName());

  private final EventSink events;
  private final String localNode;
  private final AtomicLong count = new AtomicLong();

  public TagConflicts(EventSink events, String localNode) {
    this.events = events;
    this.localNode = localNode;
  }

  /** Conflicts this node resolved since start. */
  public long count() {
    return count.get();
  }

  /**
   * Reports that {@code tag} named {@code lost} here (set at {@code lostMillis}), which the writer of
   * {@code winner} (set at {@code winnerMillis}, copied from {@code source}) had not seen.
   */
  public void report(String repository, String tag, Digest lost, long lostMillis, String winner, long winnerMillis,
      String source) {
    count.incrementAndGet();
    LOG.log(System.Logger.Level.WARNING, "tag conflict in " + repository + ": " + tag + " named " + lost + " (set "
        + Instant.ofEpochMilli(lostMillis) + ") on this node, but " + winner + " (set " + Instant.ofEpochMilli(winnerMillis)
        + ", copied from " + source + ") was written without seeing it; the later write wins, so " + tag + " now names "
        + winner + " and " + lost + " stays pullable by digest");
    RequestContext ctx = RequestContext.reported("conflict-" + repository + ":" + tag + "@" + winnerMillis, localNode);
    events.record(ctx, new EventSink.Operation("conflict", repository, lost.toString(), null, -1, tag, null,
        List.of(winner))).onFailure(err -> LOG.log(System.Logger.Level.WARNING, "the conflict event of " + repository
            + ":" + tag + " was not recorded: " + err.getMessage()));
  }
}
