package io.flotilla.content;

import io.flotilla.bus.Messages.SubmitTask;
import io.flotilla.bus.Messages.TaskAccepted;
import io.flotilla.cluster.ClusterView;
import io.flotilla.cluster.Membership;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.AsyncLimiter;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.Fs;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Lock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Runs the content tasks this node was handed (it is the repository's primary owner, or the owner a
 * push landed on): a {@code sync} task syncs from the remote, makes a new repository version when
 * anything changed, publishes it and points the repository's distributions at it; a {@code push} task
 * makes the version of what clients pushed, then publishes and distributes it the same way. Each task
 * holds cluster-wide locks (Vert.x shared-data locks, Hazelcast map locks, released by Hazelcast when
 * their holder dies) on its repository and every distribution it may update for its whole run; a second
 * task of the same repository waits ({@code waiting}) until the first is over. Progress is saved and
 * replicated about once a second while a task runs, so any node shows it.
 *
 * <p>No task stays {@code running} after its node is gone: at start this node fails the tasks it
 * was running before it stopped, and the lowest-named member fails the tasks of members that left.
 * Cancel stops a sync between blob transfers (and cuts the streaming ones), before any version is made.
 * Runs on one Vert.x context; disk work goes through the store's workers.
 */
public final class TaskRunner {
  public static final String SYNC = "sync";
  public static final String PUSH = "push";
  static final String TASK_MEDIA_TYPE = "application/vnd.flotilla.task.v1+json";
  static final String VERSION_MEDIA_TYPE = "application/vnd.flotilla.repository.version.v1+json";
  static final String DISTRIBUTION_MEDIA_TYPE = "application/vnd.flotilla.distribution.v1+json";
  private static final System.Logger LOG = System.getLogger(TaskRunner.class.getName());
  private static final long LOCK_POLL_MILLIS = 1000;
  private static final long FLUSH_MILLIS = 1000;
  private static final long PUSH_DELAY_MILLIS = 300;

  private final Vertx vertx;
  private final Context context;
  private final ContentService content;
  private final Membership membership;
  private final String nodeId;
  private final RegistryStorage storage;
  private final BlobTransfer transfer;
  private final EventSink events;
  private final Path caDir;
  private final int parallelBlobs;
  private final Map<String, Running> running = new ConcurrentHashMap<>();
  private final Set<String> pendingPush = ConcurrentHashMap.newKeySet();

  /** One task this node runs: what it is, its sync's progress, its other reports, whether to stop. */
  private static final class Running {
    volatile Task task;
    final SyncProgress progress = new SyncProgress();
    final Map<String, ProgressReport> extra = Collections.synchronizedMap(new java.util.LinkedHashMap<>());
    final List<String> created = Collections.synchronizedList(new ArrayList<>());
    volatile boolean cancel;
    volatile boolean active;
    Future<?> writes = Future.succeededFuture();
    long timer = -1;

    Running(Task task) {
      this.task = task;
    }
  }

  public TaskRunner(Vertx vertx, Context context, ContentService content, Membership membership, String nodeId,
      RegistryStorage storage, BlobTransfer transfer, EventSink events, Path dataDir, int parallelBlobs) {
    this.vertx = vertx;
    this.context = context;
    this.content = content;
    this.membership = membership;
    this.nodeId = nodeId;
    this.storage = storage;
    this.transfer = transfer;
    this.events = events;
    this.caDir = dataDir.resolve("_content").resolve("ca");
    this.parallelBlobs = parallelBlobs;
  }

  /** Whether this node runs (or waits to run) a task of {@code repository}. */
  public boolean busy(String repository) {
    return running.values().stream().anyMatch(r -> r.task.repository().equals(repository));
  }

  /** The tasks this node runs now (ids). */
  public Set<String> active() {
    return Set.copyOf(running.keySet());
  }

  // ------------------------------------------------------------------ submit, cancel

  /** Queues a task here: saved as {@code waiting} (and replicated) before the answer. */
  public Future<TaskAccepted> accept(SubmitTask s) {
    long now = System.currentTimeMillis();
    Task t = new Task(s.id(), s.name(), s.repository(), nodeId, Task.WAITING, now, 0, 0, null, List.of(),
        initialReports(s), s.params(), s.identity());
    Running r = new Running(t);
    running.put(t.id(), r);
    return content.save(Task.KIND, t.id(), t).map(rec -> {
      event(t, "task.waiting");
      context.runOnContext(v -> run(r));
      return new TaskAccepted(t.id(), nodeId);
    }).onFailure(e -> running.remove(t.id()));
  }

