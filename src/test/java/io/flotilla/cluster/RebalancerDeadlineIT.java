package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.RecordCodec;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.MetadataStore;
import io.flotilla.storage.ReplicaStore;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hand-off holds {@code cluster.handoffTimeout} whatever the pass is doing: here the only other
 * owner takes the repository sync request and never answers (as a peer that died mid-copy would,
 * until the 30 min bus timeout), and {@link Rebalancer#settle} must still complete, with false, at
 * its deadline.
 */
class RebalancerDeadlineIT {
  private final LocalHazelcast hazelcast = new LocalHazelcast(2);
  private Vertx vertx;
  private Membership m1;
  private Membership m2;

  @BeforeAll
  static void quietHazelcast() {
    Logger.getLogger("com.hazelcast").setLevel(Level.WARNING);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (m1 != null) {
      m1.close();
    }
    if (m2 != null) {
      m2.close();
    }
    if (vertx != null) {
      vertx.close().await(20, TimeUnit.SECONDS);
    }
    hazelcast.close();
  }

  @Test
  void settleCompletesFalseAtTheDeadlineWhileAPassIsStuck(@TempDir Path dir) throws Exception {
    var hz1 = hazelcast.start(1);
    m1 = Membership.start(hz1);
    m2 = Membership.start(hazelcast.start(2));
    assertTrue(LocalHazelcast.await(20_000, () -> m1.current().size() == 2 && m2.current().size() == 2));
    m1.announce("node-1", Membership.NodeState.SERVING);
    m2.announce("node-2", Membership.NodeState.SERVING);
    assertTrue(LocalHazelcast.await(20_000, () -> m1.placement().view().size() == 2));

    MetadataStore metadata = new MetadataStore(dir);
    metadata.load();
    metadata.linkBlob(RepositoryName.of("held/here"), Digest.sha256(new byte[] {1}), 1);

    vertx = Vertx.vertx();
    RecordCodec.registerAll(vertx.eventBus());
    AtomicInteger syncs = new AtomicInteger();
    // node-2 takes the sync request and never answers
    vertx.eventBus().consumer(Addresses.REPLICA_SYNC.on("node-2"), msg -> syncs.incrementAndGet())
        .completion().await(5, TimeUnit.SECONDS);

    CatchUp catchUp = CatchUp.start(hz1, m1, "node-1", false);
    Rebalancer rebalancer = new Rebalancer(vertx, m1, "node-1",
        new ReplicaStore(vertx, metadata, new BlobStore(dir), true, 0), 2, catchUp);
    vertx.getOrCreateContext().runOnContext(v -> rebalancer.start(60_000));
    assertTrue(LocalHazelcast.await(10_000, () -> syncs.get() > 0), "the pass asked node-2 to copy");
    assertTrue(rebalancer.status().running());

    long started = System.nanoTime();
    // the pass is stuck on a 30 min request: without a deadline of its own, settle would wait for it
    Boolean settled = rebalancer.settle(1_000).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertFalse(settled, "the hand-off did not complete");
    assertTrue(tookMillis >= 900, "settle waited for its deadline, took " + tookMillis + " ms");
    assertEquals(1, syncs.get(), "the stuck pass is the only one");
    rebalancer.stop();
  }
}
