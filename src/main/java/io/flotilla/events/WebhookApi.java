package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.config.ConfigException;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.WebhookConfig;
import io.flotilla.oci.OciException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * {@code /api/v1/webhooks}: list, create ({@code POST}), replace ({@code PUT /{name}}), show,
 * delete, pause and resume endpoints; list and replay an endpoint's dead letters; each endpoint's
 * delivery status and recent attempts. Changes apply on every node; statuses and dead letters are
 * this node's (each node delivers the events it emitted). Secrets are accepted, never returned. An
 * endpoint whose host is a private target ({@link WebhookTargets}) is refused with 400.
 */
public final class WebhookApi {
  private WebhookApi() {}

  /** Adds the routes to {@code router}. */
  public static void mount(Vertx vertx, Router router, Webhooks webhooks) {
    String base = "/api/v1/webhooks";
    router.route(base + "*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
    router.get(base).handler(rc -> answer(rc, 200, webhooks.list().map(list -> {
      ArrayNode out = EventFormat.JSON.createArrayNode();
      list.forEach(s -> out.add((JsonNode) EventFormat.JSON.valueToTree(s)));
      return out;
    })));
    router.post(base).handler(rc -> create(rc, webhooks, null));
    router.put(base + "/:name").handler(rc -> create(rc, webhooks, rc.pathParam("name")));
    router.get(base + "/:name").handler(rc -> answer(rc, 200, webhooks.get(rc.pathParam("name"))
        .map(s -> (JsonNode) EventFormat.JSON.valueToTree(s))));
    router.delete(base + "/:name").handler(rc -> answer(rc, 202, webhooks.get(rc.pathParam("name")).map(s -> {
      webhooks.delete(s.name());
      return EventFormat.JSON.createObjectNode().put("deleted", s.name());
    })));
    for (String op : new String[] {"pause", "resume"}) {
      router.post(base + "/:name/" + op).handler(rc -> answer(rc, 202,
          webhooks.setPaused(rc.pathParam("name"), op.equals("pause")).map(v -> EventFormat.JSON.createObjectNode()
              .put(op.equals("pause") ? "paused" : "resumed", rc.pathParam("name")))));
    }
    router.get(base + "/:name/dead-letters").handler(rc -> answer(rc, 200,
        webhooks.deadLetters(rc.pathParam("name")).map(list -> {
          ArrayNode out = EventFormat.JSON.createArrayNode();
          list.forEach(out::add);
          return out;
        })));
    router.post(base + "/:name/dead-letters/replay").handler(rc -> answer(rc, 202,
        webhooks.replay(rc.pathParam("name")).map(n -> EventFormat.JSON.createObjectNode().put("queued", n))));
  }

  private static void create(RoutingContext rc, Webhooks webhooks, String name) {
    WebhookConfig w;
    try {
      JsonNode body = EventFormat.JSON.readTree(rc.body().asString());
      if (name != null && body instanceof ObjectNode o) {
        if (o.has("name") && !o.get("name").asText().equals(name)) {
          throw new ConfigException("name", "does not match the path");
        }
        o.put("name", name);
      }
      w = ConfigLoader.webhook(body);
    } catch (ConfigException e) {
      error(rc, 400, e.getMessage());
      return;
    } catch (Exception e) {
      error(rc, 400, "the body must be a JSON endpoint: " + e.getMessage());
      return;
    }
    WebhookConfig endpoint = w;
    // the host may need resolving: off the event loop
    rc.vertx().executeBlocking(() -> webhooks.targets().atCreation(endpoint.url()), false).onComplete(ar -> {
      if (ar.failed()) {
        error(rc, 500, String.valueOf(ar.cause().getMessage()));
      } else if (ar.result() != null) {
        error(rc, 400, ar.result());
      } else {
        webhooks.put(endpoint);
        ObjectNode out = EventFormat.JSON.createObjectNode();
        out.set("endpoint", Webhooks.toJson(endpoint, false));
        json(rc, name == null ? 201 : 200, out);
      }
    });
  }

  private static void answer(RoutingContext rc, int status, Future<? extends JsonNode> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        json(rc, status, ar.result());
      } else if (ar.cause() instanceof OciException e) {
        error(rc, e.status(), e.detail());
      } else {
        error(rc, 500, String.valueOf(ar.cause().getMessage()));
      }
    });
  }

  private static void error(RoutingContext rc, int status, String message) {
    json(rc, status, EventFormat.JSON.createObjectNode().put("error", message));
  }

  private static void json(RoutingContext rc, int status, JsonNode body) {
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toString());
  }
}