  /** Asks a task of this node to stop; a task that is not running here is marked canceled. */
  public Future<Void> cancel(String id) {
    Running r = running.get(id);
    if (r != null) {
      r.cancel = true;
      r.progress.cancel();
      return Future.succeededFuture();
    }
    Optional<Task> t = content.task(id);
    if (t.isPresent() && !t.get().finalState()) {
      Task ended = t.get().ended(Task.CANCELED, "canceled (it was not running on " + nodeId + ")",
          System.currentTimeMillis());
      return content.save(Task.KIND, id, ended).mapEmpty();
    }
    return Future.succeededFuture();
  }

  /** A client pushed into (or deleted from) {@code repository}: a push task makes its next version, once a burst is over. */
  public void pushed(String repository) {
    if (content.settings(repository).isEmpty() || !pendingPush.add(repository)) {
      return;
    }
    context.runOnContext(v -> vertx.setTimer(PUSH_DELAY_MILLIS, id -> accept(new SubmitTask(UUID.randomUUID().toString(),
        PUSH, repository, "{}", RequestContext.INTERNAL_IDENTITY)).onFailure(e -> {
          pendingPush.remove(repository);
          LOG.log(System.Logger.Level.WARNING, "no push task for " + repository + ": " + e.getMessage());
        })));
  }

  // ------------------------------------------------------------------ crash recovery

  /** Fails the tasks this node had not finished before it stopped (run once at start, before new tasks). */
  public Future<Void> failLeftovers() {
    List<Future<?>> writes = new ArrayList<>();
    for (ContentIndex.Unfinished u : content.index().unfinished()) {
      if (u.node().equals(nodeId) && !running.containsKey(u.id())) {
        content.task(u.id()).filter(t -> !t.finalState())
            .ifPresent(t -> writes.add(fail(t, "node " + nodeId + " restarted while the task was " + t.state())));
      }
    }
    return Future.join(writes).mapEmpty();
  }

  /** Fails the tasks of nodes that are not members; only the lowest-named member does it. */
  public Future<Void> failOrphans(ClusterView view) {
    if (view.isEmpty() || !view.nodeNames().stream().sorted().findFirst().orElse("").equals(nodeId)) {
      return Future.succeededFuture();
    }
    List<Future<?>> writes = new ArrayList<>();
    for (ContentIndex.Unfinished u : content.index().unfinished()) {
      if (!view.contains(u.node())) {
        content.task(u.id()).filter(t -> !t.finalState()).ifPresent(t -> writes.add(fail(t, "node " + t.node()
            + " left the cluster while the task was " + t.state())));
      }
    }
    return Future.join(writes).mapEmpty();
  }

  private Future<?> fail(Task t, String why) {
    LOG.log(System.Logger.Level.WARNING, "task " + t.id() + " failed: " + why);
    Task ended = t.progress(settle(t.progressReports(), Task.FAILED), t.createdResources())
        .ended(Task.FAILED, why, System.currentTimeMillis());
    return content.save(Task.KIND, t.id(), ended).onSuccess(r -> event(ended, "task.failed"));
  }

  // ------------------------------------------------------------------ running

  private void run(Running r) {
    Task t = r.task;
    List<String> locks = new ArrayList<>();
    locks.add(repositoryLock(t.repository()));
    content.distributionsOf(t.repository()).stream().map(d -> distributionLock(d.name())).sorted().forEach(locks::add);
    withLocks(vertx, locks, () -> {
      if (PUSH.equals(t.name())) {
        pendingPush.remove(t.repository());
      }
      r.task = r.task.running(System.currentTimeMillis());
      r.active = true;
      r.timer = vertx.setPeriodic(FLUSH_MILLIS, id -> flush(r, false));
      return write(r).compose(v -> {
        event(r.task, "task.running");
        return SYNC.equals(t.name()) ? sync(r) : snapshot(r, PUSH);
      });
    }, () -> r.cancel).onComplete(ar -> finish(r, ar.cause()));
  }

