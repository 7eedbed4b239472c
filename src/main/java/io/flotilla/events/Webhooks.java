package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.WebhookConfig;
import io.flotilla.oci.OciError;
import io.flotilla.storage.Fs;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The webhook endpoints of this node and their delivery queues. Endpoints come from the
 * configuration file and from the admin API; API changes made on any node are published on
 * {@link #CHANGES} so every node applies them (each node delivers the events it emitted), and
 * each node keeps them on its disk ({@code events/webhooks/<name>/endpoint.json}, the endpoint's
 * JSON plus its {@code revision}) so they survive a restart. Also trims the journal behind the
 * slowest endpoint. Runs on one Vert.x context.
 *
 * <p><b>Consistency of API-managed endpoints across nodes.</b> Every change carries a per-endpoint
 * revision and applies only when newer than what the node holds ({@link EndpointRevisions}). On
 * start a node subscribes to {@link #CHANGES}, then asks a synced node for the cluster's set on
 * {@link #SNAPSHOT} ({@link WebhookSync}) and adopts it as authoritative for API-managed endpoints
 * (creates, updates, pauses, and removes those the cluster no longer has, with their saved state);
 * with no answer (it is the first node) it keeps what it saved. Endpoints from the configuration
 * file are never touched by a snapshot. Every change to the endpoint set (loading, the snapshot,
 * each change message, answering a snapshot request) runs one at a time, in arrival order, on a
 * queue of futures, so changes that arrive during the sync wait and apply after the snapshot. The
 * node answers snapshot requests only once it is synced itself.
 */
public final class Webhooks {
  /**
   * Cluster-wide address of endpoint changes, published by the node that took the API call and
   * applied by every node (itself included). The body is a JSON string, one of:
   * <pre>
   * {"op":"put","revision":1712345678901,"endpoint":{...the endpoint as in the file, with secret and paused...}}
   * {"op":"delete","revision":1712345678902,"name":"ci"}
   * </pre>
   * Pause and resume are puts of the whole endpoint with {@code paused} changed. A change applies
   * only if its revision is newer than what the node holds for that name ({@link EndpointRevisions}).
   */
  public static final String CHANGES = "flotilla.webhooks.changes";
  /**
   * Request/reply address of the cluster's API-managed endpoints, answered by every node once it
   * is synced itself (never by a node still starting). Request body: the JSON string {@code {}}.
   * Reply body: a JSON string
   * <pre>
   * {"endpoints":[{"revision":1712345678901,"endpoint":{...with secret and paused...}}, ...]}
   * </pre>
   * Secrets travel only on the cluster bus, never over HTTP. A starting node waits
   * {@link #SNAPSHOT_TIMEOUT} per attempt ({@link WebhookSync#ATTEMPTS} attempts).
   */
  public static final String SNAPSHOT = "flotilla.webhooks.snapshot";
  /** How long a starting node waits for one answer on {@link #SNAPSHOT}. */
  public static final Duration SNAPSHOT_TIMEOUT = Duration.ofSeconds(5);
  private static final System.Logger LOG = System.getLogger(Webhooks.class.getName());

  private final Vertx vertx;
  private final EventJournal journal;
  private final java.util.function.Supplier<HttpClient> http;
  private final Path dir;
  private final List<WebhookConfig> fromFile;
  private final WebhookTargets targets;
  private final Map<String, WebhookDispatcher> dispatchers = new TreeMap<>();
  private final List<java.util.function.Supplier<EventJournal.Position>> otherReaders =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final EndpointRevisions revisions = new EndpointRevisions();
  private final WebhookSync sync;
  private Context context;
  private MessageConsumer<String> changes;
  /** The tail of the queue of changes to the endpoint set (see the class comment); on the context. */
  private Future<Void> queue = Future.succeededFuture();
  private long trimTimer = -1;
  /** False until the saved endpoints are loaded: their positions are unknown, nothing may be trimmed. */
  private boolean loaded;
  /**
   * Where endpoints being replaced stood, by name: from removing the old dispatcher until the new one
   * is in {@link #dispatchers} (kept if that fails: the endpoint's saved state stays on disk). On the context.
   */
  private final Map<String, EventJournal.Position> pinned = new TreeMap<>();

  /**
   * @param http makes an HTTP client for an endpoint
   * @param targets which hosts endpoints may be sent to (checked on every delivery attempt)
   */
  public Webhooks(Vertx vertx, EventJournal journal, java.util.function.Supplier<HttpClient> http, Path dir,
      List<WebhookConfig> fromFile, WebhookTargets targets) {
    this.vertx = vertx;
    this.targets = targets;
    this.journal = journal;
    this.http = http;
    this.dir = dir;
    this.fromFile = List.copyOf(fromFile);
    this.sync = new WebhookSync(vertx);
  }

  /**
   * Loads endpoints (file, then saved API ones), syncs the API ones from the cluster and starts
   * delivering; completes once synced. Call on the context to run on.
   */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    journal.onAppended(() -> context.runOnContext(v -> dispatchers.values().forEach(WebhookDispatcher::poke)));
    trimTimer = vertx.setPeriodic(10_000, t -> trim());
    Promise<List<WebhookSync.Entry>> cluster = Promise.promise();
    Future<Void> synced = enqueue(() -> load().compose(v -> cluster.future()).compose(this::adopt));
    // subscribed before asking: changes made meanwhile queue up behind the snapshot
    changes = vertx.eventBus().consumer(CHANGES, msg -> enqueue(() -> apply(msg.body())));
    changes.completion().compose(v -> sync.fetch()).onComplete(cluster);
    return synced.onSuccess(v -> sync.serve(() -> enqueue(() -> Future.succeededFuture(snapshot()))));
  }

  /** Stops delivering (saving every endpoint's position), listening to changes and answering snapshot requests. */
  public Future<Void> stop() {
    if (trimTimer >= 0) {
      vertx.cancelTimer(trimTimer);
    }
    if (changes != null) {
      changes.unregister();
    }
    sync.stop();
    return Future.join(dispatchers.values().stream().map(WebhookDispatcher::stop).toList()).mapEmpty();
  }

  // ------------------------------------------------------------------ API (any thread)

  /** Which hosts endpoints may be sent to: the API checks new endpoints with it. */
  public WebhookTargets targets() {
    return targets;
  }

  public Future<List<WebhookDispatcher.Status>> list() {
    return onContext(() -> dispatchers.values().stream().map(WebhookDispatcher::status).toList());
  }

  public Future<WebhookDispatcher.Status> get(String name) {
    return onContext(() -> require(name).status());
  }

  /** Creates or replaces an endpoint on every node. */
  public void put(WebhookConfig w) {
    ObjectNode change = EventFormat.JSON.createObjectNode().put("op", "put").put("revision", revisions.next());
    change.set("endpoint", toJson(w, true));
    vertx.eventBus().publish(CHANGES, change.toString());
  }

  /** Deletes an endpoint on every node. */
  public void delete(String name) {
    vertx.eventBus().publish(CHANGES, EventFormat.JSON.createObjectNode().put("op", "delete")
        .put("revision", revisions.next()).put("name", name).toString());
  }

  /** Pauses or resumes an endpoint on every node (a put of this node's endpoint with {@code paused} set). */
  public Future<Void> setPaused(String name, boolean paused) {
    return onContext(() -> require(name).config()).map(w -> {
      put(w.withPaused(paused));
      return null;
    });
  }

  public Future<Boolean> exists(String name) {
    return onContext(() -> dispatchers.containsKey(name));
  }

  /** This node's dead-letter list of an endpoint. */
  public Future<List<JsonNode>> deadLetters(String name) {
    return onContext(() -> require(name)).compose(WebhookDispatcher::deadLetters);
  }

  /** Re-queues this node's dead letters of an endpoint; completes with how many. */
  public Future<Integer> replay(String name) {
    return onContext(() -> require(name)).compose(WebhookDispatcher::replay);
  }

  // ------------------------------------------------------------------ internals (on the context)

  private WebhookDispatcher require(String name) {
    WebhookDispatcher d = dispatchers.get(name);
    if (d == null) {
      throw OciError.NOT_FOUND.with("no webhook endpoint named " + name);
    }
    return d;
  }

  private boolean inFile(String name) {
    return fromFile.stream().anyMatch(w -> w.name().equals(name));
  }

  /** Runs {@code op} once every change queued before it is done, whatever their outcome. */
  private <T> Future<T> enqueue(java.util.function.Supplier<Future<T>> op) {
    Future<T> result = queue.transform(x -> {
      try {
        return op.get();
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    });
    queue = result.<Void>mapEmpty().otherwiseEmpty();
    return result;
  }

  /** Creates the dispatchers of the file's endpoints and of the API ones this node saved. */
  private Future<Void> load() {
    record Loaded(List<WebhookDispatcher> dispatchers, Map<String, Long> revisions) {}
    return vertx.executeBlocking(() -> {
      Files.createDirectories(dir);
      List<WebhookConfig> all = new ArrayList<>(fromFile);
      Map<String, Long> saved = new TreeMap<>();
      try (var list = Files.list(dir)) {
        for (Path d : list.toList()) {
          Path f = d.resolve("endpoint.json");
          if (Files.exists(f) && !inFile(d.getFileName().toString())) {
            ObjectNode o = (ObjectNode) EventFormat.JSON.readTree(Files.readAllBytes(f));
            long revision = o.path("revision").asLong(0);
            o.remove("revision");
            WebhookConfig w = ConfigLoader.webhook(o);
            all.add(w);
            saved.put(w.name(), revision);
          }
        }
      }
      List<WebhookDispatcher> loaded = new ArrayList<>();
      for (WebhookConfig w : all) {
        WebhookDispatcher d = new WebhookDispatcher(vertx, journal, http, dir.resolve(w.name()), w, targets);
        d.load();
        loaded.add(d);
      }
      return new Loaded(loaded, saved);
    }, false).map(loaded -> {
      loaded.revisions().forEach(revisions::put);
      loaded.dispatchers().forEach(d -> dispatchers.put(d.config().name(), d));
      this.loaded = true;
      dispatchers.values().forEach(WebhookDispatcher::poke);
      return null;
    });
  }

  /**
   * Makes the cluster's API-managed endpoints this node's: creates and updates them, removes the
   * API ones the cluster no longer has. {@code null} (no synced node answered): keeps what is saved.
   */
  private Future<Void> adopt(List<WebhookSync.Entry> snapshot) {
    if (snapshot == null) {
      return Future.succeededFuture();
    }
    Map<String, WebhookSync.Entry> wanted = new TreeMap<>();
    snapshot.stream().filter(e -> !inFile(e.endpoint().name())).forEach(e -> wanted.put(e.endpoint().name(), e));
    Future<Void> done = Future.succeededFuture();
    for (String name : revisions.names()) {
      if (!wanted.containsKey(name) && !inFile(name)) {
        long revision = revisions.of(name);
        done = done.compose(v -> remove(name, revision));
      }
    }
    for (WebhookSync.Entry e : wanted.values()) {
      WebhookDispatcher held = dispatchers.get(e.endpoint().name());
      if (held == null || !held.config().equals(e.endpoint()) || revisions.of(e.endpoint().name()) != e.revision()) {
        done = done.compose(v -> install(e.endpoint(), e.revision()));
      }
    }
    return done.onSuccess(v -> LOG.log(System.Logger.Level.INFO, "webhook endpoints synced from the cluster: "
        + wanted.keySet()));
  }

  /** The API-managed endpoints this node holds, for a snapshot request. */
  private List<WebhookSync.Entry> snapshot() {
    List<WebhookSync.Entry> out = new ArrayList<>();
    for (String name : revisions.names()) {
      WebhookDispatcher d = dispatchers.get(name);
      if (d != null) {
        out.add(new WebhookSync.Entry(d.config(), revisions.of(name)));
      }
    }
    return out;
  }

  /** Applies one change message if it is newer than what this node holds. */
  Future<Void> apply(String json) {
    try {
      JsonNode change = EventFormat.JSON.readTree(json);
      String op = change.path("op").asText();
      long revision = change.path("revision").asLong(0);
      switch (op) {
        case "put" -> {
          WebhookConfig w = ConfigLoader.webhook(change.get("endpoint"));
          WebhookDispatcher held = dispatchers.get(w.name());
          if (revisions.putWins(w.name(), revision, toJson(w, true).toString(),
              held == null ? null : toJson(held.config(), true).toString())) {
            return install(w, revision);
          }
        }
        case "delete" -> {
          String name = change.path("name").asText();
          if (revisions.deleteWins(name, revision)) {
            return remove(name, revision);
          }
        }
        default -> LOG.log(System.Logger.Level.WARNING, "unknown webhook change " + op);
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "ignoring a malformed webhook change", e);
    }
    return Future.succeededFuture();
  }

  /** Creates, replaces, pauses or resumes an endpoint at {@code revision}, and saves it. */
  private Future<Void> install(WebhookConfig w, long revision) {
    revisions.put(w.name(), revision);
    Path d = dir.resolve(w.name());
    ObjectNode saved = toJson(w, true).put("revision", revision);
    byte[] bytes = saved.toString().getBytes(StandardCharsets.UTF_8);
    WebhookDispatcher old = dispatchers.get(w.name());
    if (old != null && old.config().withPaused(w.paused()).equals(w)) { // same endpoint: keep its dispatcher
      old.setPaused(w.paused());
      return vertx.executeBlocking(() -> {
        Fs.writeAtomic(d.resolve("endpoint.json"), bytes);
        return null;
      }, false);
    }
    Future<Void> stopped = Future.succeededFuture();
    if (old != null) {
      // the journal stays pinned where it stood until the replacement has loaded that position
      pinned.put(w.name(), old.savedPosition());
      dispatchers.remove(w.name());
      stopped = old.stop(); // its saved position is where the replacement starts
    }
    return stopped.otherwiseEmpty().compose(v -> vertx.executeBlocking(() -> {
      Files.createDirectories(d);
      Fs.writeAtomic(d.resolve("endpoint.json"), bytes);
      WebhookDispatcher nd = new WebhookDispatcher(vertx, journal, http, d, w, targets);
      nd.load();
      return nd;
    }, false)).onSuccess(nd -> {
      dispatchers.put(w.name(), nd);
      pinned.remove(w.name());
      nd.poke();
    }).onFailure(e -> LOG.log(System.Logger.Level.ERROR, "could not add webhook " + w.name(), e)).mapEmpty();
  }

  /** Removes an endpoint and its saved state (position, dead letters). */
  private Future<Void> remove(String name, long revision) {
    revisions.delete(name, revision);
    pinned.remove(name);
    WebhookDispatcher old = dispatchers.remove(name);
    if (old == null) {
      return Future.succeededFuture();
    }
    old.discard();
    return vertx.executeBlocking(() -> {
      Fs.deleteTree(dir.resolve(name));
      return null;
    }, false);
  }

  /**
   * Another reader of the journal (the Kafka sink): trimming waits for it too. While
   * {@code position} answers {@code null} (the reader has not loaded its saved position yet),
   * nothing is trimmed.
   */
  public void addReader(java.util.function.Supplier<EventJournal.Position> position) {
    otherReaders.add(position);
  }

  /**
   * Deletes journal segments every endpoint (and every other reader) has delivered. A reader whose
   * position is not known (endpoints not loaded yet, a reader not started, a position not loaded)
   * blocks trimming; an endpoint being replaced pins the journal at its saved position. On the context.
   */
  Future<Void> trim() {
    if (!loaded) {
      return Future.succeededFuture();
    }
    List<EventJournal.Position> positions = new ArrayList<>(pinned.values());
    otherReaders.forEach(r -> positions.add(r.get()));
    dispatchers.values().forEach(d -> positions.add(d.savedPosition()));
    EventJournal.Position min = journal.end();
    for (EventJournal.Position c : positions) {
      if (c == null) {
        return Future.succeededFuture(); // a reader whose position is unknown: it may need anything
      }
      if (c.seq() < min.seq()) {
        min = c;
      }
    }
    EventJournal.Position upTo = min;
    return vertx.executeBlocking(() -> {
      journal.trimBefore(upTo);
      return null;
    }, false);
  }

  /** Runs {@code f} on this service's context (where the endpoint map lives). */
  private <T> Future<T> onContext(java.util.function.Supplier<T> f) {
    io.vertx.core.Promise<T> p = io.vertx.core.Promise.promise();
    context.runOnContext(v -> {
      try {
        p.complete(f.get());
      } catch (RuntimeException e) {
        p.fail(e);
      }
    });
    return p.future();
  }

  /** An endpoint as JSON; the secret only for this node's own files, never for API answers. */
  static ObjectNode toJson(WebhookConfig w, boolean withSecret) {
    ObjectNode o = EventFormat.JSON.createObjectNode();
    o.put("name", w.name()).put("url", w.url());
    ObjectNode h = o.putObject("headers");
    w.headers().forEach(h::put);
    o.put("timeout", ms(w.timeout())).put("backoff", ms(w.backoff())).put("maxBackoff", ms(w.maxBackoff()))
        .put("maxAttempts", w.maxAttempts()).put("maxAge", ms(w.maxAge()));
    w.actions().forEach(o.putArray("actions")::add);
    w.mediaTypes().forEach(o.putArray("mediaTypes")::add);
    o.put("repositories", w.repositories()).put("format", w.format()).put("batchSize", w.batchSize())
        .put("paused", w.paused());
    if (withSecret) {
      o.put("secret", w.secret());
    } else {
      o.put("signed", !w.secret().isEmpty());
    }
    return o;
  }

  private static String ms(Duration d) {
    return d.toMillis() + "ms";
  }
}
