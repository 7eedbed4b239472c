package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.WebhookConfig;
import io.flotilla.oci.OciError;
import io.flotilla.storage.Fs;
import io.vertx.core.Context;
import io.vertx.core.Future;
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
 * each node keeps them on its disk ({@code events/webhooks/<name>/endpoint.json}) so they survive a
 * restart. Also trims the journal behind the slowest endpoint. Runs on one Vert.x context.
 */
public final class Webhooks {
  /** Cluster-wide address of endpoint changes: JSON {@code {"op":"put"|"delete"|"pause"|"resume", ...}}. */
  public static final String CHANGES = "flotilla.webhooks.changes";
  private static final System.Logger LOG = System.getLogger(Webhooks.class.getName());

  private final Vertx vertx;
  private final EventJournal journal;
  private final java.util.function.Supplier<HttpClient> http;
  private final Path dir;
  private final List<WebhookConfig> fromFile;
  private final Map<String, WebhookDispatcher> dispatchers = new TreeMap<>();
  private final List<java.util.function.Supplier<EventJournal.Position>> otherReaders =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private Context context;
  private MessageConsumer<String> changes;
  private long trimTimer = -1;

  /** @param http makes an HTTP client for an endpoint */
  public Webhooks(Vertx vertx, EventJournal journal, java.util.function.Supplier<HttpClient> http, Path dir,
      List<WebhookConfig> fromFile) {
    this.vertx = vertx;
    this.journal = journal;
    this.http = http;
    this.dir = dir;
    this.fromFile = List.copyOf(fromFile);
  }

  /** Loads endpoints (file, then saved API ones) and starts delivering; call on the context to run on. */
  public Future<Void> start() {
    context = vertx.getOrCreateContext();
    journal.onAppended(() -> context.runOnContext(v -> dispatchers.values().forEach(WebhookDispatcher::poke)));
    changes = vertx.eventBus().consumer(CHANGES, msg -> apply(msg.body()));
    trimTimer = vertx.setPeriodic(10_000, t -> trim());
    return vertx.executeBlocking(() -> {
      Files.createDirectories(dir);
      List<WebhookConfig> all = new ArrayList<>(fromFile);
      try (var list = Files.list(dir)) {
        for (Path d : list.toList()) {
          Path f = d.resolve("endpoint.json");
          if (Files.exists(f) && fromFile.stream().noneMatch(w -> w.name().equals(d.getFileName().toString()))) {
            all.add(ConfigLoader.webhook(EventFormat.JSON.readTree(Files.readAllBytes(f))));
          }
        }
      }
      List<WebhookDispatcher> loaded = new ArrayList<>();
      for (WebhookConfig w : all) {
        WebhookDispatcher d = new WebhookDispatcher(vertx, journal, http, dir.resolve(w.name()), w);
        d.load();
        loaded.add(d);
      }
      return loaded;
    }, false).compose(loaded -> changes.completion().map(v -> {
      loaded.forEach(d -> dispatchers.put(d.config().name(), d));
      dispatchers.values().forEach(WebhookDispatcher::poke);
      return null;
    }));
  }

  public void stop() {
    if (trimTimer >= 0) {
      vertx.cancelTimer(trimTimer);
    }
    if (changes != null) {
      changes.unregister();
    }
    dispatchers.values().forEach(WebhookDispatcher::stop);
  }

  // ------------------------------------------------------------------ API (any thread)

  public Future<List<WebhookDispatcher.Status>> list() {
    return onContext(() -> dispatchers.values().stream().map(WebhookDispatcher::status).toList());
  }

  public Future<WebhookDispatcher.Status> get(String name) {
    return onContext(() -> require(name).status());
  }

  /** Creates or replaces an endpoint on every node. */
  public void put(WebhookConfig w) {
    ObjectNode change = EventFormat.JSON.createObjectNode().put("op", "put");
    change.set("endpoint", toJson(w, true));
    vertx.eventBus().publish(CHANGES, change.toString());
  }

  public void delete(String name) {
    vertx.eventBus().publish(CHANGES, EventFormat.JSON.createObjectNode().put("op", "delete").put("name", name).toString());
  }

  public void setPaused(String name, boolean paused) {
    vertx.eventBus().publish(CHANGES, EventFormat.JSON.createObjectNode().put("op", paused ? "pause" : "resume")
        .put("name", name).toString());
  }

  public Future<Boolean> exists(String name) {
    return onContext(() -> dispatchers.containsKey(name));
  }

  /** This node's dead-letter list of an endpoint. */
  public Future<List<JsonNode>> deadLetters(String name) {
    return onContext(() -> require(name)).compose(d -> vertx.executeBlocking(d::deadLetters, false));
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

  private void apply(String json) {
    try {
      JsonNode change = EventFormat.JSON.readTree(json);
      String op = change.path("op").asText();
      switch (op) {
        case "put" -> {
          WebhookConfig w = ConfigLoader.webhook(change.get("endpoint"));
          WebhookDispatcher old = dispatchers.remove(w.name());
          if (old != null) {
            old.stop();
          }
          Path d = dir.resolve(w.name());
          vertx.executeBlocking(() -> {
            Files.createDirectories(d);
            Fs.writeAtomic(d.resolve("endpoint.json"), toJson(w, true).toString().getBytes(StandardCharsets.UTF_8));
            WebhookDispatcher nd = new WebhookDispatcher(vertx, journal, http, d, w);
            nd.load();
            return nd;
          }, false).onSuccess(nd -> {
            dispatchers.put(w.name(), nd);
            nd.poke();
          }).onFailure(e -> LOG.log(System.Logger.Level.ERROR, "could not add webhook " + w.name(), e));
        }
        case "delete" -> {
          WebhookDispatcher old = dispatchers.remove(change.path("name").asText());
          if (old != null) {
            old.stop();
            vertx.executeBlocking(() -> {
              Fs.deleteTree(dir.resolve(old.config().name()));
              return null;
            }, false);
          }
        }
        case "pause", "resume" -> {
          WebhookDispatcher d = dispatchers.get(change.path("name").asText());
          if (d != null) {
            d.setPaused(op.equals("pause"));
            WebhookConfig w = d.config();
            vertx.executeBlocking(() -> {
              Fs.writeAtomic(dir.resolve(w.name()).resolve("endpoint.json"),
                  toJson(w, true).toString().getBytes(StandardCharsets.UTF_8));
              return null;
            }, false);
          }
        }
        default -> LOG.log(System.Logger.Level.WARNING, "unknown webhook change " + op);
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "ignoring a malformed webhook change", e);
    }
  }

  /** Another reader of the journal (the Kafka sink): trimming waits for it too. */
  public void addReader(java.util.function.Supplier<EventJournal.Position> position) {
    otherReaders.add(position);
  }

  /** Deletes journal segments every endpoint (and every other reader) has delivered. */
  private void trim() {
    EventJournal.Position min = journal.end();
    for (var reader : otherReaders) {
      EventJournal.Position c = reader.get();
      if (c != null && c.seq() < min.seq()) {
        min = c;
      }
    }
    for (WebhookDispatcher d : dispatchers.values()) {
      EventJournal.Position c = d.cursor();
      if (c != null && c.seq() < min.seq()) {
        min = c;
      }
    }
    EventJournal.Position upTo = min;
    vertx.executeBlocking(() -> {
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
