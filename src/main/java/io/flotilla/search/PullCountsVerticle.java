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
 * Feeds a node's {@link PullCounts} from the cluster's events: an in-cluster consumer of the events
 * address (subscribed at start and renewed every {@link #RENEW_MILLIS}), its table saved to
 * {@code file} every {@link #SAVE_MILLIS} when it changed and at stop (atomic replace with fsync, on
 * a worker thread), loaded at start and then merged with every peer's table
 * ({@link Addresses#SEARCH_PULLS_GET}), so a node that was down gets the pulls it missed.
 *
 * <p>Batches are parsed and counted on a worker thread, in arrival order. A failed save is logged
 * and retried at the next tick; an unreadable file is logged and the node starts from its peers'
 * tables; a peer that does not answer within the address' timeout is skipped.
 */
public final class PullCountsVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(PullCountsVerticle.class.getName());
  /** How often the subscription is renewed (the events pipeline wants at least every 10 s). */
  static final long RENEW_MILLIS = 5_000;
  /** How often the table is saved when it changed. */
  static final long SAVE_MILLIS = 5_000;

  private final String nodeId;
  private final PullCounts counts;
  private final Path file;
  private final Membership membership;
  private final String eventsAddress;
  private final String subscribeAddress;
  private long renewTimer = -1;
  private long saveTimer = -1;

  /**
   * @param eventsAddress where event batches are published ({@code events.EventHub.ADDRESS})
   * @param subscribeAddress where consumers subscribe ({@code events.EventHub.SUBSCRIBE_ADDRESS})
   */
  public PullCountsVerticle(String nodeId, PullCounts counts, Path file, Membership membership,
      String eventsAddress, String subscribeAddress) {
    this.nodeId = nodeId;
    this.counts = counts;
    this.file = file;
    this.membership = membership;
    this.eventsAddress = eventsAddress;
    this.subscribeAddress = subscribeAddress;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(this::load, false)
        .compose(v -> Bus.serve(vertx, Addresses.SEARCH_PULLS_GET, nodeId,
            q -> vertx.executeBlocking(() -> new PullCountTable(counts.encode()), false)))
        .compose(v -> vertx.eventBus().<String>consumer(eventsAddress, this::batch).completion())
        .compose(v -> {
          subscribe();
          renewTimer = vertx.setPeriodic(RENEW_MILLIS, t -> subscribe());
          saveTimer = vertx.setPeriodic(SAVE_MILLIS, t -> save());
          return catchUp();
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(renewTimer);
    vertx.cancelTimer(saveTimer);
    return save();
  }

  private void subscribe() {
    vertx.eventBus().publish(subscribeAddress, "pull-counts@" + nodeId);
  }

  private void batch(Message<String> msg) {
    String node = msg.headers().get("node");
    long first;
    long last;
    try {
      first = Long.parseLong(msg.headers().get("firstSeq"));
      last = Long.parseLong(msg.headers().get("lastSeq"));
    } catch (RuntimeException e) {
      return; // not a batch of the events pipeline
    }
    if (node == null) {
      return;
    }
    String body = msg.body();
    vertx.executeBlocking(() -> counts.accept(node, first, last, body), true)
        .onFailure(e -> LOG.log(System.Logger.Level.WARNING, "counting pulls of a batch from " + node + " failed", e));
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