  private Future<Void> sync(Running r) {
    Task t = r.task;
    SyncRequest req = ContentJson.read(t.params(), SyncRequest.class);
    Optional<Remote> remote = content.remote(req.remote());
    if (remote.isEmpty()) {
      return Future.failedFuture(new IllegalStateException("remote " + req.remote() + " no longer exists"));
    }
    Optional<RepoSettings> settings = content.settings(t.repository());
    Future<?> marked = settings.isPresent()
        ? content.save(RepoSettings.KIND, t.repository(), settings.get().withLastSync(System.currentTimeMillis()))
        : Future.succeededFuture();
    return marked.compose(x -> upstream(remote.get())).compose(up -> {
      RepositorySync engine = new RepositorySync(vertx, up, storage, transfer, parallelBlobs);
      SyncSpec spec = new SyncSpec(RepositoryName.of(remote.get().upstreamName()), RepositoryName.of(t.repository()),
          remote.get().includeTags(), remote.get().excludeTags(), req.mirrors())
          .mountingFrom(neighbours(t.repository(), remote.get()));
      RequestContext ctx = RequestContext.sync(t.id(), remote.get().origin());
      return engine.run(spec, ctx, r.progress).andThen(ar -> up.close());
    }).compose(outcome -> {
      if (r.cancel) {
        return Future.failedFuture(new SyncCancelledException());
      }
      if (!outcome.complete()) {
        return Future.failedFuture(new IllegalStateException(failures(outcome)));
      }
      Map<String, String> tags = new TreeMap<>();
      outcome.tags().forEach((tag, digest) -> tags.put(tag, digest.toString()));
      return version(r, tags, SYNC, req.publishes(), req.distributes());
    });
  }

  /** At most this many other repositories are asked for a blob before it is downloaded. */
  static final int MOUNT_CANDIDATES = 8;

  /**
   * The repositories whose blobs a sync of {@code repository} from {@code remote} may mount instead of
   * downloading them: the other managed repositories whose remotes point at the same upstream registry
   * (images from one registry share their base layers), those of the same upstream repository first.
   */
  private List<String> neighbours(String repository, Remote remote) {
    List<String> same = new ArrayList<>();
    List<String> registry = new ArrayList<>();
    for (RepoSettings s : content.allSettings()) {
      Remote r = s.remote() == null || s.name().equals(repository) ? null : content.remote(s.remote()).orElse(null);
      if (r != null && r.origin().equals(remote.origin())) {
        (r.upstreamName().equals(remote.upstreamName()) ? same : registry).add(s.name());
      }
    }
    Collections.sort(same);
    Collections.sort(registry);
    same.addAll(registry);
    return same.size() > MOUNT_CANDIDATES ? same.subList(0, MOUNT_CANDIDATES) : same;
  }

  /** A push task: the version of the repository's tags now. */
  private Future<Void> snapshot(Running r, String cause) {
    Task t = r.task;
    RepoSettings s = content.settings(t.repository()).orElse(null);
    LocalRepository local = new LocalRepository(storage, RequestContext.internal(t.id()), t.repository(),
        new AsyncLimiter(context, 8));
    return local.tags().compose(tags -> {
      Map<String, String> out = new TreeMap<>();
      tags.forEach((tag, digest) -> out.put(tag, digest.toString()));
      boolean publish = s != null && s.autoPublish();
      return version(r, out, cause, publish, publish && s.autoDistribute());
    });
  }

  /** The new version (when the tags changed), then its publication and distributions as asked. */
  private Future<Void> version(Running r, Map<String, String> tags, String cause, boolean publish, boolean distribute) {
    Task t = r.task;
    RepoVersion latest = content.latest(t.repository()).orElse(null);
    Future<RepoVersion> made;
    if (latest != null && latest.tags().equals(tags)) {
      report(r, "sync", "version", "no changes: version " + latest.number() + " stays the latest", 1, 1, "completed");
      made = Future.succeededFuture(latest);
    } else if (latest == null && tags.isEmpty()) {
      report(r, "sync", "version", "no content: no version", 1, 1, "completed");
      made = Future.succeededFuture(null);
    } else {
      RepoVersion v = RepoVersion.next(t.repository(), latest, tags, System.currentTimeMillis(), cause, t.id());
      made = content.save(RepoVersion.KIND, RepoVersion.key(v.repository(), v.number()), v).map(rec -> {
        r.created.add(ContentJson.versionHref(v.repository(), v.number()));
        report(r, "sync", "version", "version " + v.number() + ": " + v.added() + " added, " + v.removed()
            + " removed, " + v.present() + " present", 1, 1, "completed");
        events.record(taskContext(t), Operation.content("version.created", v.repository(), VERSION_MEDIA_TYPE,
            ContentJson.versionHref(v.repository(), v.number())));
        return v;
      });
    }
    return made.compose(v -> {
      if (v == null || !publish) {
        if (publish) {
          report(r, "publish", "publish", "nothing to publish", 0, 0, "skipped");
        }
        if (distribute) {
          report(r, "distribute", "distribute", "nothing to distribute", 0, 0, "skipped");
        }
        return retain(t.repository());
      }
      boolean existed = content.publication(Publication.idOf(v.repository(), v.number())).isPresent();
      report(r, "publish", "publish", "publishing version " + v.number(), 0, 1, "running");
      return content.publish(v).compose(p -> {
        if (!existed) {
          r.created.add("/api/v1/publications/" + p.id());
        }
        report(r, "publish", "publish", (existed ? "reused " : "published ") + p.id() + " of version " + v.number(),
            1, 1, "completed");
        return distribute ? distribute(r, p) : Future.succeededFuture();
      }).compose(x -> retain(t.repository()));
    });
  }

