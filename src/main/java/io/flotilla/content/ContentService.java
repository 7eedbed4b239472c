package io.flotilla.content;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.CancelTask;
import io.flotilla.bus.Messages.SubmitTask;
import io.flotilla.bus.Messages.TaskAccepted;
import io.flotilla.cluster.Member;
import io.flotilla.cluster.Membership;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * The content lifecycle's objects as the admin API sees them: typed reads from this node's
 * {@link ContentStore} (every node holds every object), and the writes, validated here, saved and
 * pushed to every member ({@link ContentReplication}). Sync requests are checked here and handed to
 * the repository's primary owner, which queues and runs the task ({@link TaskRunner}). Failures are
 * {@link OciException}s: INVALID_REQUEST (400), NOT_FOUND/NAME_UNKNOWN (404), CONFLICT (409).
 */
public final class ContentService {
  private final Vertx vertx;
  private final ContentStore store;
  private final Membership membership;
  private final String nodeId;
  private final RegistryStorage storage;
  private final ContentIndex index;

  public ContentService(Vertx vertx, ContentStore store, ContentIndex index, Membership membership, String nodeId,
      RegistryStorage storage) {
    this.vertx = vertx;
    this.store = store;
    this.index = index;
    this.membership = membership;
    this.nodeId = nodeId;
    this.storage = storage;
  }

  public ContentStore store() {
    return store;
  }

  /** What request paths look up (distributions by base path, managed repositories, unfinished tasks). */
  public ContentIndex index() {
    return index;
  }

  // ------------------------------------------------------------------ reads

  public Optional<Remote> remote(String name) {
    return store.get(Remote.KIND, name).map(r -> ContentJson.read(r.body(), Remote.class));
  }

  public List<Remote> remotes() {
    return all(Remote.KIND, Remote.class).stream().sorted(Comparator.comparing(Remote::name)).toList();
  }

  public Optional<RepoSettings> settings(String repository) {
    return store.get(RepoSettings.KIND, repository).map(r -> ContentJson.read(r.body(), RepoSettings.class));
  }

  public List<RepoSettings> allSettings() {
    return all(RepoSettings.KIND, RepoSettings.class);
  }

  /** Every retained version of a repository, oldest first. */
  public List<RepoVersion> versions(String repository) {
    return all(RepoVersion.KIND, RepoVersion.class).stream().filter(v -> v.repository().equals(repository))
        .sorted(Comparator.comparingInt(RepoVersion::number)).toList();
  }

  public Optional<RepoVersion> version(String repository, int number) {
    return store.get(RepoVersion.KIND, RepoVersion.key(repository, number))
        .map(r -> ContentJson.read(r.body(), RepoVersion.class));
  }

