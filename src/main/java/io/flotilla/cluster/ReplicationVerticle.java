package io.flotilla.cluster;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.List;

/**
 * Serves this node's {@link Replicator} on the node-scoped replication addresses and runs its
 * {@link Rebalancer} on this verticle's context, from {@link #startRebalancing} on (once the node
 * serves: a node that is not serving yet is not an owner of anything and must not move data). Thin.
 */
public final class ReplicationVerticle extends VerticleBase {
  private final Replicator replicator;
  private final String nodeId;
  private final Rebalancer rebalancer;
  private final long rebalanceIntervalMillis;

  private final CatchUp catchUp;

  public ReplicationVerticle(Replicator replicator, String nodeId, Rebalancer rebalancer, CatchUp catchUp,
      long rebalanceIntervalMillis) {
    this.replicator = replicator;
    this.catchUp = catchUp;
    this.nodeId = nodeId;
    this.rebalancer = rebalancer;
    this.rebalanceIntervalMillis = rebalanceIntervalMillis;
  }

  @Override
  public Future<?> stop() {
    rebalancer.stop();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> start() {
    Replicator r = replicator;
    return Future.all(List.of(
        Bus.serve(vertx, Addresses.REPLICA_INVENTORY, nodeId, q -> Future.succeededFuture(r.inventory(q.repository()))),
        Bus.serve(vertx, Addresses.REPLICA_REFS, nodeId, q -> Future.succeededFuture(r.refStates(q.repository(), q.reference()))),
        Bus.serve(vertx, Addresses.REPLICA_SYNC, nodeId, q -> r.syncRepository(q.ctx(), q.repository(), q.source())),
        Bus.serve(vertx, Addresses.REPLICA_MANIFEST, nodeId,
            q -> r.pullManifest(q.ctx(), q.repository(), q.source(), q.digest(), q.tag(), q.createdMillis(),
                q.tagMillis(), q.tagReplaced())),
        Bus.serve(vertx, Addresses.REPLICA_DELETE, nodeId,
            q -> r.applyDelete(q.repository(), q.reference(), q.millis(), q.fresh(), q.owner(), q.checkOnly()).map(Messages.Deleted::new)),
        Bus.serve(vertx, Addresses.REPLICA_FINGERPRINTS, nodeId,
            // one database read per repository not in the cache: a worker's job, not an event loop's
            q -> vertx.executeBlocking(() -> new Messages.Fingerprints(r.fingerprints(q.repositories())), false)),
        Bus.serve(vertx, Addresses.REPLICA_CAUGHT_UP, nodeId, q -> {
          catchUp.heardFrom(q.from());
          return Future.succeededFuture(new Messages.Done());
        }),
        Bus.serve(vertx, Addresses.REPLICA_BLOB, nodeId,
            q -> r.pullBlob(q.ctx(), q.repository(), q.source(), q.digest(), q.size())),
        Bus.serve(vertx, Addresses.REPLICA_BLOB_BYTES, nodeId, q -> r.blobBytes(q.digest()))));
  }

  /** Starts the rebalancer on this verticle's context. */
  public void startRebalancing() {
    context.runOnContext(v -> rebalancer.start(rebalanceIntervalMillis));
  }
}
