package io.flotilla.content;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.Messages.SubmitTask;
import io.flotilla.cluster.Member;
import io.flotilla.cluster.Membership;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The publishing verticle: runs this node's content tasks ({@link TaskRunner}) on its context, takes
 * tasks and cancels from the bus ({@link Addresses#CONTENT_TASK_SUBMIT},
 * {@link Addresses#CONTENT_TASK_CANCEL}), starts the periodic syncs of the repositories it is primary
 * owner of, and fails the tasks of members that left. At start it fails the tasks this node left
 * unfinished when it stopped.
 */
public final class ContentVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(ContentVerticle.class.getName());

  private final ContentService content;
  private final Membership membership;
  private final String nodeId;
  private final RegistryStorage storage;
  private final BlobTransfer transfer;
  private final EventSink events;
  private final Path dataDir;
  private final long tickMillis;
  private final ContentEventTap tap;
  private TaskRunner runner;
  private Membership.Subscription subscription;
  private long timer = -1;

  public ContentVerticle(ContentService content, Membership membership, String nodeId, RegistryStorage storage,
      BlobTransfer transfer, EventSink events, Path dataDir, long tickMillis, ContentEventTap tap) {
    this.content = content;
    this.membership = membership;
    this.nodeId = nodeId;
    this.storage = storage;
    this.transfer = transfer;
    this.events = events;
    this.dataDir = dataDir;
    this.tickMillis = tickMillis;
    this.tap = tap;
  }

  /** This node's task runner (after start). */
  public TaskRunner runner() {
    return runner;
  }

  @Override
  public Future<?> start() {
    runner = new TaskRunner(vertx, context, content, membership, nodeId, storage, transfer, events, dataDir,
        RepositorySync.DEFAULT_PARALLEL_BLOBS);
    return runner.failLeftovers()
        .compose(v -> Future.all(
            Bus.serve(vertx, Addresses.CONTENT_TASK_SUBMIT, nodeId, runner::accept),
            Bus.serve(vertx, Addresses.CONTENT_TASK_CANCEL, nodeId, c -> runner.cancel(c.id()).map(x -> new Done()))))
        .onSuccess(v -> {
          tap.onChange(runner::pushed);
          subscription = membership.subscribe(context, view -> runner.failOrphans(view));
          timer = vertx.setPeriodic(tickMillis, t -> tick());
        });
  }

  @Override
  public Future<?> stop() {
    if (subscription != null) {
      subscription.close();
    }
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void tick() {
    runner.failOrphans(membership.current());
    long now = System.currentTimeMillis();
    for (RepoSettings s : content.allSettings()) {
      if (s.remote() == null) {
        continue;
      }
      Remote remote = content.remote(s.remote()).orElse(null);
      if (remote == null || remote.onDemand() || remote.period() == null
          || now - s.lastSync() < remote.period().toMillis()) {
        continue;
      }
      String primary = membership.placement().primary(s.name()).map(Member::nodeName).orElse(nodeId);
      if (!primary.equals(nodeId) || runner.busy(s.name()) || content.index().busy(s.name())) {
        continue;
      }
      boolean distribute = s.autoDistribute() && s.autoPublish() && !content.distributionsOf(s.name()).isEmpty();
      SyncRequest req = new SyncRequest(remote.name(), s.mirror(), s.autoPublish(), distribute);
      runner.accept(new SubmitTask(UUID.randomUUID().toString(), TaskRunner.SYNC, s.name(), ContentJson.write(req),
          RequestContext.INTERNAL_IDENTITY)).onFailure(e -> LOG.log(System.Logger.Level.WARNING,
              "periodic sync of " + s.name() + " not started: " + e.getMessage()));
    }
  }
}
