package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.WebhookConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The bus side of a starting node's catch-up on the API-managed webhook endpoints: asks a synced
 * node for the cluster's endpoint set on {@link Webhooks#SNAPSHOT} ({@link #fetch}) and, once this
 * node is synced itself, answers such requests ({@link #serve}). Holds no endpoint state; the
 * snapshot's JSON schema is documented on {@link Webhooks#SNAPSHOT}.
 */
final class WebhookSync {
  /** Requests before giving up when nodes are there but do not answer in time. */
  static final int ATTEMPTS = 3;
  private static final System.Logger LOG = System.getLogger(WebhookSync.class.getName());

  /** One API-managed endpoint of a snapshot: its full configuration (secret, paused) and revision. */
  record Entry(WebhookConfig endpoint, long revision) {}

  private final Vertx vertx;
  private MessageConsumer<String> responder;

  WebhookSync(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * The cluster's API-managed endpoints, or {@code null} when no synced node answers: none has
   * registered ({@code NO_HANDLERS}: this is the first node) or none answered in
   * {@link #ATTEMPTS} tries; the node then keeps what it saved.
   */
  Future<List<Entry>> fetch() {
    return fetch(1);
  }

  private Future<List<Entry>> fetch(int attempt) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(Webhooks.SNAPSHOT_TIMEOUT.toMillis());
    return vertx.eventBus().<String>request(Webhooks.SNAPSHOT, "{}", options).map(m -> decode(m.body()))
        .recover(e -> {
          if (e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
            LOG.log(System.Logger.Level.INFO, "no synced node in the cluster: keeping the saved webhook endpoints");
            return Future.succeededFuture(null);
          }
          if (attempt < ATTEMPTS) {
            LOG.log(System.Logger.Level.WARNING, "webhook endpoint sync attempt " + attempt + " failed: " + e);
            return fetch(attempt + 1);
          }
          LOG.log(System.Logger.Level.WARNING, "no webhook endpoint snapshot after " + ATTEMPTS
              + " attempts: keeping the saved webhook endpoints (" + e + ")");
          return Future.succeededFuture(null);
        });
  }

  /** Answers snapshot requests from now on with {@code snapshot}'s entries; call on the owner's context. */
  void serve(Supplier<Future<List<Entry>>> snapshot) {
    responder = vertx.eventBus().consumer(Webhooks.SNAPSHOT, msg -> snapshot.get()
        .onSuccess(entries -> msg.reply(encode(entries)))
        .onFailure(e -> msg.fail(500, String.valueOf(e.getMessage()))));
  }

  void stop() {
    if (responder != null) {
      responder.unregister();
    }
  }

  static String encode(List<Entry> entries) {
    ObjectNode out = EventFormat.JSON.createObjectNode();
    ArrayNode list = out.putArray("endpoints");
    for (Entry e : entries) {
      ObjectNode o = list.addObject().put("revision", e.revision());
      o.set("endpoint", Webhooks.toJson(e.endpoint(), true));
    }
    return out.toString();
  }

  /** @throws UncheckedIOException or {@code ConfigException} when the reply is malformed */
  static List<Entry> decode(String json) {
    try {
      JsonNode list = EventFormat.JSON.readTree(json).get("endpoints");
      if (list == null || !list.isArray()) {
        throw new IOException("a webhook snapshot must have an endpoints list");
      }
      List<Entry> out = new ArrayList<>();
      for (JsonNode e : list) {
        out.add(new Entry(ConfigLoader.webhook(e.get("endpoint")), e.path("revision").asLong()));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