  public Optional<RepoVersion> latest(String repository) {
    List<RepoVersion> all = versions(repository);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  public List<Publication> publications(String repository) {
    return all(Publication.KIND, Publication.class).stream()
        .filter(p -> repository == null || p.repository().equals(repository))
        .sorted(Comparator.comparing(Publication::repository).thenComparingInt(Publication::version)).toList();
  }

  public Optional<Publication> publication(String id) {
    return store.get(Publication.KIND, id).map(r -> ContentJson.read(r.body(), Publication.class));
  }

  /** The newest publication of a repository. */
  public Optional<Publication> latestPublication(String repository) {
    List<Publication> all = publications(repository);
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  public List<Distribution> distributions() {
    return all(Distribution.KIND, Distribution.class).stream().sorted(Comparator.comparing(Distribution::name)).toList();
  }

  public Optional<Distribution> distribution(String name) {
    return store.get(Distribution.KIND, name).map(r -> ContentJson.read(r.body(), Distribution.class));
  }

  /** The distributions that serve {@code repository}'s publications. */
  public List<Distribution> distributionsOf(String repository) {
    return distributions().stream().filter(d -> repository.equals(d.repository())).toList();
  }

  /** The publication a distribution serves now: its own, or its repository's latest. */
  public Optional<Publication> served(Distribution d) {
    if (d.publication() != null) {
      return publication(d.publication());
    }
    return d.repository() == null ? Optional.empty() : latestPublication(d.repository());
  }

  public List<Task> tasks(String state, String repository) {
    return all(Task.KIND, Task.class).stream()
        .filter(t -> state == null || t.state().equals(state))
        .filter(t -> repository == null || t.repository().equals(repository))
        .sorted(Comparator.comparingLong(Task::created).thenComparing(Task::id)).toList();
  }

  public Optional<Task> task(String id) {
    return store.get(Task.KIND, id).map(r -> ContentJson.read(r.body(), Task.class));
  }

  private <T> List<T> all(String kind, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (ContentRecord r : store.list(kind)) {
      out.add(ContentJson.read(r.body(), type));
    }
    return out;
  }

  // ------------------------------------------------------------------ writes

  /** Saves an object here and on every member. */
  public Future<ContentRecord> save(String kind, String key, Object value) {
    return ContentReplication.put(vertx, store, membership, kind, key, ContentJson.write(value));
  }

  Future<Boolean> remove(String kind, String key) {
    return ContentReplication.delete(vertx, store, membership, kind, key).map(Optional::isPresent);
  }

  /** Creates ({@code name == null}: the body names it) or replaces a remote; a replace keeps an omitted password. */
  public Future<Remote> putRemote(String name, JsonNode body, boolean create) {
    Remote parsed = ContentRequests.remote(name, body);
    Optional<Remote> old = remote(parsed.name());
    if (create && old.isPresent()) {
      return Future.failedFuture(OciError.CONFLICT.with("remote " + parsed.name() + " exists"));
    }
    if (!create && old.isEmpty()) {
      return Future.failedFuture(OciError.NOT_FOUND.with("no remote " + parsed.name()));
    }
    long now = System.currentTimeMillis();
    String password = parsed.password() == null && old.isPresent() && !body.has("password")
        ? old.get().password() : parsed.password();
    Remote r = new Remote(parsed.name(), parsed.url(), parsed.upstreamName(), parsed.username(), password,
        parsed.verifyTls(), parsed.caCertificate(), parsed.includeTags(), parsed.excludeTags(), parsed.policy(),
        parsed.syncInterval(), old.map(Remote::created).orElse(now), now);
    return save(Remote.KIND, r.name(), r).map(r);
  }

  /** Deletes a remote no repository uses (CONFLICT otherwise). */
  public Future<Void> deleteRemote(String name) {
    List<String> users = allSettings().stream().filter(s -> name.equals(s.remote())).map(RepoSettings::name).sorted()
        .toList();
    if (!users.isEmpty()) {
      return Future.failedFuture(OciError.CONFLICT.with("remote " + name + " is used by " + users));
    }
    return remove(Remote.KIND, name).compose(found -> found ? Future.succeededFuture()
        : Future.failedFuture(OciError.NOT_FOUND.with("no remote " + name)));
  }

  /** Sets a repository's settings: the body's fields replace the current ones, the others stay. */
  public Future<RepoSettings> putSettings(String repository, JsonNode body) {
    ContentRequests.repository(repository);
    RepoSettings old = settings(repository).orElse(new RepoSettings(repository, null, false, false, false, 0, 0, 0));
    RepoSettings next = ContentRequests.settings(old, body, System.currentTimeMillis());
    if (next.remote() != null && remote(next.remote()).isEmpty()) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("unknown remote " + next.remote()));
    }
    if (next.autoDistribute() && !next.autoPublish()) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("autoDistribute requires autoPublish"));
    }
    if (distributionByBasePath(repository).isPresent()) {
      return Future.failedFuture(OciError.CONFLICT.with(repository + " is a distribution's base path"));
    }
    return save(RepoSettings.KIND, repository, next).map(next);
  }

  /**
   * Checks a sync request and hands it to the repository's primary owner; the answer is the task's id.
   * Refused before any task exists: an unknown repository setting or remote, {@code autoDistribute}
   * without {@code autoPublish}, or without a distribution of the repository.
   */
  public Future<TaskAccepted> sync(String repository, JsonNode body, String identity) {
    ContentRequests.repository(repository);
    SyncRequest req = ContentRequests.sync(body);
    Optional<RepoSettings> settings = settings(repository);
    String remoteName = req.remote() != null ? req.remote() : settings.map(RepoSettings::remote).orElse(null);
    if (remoteName == null) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("no remote: set the repository's remote or name one"));
    }
    Optional<Remote> remote = remote(remoteName);
    if (remote.isEmpty()) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("unknown remote " + remoteName));
    }
    if (remote.get().onDemand()) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("remote " + remoteName
          + " is onDemand: its content is fetched on first pull, not synced"));
    }
    SyncRequest effective = req.over(settings.orElse(null), remoteName);
    if (effective.distributes() && !effective.publishes()) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("autoDistribute requires autoPublish"));
    }
    if (effective.distributes() && distributionsOf(repository).isEmpty()) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("autoDistribute: no distribution serves " + repository));
    }
    if (distributionByBasePath(repository).isPresent()) {
      return Future.failedFuture(OciError.CONFLICT.with(repository + " is a distribution's base path"));
    }
    return submit(new SubmitTask(UUID.randomUUID().toString(), TaskRunner.SYNC, repository,
        ContentJson.write(effective), identity));
  }

  /** Hands a task to the repository's primary owner (this node when it is). */
  public Future<TaskAccepted> submit(SubmitTask task) {
    String owner = membership.placement().primary(task.repository()).map(Member::nodeName).orElse(nodeId);
    return Bus.request(vertx, Addresses.CONTENT_TASK_SUBMIT, owner, owner.equals(nodeId), task);
  }

  /** Cancels a task wherever it runs; CONFLICT when it is over already. */
  public Future<Task> cancel(String id, String identity) {
    Optional<Task> t = task(id);
    if (t.isEmpty()) {
      return Future.failedFuture(OciError.NOT_FOUND.with("no task " + id));
    }
    if (t.get().finalState()) {
      return Future.failedFuture(OciError.CONFLICT.with("task " + id + " is " + t.get().state()));
    }
    String node = t.get().node();
    if (!membership.current().contains(node)) {
      Task ended = t.get().progress(TaskRunner.settle(t.get().progressReports(), Task.CANCELED),
          t.get().createdResources()).ended(Task.CANCELED, "canceled; its node " + node + " had left",
          System.currentTimeMillis());
      return save(Task.KIND, id, ended).map(ended);
    }
    return Bus.request(vertx, Addresses.CONTENT_TASK_CANCEL, node, node.equals(nodeId), new CancelTask(id, identity))
        .map(done -> task(id).orElse(t.get()));
  }

  /** Creates a distribution; its base path must be free (no distribution, no pushed repository). */
  public Future<Distribution> createDistribution(JsonNode body) {
    Distribution d = ContentRequests.distribution(body, System.currentTimeMillis());
    if (distribution(d.name()).isPresent()) {
      return Future.failedFuture(OciError.CONFLICT.with("distribution " + d.name() + " exists"));
    }
    Optional<Distribution> same = distributionByBasePath(d.basePath());
    if (same.isPresent()) {
      return Future.failedFuture(OciError.CONFLICT.with("base path " + d.basePath() + " is served by " + same.get().name()));
    }
    if (settings(d.basePath()).isPresent()) {
      return Future.failedFuture(OciError.CONFLICT.with("base path " + d.basePath() + " is a managed repository"));
    }
    return resolveTarget(d, body).compose(target -> repositoryExists(d.basePath()).compose(exists -> exists
        ? Future.failedFuture(OciError.CONFLICT.with("base path " + d.basePath() + " collides with a pushed repository"))
        : save(Distribution.KIND, target.name(), target).map(target)));
  }

  /** Moves a distribution: {@code version}, {@code publication}, {@code repository}, or {@code version: null} (follow the latest). */
  public Future<Distribution> patchDistribution(String name, JsonNode body) {
    Optional<Distribution> old = distribution(name);
    if (old.isEmpty()) {
      return Future.failedFuture(OciError.NOT_FOUND.with("no distribution " + name));
    }
    Distribution d = old.get();
    String repository = body.hasNonNull("repository") ? body.get("repository").asText() : d.repository();
    Distribution next = new Distribution(d.name(), d.basePath(), repository, d.publication(), d.created(),
        System.currentTimeMillis());
    boolean follow = (body.has("version") && body.get("version").isNull()) || body.path("latest").asBoolean(false);
    if (follow) {
      next = next.withPublication(null, next.updated());
    }
    if (!follow && !body.hasNonNull("version") && !body.hasNonNull("publication") && !body.hasNonNull("repository")) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("nothing to change: give version, publication, "
          + "repository or latest"));
    }
    Distribution base = next;
    return resolveTarget(base, body).compose(target -> TaskRunner.withLocks(vertx,
        List.of(TaskRunner.distributionLock(name)), () -> save(Distribution.KIND, name, target).map(target),
        () -> false));
  }

  public Future<Void> deleteDistribution(String name) {
    return remove(Distribution.KIND, name).compose(found -> found ? Future.succeededFuture()
        : Future.failedFuture(OciError.NOT_FOUND.with("no distribution " + name)));
  }

  /** The distribution serving {@code basePath}, if any. */
  public Optional<Distribution> distributionByBasePath(String basePath) {
    return index.distribution(basePath);
  }

  /** Sets the distribution's publication from {@code version} or {@code publication} in the body (publishing the version when needed). */
  private Future<Distribution> resolveTarget(Distribution d, JsonNode body) {
    if (body.hasNonNull("publication")) {
      String id = body.get("publication").asText();
      Optional<Publication> p = publication(id);
      if (p.isEmpty()) {
        return Future.failedFuture(OciError.INVALID_REQUEST.with("unknown publication " + id));
      }
      return Future.succeededFuture(new Distribution(d.name(), d.basePath(), p.get().repository(), id, d.created(),
          d.updated()));
    }
    if (body.hasNonNull("version")) {
      if (d.repository() == null) {
        return Future.failedFuture(OciError.INVALID_REQUEST.with("a version needs a repository"));
      }
      int n = body.get("version").asInt(-1);
      Optional<RepoVersion> v = version(d.repository(), n);
      if (v.isEmpty()) {
        return Future.failedFuture(OciError.INVALID_REQUEST.with("no version " + body.get("version") + " of "
            + d.repository()));
      }
      return publish(v.get()).map(p -> d.withPublication(p.id(), d.updated()));
    }
    if (d.repository() == null) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("a distribution needs a repository or a publication"));
    }
    return Future.succeededFuture(d);
  }

  /** The publication of a version, made now unless it exists. */
  public Future<Publication> publish(RepoVersion v) {
    String id = Publication.idOf(v.repository(), v.number());
    Optional<Publication> p = publication(id);
    if (p.isPresent()) {
      return Future.succeededFuture(p.get());
    }
    Publication made = new Publication(id, v.repository(), v.number(), System.currentTimeMillis());
    return save(Publication.KIND, id, made).map(made);
  }

  private Future<Boolean> repositoryExists(String name) {
    return storage.listTags(RequestContext.internal("content.basepath"), name, 1, null)
        .map(page -> true)
        .recover(e -> e instanceof OciException o && o.error() == OciError.NAME_UNKNOWN
            ? Future.succeededFuture(false) : Future.failedFuture(e));
  }

  /** Whether {@code name} is a valid repository name. */
  static boolean validName(String name) {
    try {
      RepositoryName.of(Objects.requireNonNull(name));
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }
}
