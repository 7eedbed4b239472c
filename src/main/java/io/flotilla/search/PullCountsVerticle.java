package io.flotilla.search;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.GetPullCounts;
import io.flotilla.bus.Messages.PullCountTable;
import io.flotilla.cluster.Membership;
import io.flotilla.storage.Fs;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps a node's {@link PullCounts} the same as its peers': every {@link #PUBLISH_MILLIS} the
 * entries of this node's column that changed are published to every member
 * ({@link Addresses#SEARCH_PULLS_DELTA}), and deltas from the others are merged in; the table is
 * saved to {@code file} every {@link #SAVE_MILLIS} when it changed and at stop (atomic replace with
 * fsync, on a worker thread), loaded at start and then merged with every peer's table
 * ({@link Addresses#SEARCH_PULLS_GET}), so a node that was down gets the pulls it missed.
 *
 * <p>A failed save is logged and retried at the next tick; an unreadable file is logged and the
 * node starts from its peers' tables; a peer that does not answer within the address' timeout is
 * skipped. Pulls cost the serving node a map update (the tap): nothing travels per pull.
 */
public final class PullCountsVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(PullCountsVerticle.class.getName());
  /** How often this node's changed counts are published to the others. */
  static final long PUBLISH_MILLIS = 2_000;
  /** How often the table is saved when it changed. */
  static final long SAVE_MILLIS = 5_000;

  private final String nodeId;
  private final PullCounts counts;
  private final Path file;
  private final Membership membership;
  private long publishTimer = -1;
  private long saveTimer = -1;

  public PullCountsVerticle(String nodeId, PullCounts counts, Path file, Membership membership) {
    this.nodeId = nodeId;
    this.counts = counts;
    this.file = file;
    this.membership = membership;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(this::load, false)
        .compose(v -> Bus.serve(vertx, Addresses.SEARCH_PULLS_GET, nodeId,
            q -> vertx.executeBlocking(() -> new PullCountTable(counts.encode()), false)))
        .compose(v -> vertx.eventBus().<PullCountTable>consumer(Addresses.SEARCH_PULLS_DELTA, this::delta).completion())
        .compose(v -> {
          publishTimer = vertx.setPeriodic(PUBLISH_MILLIS, t -> publish());
          saveTimer = vertx.setPeriodic(SAVE_MILLIS, t -> save());
          return catchUp();
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(publishTimer);
    vertx.cancelTimer(saveTimer);
    publish();
    return save();
  }

  /** Publishes this node's changed counts to every member (deltas are whole values: repeats are harmless). */
  private void publish() {
    byte[] delta = counts.encodeChanged();
    if (delta != null) {
      vertx.eventBus().publish(Addresses.SEARCH_PULLS_DELTA, new PullCountTable(delta),
          new io.vertx.core.eventbus.DeliveryOptions().addHeader("node", nodeId));
    }
  }

  private void delta(Message<PullCountTable> msg) {
    if (nodeId.equals(msg.headers().get("node"))) {
      return; // this node's own column
    }
    byte[] table = msg.body().table();
    vertx.executeBlocking(() -> {
      counts.merge(table);
      return null;
    }, true).onFailure(e -> LOG.log(System.Logger.Level.WARNING, "merging pull counts from "
        + msg.headers().get("node") + " failed", e));
  }

  private Void load() {
    if (!Files.exists(file)) {
      return null;
    }
    try {
      counts.load(Files.readAllBytes(file));
      LOG.log(System.Logger.Level.INFO, "pull counts loaded: {0} manifests", counts.size());
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "pull counts in " + file + " are unreadable; starting from the peers' tables", e);
    }
    return null;
  }

  /** Saves the table if it changed; on a worker thread, one save at a time. */
  private Future<Void> save() {
    if (!counts.dirty()) {
      return Future.succeededFuture();
    }
    return vertx.<Void>executeBlocking(() -> {
      counts.clean();
      try {
        Fs.writeAtomic(file, counts.encode());
      } catch (RuntimeException e) {
        counts.markDirty(); // the next tick retries
        throw e;
      }
      return null;
    }, true).onFailure(e -> LOG.log(System.Logger.Level.WARNING, "saving pull counts to " + file + " failed", e));
  }

  /** Merges every peer's table (pulls this node missed while it was down); never fails. */
  private Future<Void> catchUp() {
    List<Future<PullCountTable>> calls = new ArrayList<>();
    for (String peer : membership.current().nodeNames()) {
      if (!peer.equals(nodeId)) {
        calls.add(Bus.request(vertx, Addresses.SEARCH_PULLS_GET, peer, false, new GetPullCounts(nodeId))
            .onFailure(e -> LOG.log(System.Logger.Level.INFO, "no pull counts from " + peer + ": " + e.getMessage())));
      }
    }
    return Future.join(calls).otherwiseEmpty().compose(v -> vertx.executeBlocking(() -> {
      int merged = 0;
      for (Future<PullCountTable> call : calls) {
        if (call.succeeded()) {
          try {
            counts.merge(call.result().table());
            merged++;
          } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "a peer's pull counts are unreadable: " + e.getMessage());
          }
        }
      }
      LOG.log(System.Logger.Level.INFO, "pull counts: merged the tables of {0} of {1} peers, {2} manifests",
          merged, calls.size(), counts.size());
      return null;
    }, false)).<Void>mapEmpty().otherwiseEmpty();
  }
}