  private Future<Void> distribute(Running r, Publication p) {
    List<Distribution> ds = content.distributionsOf(p.repository());
    report(r, "distribute", "distribute", "updating " + ds.size() + " distributions", 0, ds.size(), "running");
    Future<Void> chain = Future.succeededFuture();
    int[] done = {0};
    for (Distribution d : ds) {
      chain = chain.compose(v -> content.save(Distribution.KIND, d.name(), d.withPublication(p.id(),
          System.currentTimeMillis())).map(rec -> {
            done[0]++;
            report(r, "distribute", "distribute", d.name() + " (" + d.basePath() + ") serves version " + p.version(),
                done[0], ds.size(), done[0] == ds.size() ? "completed" : "running");
            events.record(taskContext(r.task), Operation.content("distribution.updated", p.repository(),
                DISTRIBUTION_MEDIA_TYPE, "/api/v1/distributions/" + d.name()));
            return null;
          }));
    }
    return chain;
  }

  /** Drops versions past the repository's retention, except those a distribution serves. */
  private Future<Void> retain(String repository) {
    int keep = content.settings(repository).map(RepoSettings::retainVersions).orElse(0);
    List<RepoVersion> all = content.versions(repository);
    if (keep <= 0 || all.size() <= keep) {
      return Future.succeededFuture();
    }
    Set<String> served = new java.util.HashSet<>();
    for (Distribution d : content.distributions()) {
      content.served(d).ifPresent(p -> served.add(p.id()));
    }
    List<Future<Boolean>> drops = new ArrayList<>();
    for (RepoVersion v : all.subList(0, all.size() - keep)) {
      String pub = Publication.idOf(repository, v.number());
      if (!served.contains(pub)) {
        drops.add(content.remove(RepoVersion.KIND, RepoVersion.key(repository, v.number())));
        drops.add(content.remove(Publication.KIND, pub));
      }
    }
    return Future.join(drops).mapEmpty();
  }

  private void finish(Running r, Throwable err) {
    vertx.cancelTimer(r.timer);
    String state;
    String why = null;
    if (err == null) {
      state = Task.COMPLETED;
    } else if (err instanceof SyncCancelledException || r.cancel) {
      state = Task.CANCELED;
      why = "canceled";
    } else {
      state = Task.FAILED;
      why = err.getMessage() == null ? err.toString() : err.getMessage();
    }
    if (PUSH.equals(r.task.name()) && !r.active) {
      pendingPush.remove(r.task.repository());
    }
    List<ProgressReport> reports = Task.COMPLETED.equals(state) ? reports(r) : settle(reports(r), state);
    r.task = r.task.progress(reports, List.copyOf(r.created)).ended(state, why, System.currentTimeMillis());
    Task done = r.task;
    r.writes = r.writes.eventually(() -> content.save(Task.KIND, done.id(), done))
        .onComplete(ar -> {
          running.remove(done.id());
          event(done, "task." + state);
          if (ar.failed()) {
            LOG.log(System.Logger.Level.ERROR, "task " + done.id() + " ended " + state + " but was not saved", ar.cause());
          }
        });
  }

  /** Saves the task's progress when it changed (or always with {@code force}); writes are chained, never concurrent. */
  private void flush(Running r, boolean force) {
    List<ProgressReport> now = reports(r);
    if (!force && now.equals(r.task.progressReports()) && r.created.size() == r.task.createdResources().size()) {
      return;
    }
    r.task = r.task.progress(now, List.copyOf(r.created));
    write(r);
  }

  private Future<Void> write(Running r) {
    Task snapshot = r.task;
    Future<Void> next = r.writes.eventually(() -> content.save(Task.KIND, snapshot.id(), snapshot)).mapEmpty();
    r.writes = next;
    return next;
  }

  private List<ProgressReport> reports(Running r) {
    List<ProgressReport> out = new ArrayList<>();
    if (SYNC.equals(r.task.name())) {
      r.progress.snapshot().forEach(s -> out.add(ProgressReport.of(s)));
    }
    synchronized (r.extra) {
      out.addAll(r.extra.values());
    }
    return out;
  }

  private void report(Running r, String action, String stage, String message, long done, long total, String state) {
    r.extra.put(action + "/" + stage, new ProgressReport(action, stage, message, done, total, state, 0, 0));
  }

  /** The reports of a task that ended {@code state} early: those still waiting or running end that way too. */
  static List<ProgressReport> settle(List<ProgressReport> reports, String state) {
    return reports.stream().map(p -> p.state().equals("running") || p.state().equals("waiting")
        ? new ProgressReport(p.action(), p.stage(), p.message(), p.done(), p.total(), state, p.bytesDone(),
            p.bytesTotal()) : p).toList();
  }

  private static List<ProgressReport> initialReports(SubmitTask s) {
    List<ProgressReport> out = new ArrayList<>();
    if (SYNC.equals(s.name())) {
      new SyncProgress().snapshot().forEach(r -> out.add(ProgressReport.of(r)));
    }
    return out;
  }

  private static String failures(SyncOutcome o) {
    StringBuilder b = new StringBuilder(o.failures().size() + " failed: ");
    int n = 0;
    for (SyncFailure f : o.failures()) {
      if (n++ == 5) {
        b.append("; ...");
        break;
      }
      b.append(n > 1 ? "; " : "").append(f.subject()).append(": ").append(f.reason());
    }
    return b.toString();
  }

  private Future<UpstreamRegistry> upstream(Remote remote) {
    if (remote.caCertificate() == null) {
      return Future.succeededFuture(new UpstreamRegistry(vertx, remote.upstreamConfig()));
    }
    Path pem = caDir.resolve(remote.name() + ".pem");
    return vertx.executeBlocking(() -> {
      Fs.writeAtomic(pem, remote.caCertificate().getBytes(StandardCharsets.UTF_8));
      return new UpstreamRegistry(vertx, remote.upstreamConfig().withCaCertificate(pem));
    }, false);
  }

  private void event(Task t, String action) {
    events.record(taskContext(t), Operation.content(action, t.repository(), TASK_MEDIA_TYPE, "/api/v1/tasks/" + t.id()))
        .onFailure(e -> LOG.log(System.Logger.Level.WARNING, "event " + action + " of task " + t.id()
            + " not recorded: " + e.getMessage()));
  }

  private RequestContext taskContext(Task t) {
    return new RequestContext(t.id(), t.identity(), nodeId, "", "TASK", "flotilla-tasks");
  }

  // ------------------------------------------------------------------ locks

  static String repositoryLock(String repository) {
    return "flotilla.content.lock.repository:" + repository;
  }

  static String distributionLock(String name) {
    return "flotilla.content.lock.distribution:" + name;
  }

  /**
   * Runs {@code action} holding every lock of {@code names} (taken in order, each polled so that no
   * worker waits long and a cancel is seen within a second), and releases them when it is over.
   * Fails with {@link SyncCancelledException} when {@code cancelled} turns true while waiting.
   */
  static <T> Future<T> withLocks(Vertx vertx, List<String> names, Supplier<Future<T>> action, BooleanSupplier cancelled) {
    List<Lock> held = new ArrayList<>();
    return acquire(vertx, names, 0, held, cancelled).compose(v -> {
      Future<T> f;
      try {
        f = action.get();
      } catch (RuntimeException e) {
        f = Future.failedFuture(e);
      }
      return f;
    }).andThen(ar -> held.forEach(Lock::release));
  }

  private static Future<Void> acquire(Vertx vertx, List<String> names, int i, List<Lock> held, BooleanSupplier cancelled) {
    if (i == names.size()) {
      return Future.succeededFuture();
    }
    if (cancelled.getAsBoolean()) {
      return Future.failedFuture(new SyncCancelledException());
    }
    Promise<Void> next = Promise.promise();
    long started = System.nanoTime();
    vertx.sharedData().getLockWithTimeout(names.get(i), LOCK_POLL_MILLIS).onComplete(ar -> {
      if (ar.succeeded()) {
        held.add(ar.result());
        acquire(vertx, names, i + 1, held, cancelled).onComplete(next);
        return;
      }
      long waited = (System.nanoTime() - started) / 1_000_000;
      long pause = Math.max(0, LOCK_POLL_MILLIS - waited);
      vertx.setTimer(Math.max(1, pause), t -> acquire(vertx, names, i, held, cancelled).onComplete(next));
    });
    return next.future();
  }
}
