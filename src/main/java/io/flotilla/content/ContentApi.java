package io.flotilla.content;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.auth.Principal;
import io.flotilla.http.ErrorRenderer;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.List;
import java.util.function.Function;

/**
 * The content lifecycle's admin API: {@code /api/v1/remotes}, {@code /api/v1/repositories/{name}}
 * (settings, {@code /versions}, {@code /sync}), {@code /api/v1/publications},
 * {@code /api/v1/distributions} and {@code /api/v1/tasks}. JSON in and out; errors are the registry's
 * error JSON with 400, 404 or 409. Thin: the rules are in {@link ContentService}. Any node answers
 * from its own copy of the objects; a sync is handed to the repository's primary owner.
 */
public final class ContentApi {
  private static final String V1 = "/api/v1";
  private static final String REPO = V1 + "/repositories/(?<name>.+)";

  private ContentApi() {}

  /** Adds the routes to {@code router} (behind its admin gate). */
  public static void mount(Router router, ContentService content) {
    BodyHandler body = BodyHandler.create().setBodyLimit(1024 * 1024);
    router.route(V1 + "/remotes*").handler(body);
    router.routeWithRegex(REPO).handler(body);
    router.route(V1 + "/distributions*").handler(body);
    router.route(V1 + "/tasks*").handler(body);

    router.get(V1 + "/remotes").handler(rc -> ok(rc, 200, Future.succeededFuture(
        list("remotes", content.remotes().stream().map(ContentJson::api).toList()))));
    router.post(V1 + "/remotes").handler(rc -> ok(rc, 201, json(rc).compose(b -> content.putRemote(null, b, true))
        .map(ContentJson::api)));
    router.get(V1 + "/remotes/:name").handler(rc -> ok(rc, 200, found(content.remote(rc.pathParam("name")),
        "no remote " + rc.pathParam("name")).map(ContentJson::api)));
    router.put(V1 + "/remotes/:name").handler(rc -> ok(rc, 200, json(rc)
        .compose(b -> content.putRemote(rc.pathParam("name"), b, false)).map(ContentJson::api)));
    router.delete(V1 + "/remotes/:name").handler(rc -> empty(rc, content.deleteRemote(rc.pathParam("name"))));

    router.getWithRegex(REPO + "/versions/(?<n>[0-9]{1,9})").handler(rc -> ok(rc, 200, found(
        content.version(rc.pathParam("name"), Integer.parseInt(rc.pathParam("n"))),
        "no version " + rc.pathParam("n") + " of " + rc.pathParam("name")).map(v -> ContentJson.api(v, true))));
    router.getWithRegex(REPO + "/versions").handler(rc -> ok(rc, 200, Future.succeededFuture(list("versions",
        content.versions(rc.pathParam("name")).stream().map(v -> ContentJson.api(v, false)).toList()))));
    router.postWithRegex(REPO + "/sync").handler(rc -> json(rc, true)
        .compose(b -> content.sync(rc.pathParam("name"), b, identity(rc)))
        .onComplete(ar -> {
          if (ar.failed()) {
            ErrorRenderer.render(rc.response(), ar.cause());
            return;
          }
          String href = V1 + "/tasks/" + ar.result().id();
          rc.response().setStatusCode(202).putHeader("Location", href).putHeader("Content-Type", "application/json")
              .end(ContentJson.JSON.createObjectNode().put("id", ar.result().id()).put("task", href)
                  .put("node", ar.result().node()).toString());
        }));
    router.getWithRegex(REPO).handler(rc -> ok(rc, 200, found(content.settings(rc.pathParam("name")),
        "no settings for " + rc.pathParam("name"))
        .map(s -> ContentJson.api(s, content.latest(s.name()).orElse(null)))));
    router.putWithRegex(REPO).handler(rc -> ok(rc, 200, json(rc)
        .compose(b -> content.putSettings(rc.pathParam("name"), b))
        .map(s -> ContentJson.api(s, content.latest(s.name()).orElse(null)))));

    router.get(V1 + "/publications").handler(rc -> ok(rc, 200, Future.succeededFuture(list("publications",
        content.publications(rc.request().getParam("repository")).stream().map(ContentJson::api).toList()))));
    router.get(V1 + "/publications/:id").handler(rc -> ok(rc, 200, found(content.publication(rc.pathParam("id")),
        "no publication " + rc.pathParam("id")).map(ContentJson::api)));

    Function<Distribution, JsonNode> dist = d -> ContentJson.api(d, content.served(d).orElse(null));
    router.get(V1 + "/distributions").handler(rc -> ok(rc, 200, Future.succeededFuture(list("distributions",
        content.distributions().stream().map(dist).toList()))));
    router.post(V1 + "/distributions").handler(rc -> ok(rc, 201, json(rc).compose(content::createDistribution)
        .map(dist)));
    router.get(V1 + "/distributions/:name").handler(rc -> ok(rc, 200, found(content.distribution(rc.pathParam("name")),
        "no distribution " + rc.pathParam("name")).map(dist)));
    router.patch(V1 + "/distributions/:name").handler(rc -> ok(rc, 200, json(rc)
        .compose(b -> content.patchDistribution(rc.pathParam("name"), b)).map(dist)));
    router.delete(V1 + "/distributions/:name").handler(rc -> empty(rc,
        content.deleteDistribution(rc.pathParam("name"))));

    router.get(V1 + "/tasks").handler(rc -> ok(rc, 200, Future.succeededFuture(list("tasks",
        content.tasks(rc.request().getParam("state"), rc.request().getParam("repository")).stream()
            .map(ContentJson::api).toList()))));
    router.get(V1 + "/tasks/:id").handler(rc -> ok(rc, 200, found(content.task(rc.pathParam("id")),
        "no task " + rc.pathParam("id")).map(ContentJson::api)));
    router.post(V1 + "/tasks/:id/cancel").handler(rc -> ok(rc, 202,
        content.cancel(rc.pathParam("id"), identity(rc)).map(ContentJson::api)));
  }

  private static ObjectNode list(String field, List<? extends JsonNode> items) {
    ObjectNode o = ContentJson.JSON.createObjectNode();
    ArrayNode a = o.putArray(field);
    items.forEach(a::add);
    return o;
  }

  private static <T> Future<T> found(java.util.Optional<T> value, String detail) {
    return value.map(Future::succeededFuture).orElseGet(() -> Future.failedFuture(OciError.NOT_FOUND.with(detail)));
  }

  private static Future<JsonNode> json(RoutingContext rc) {
    return json(rc, false);
  }

  private static Future<JsonNode> json(RoutingContext rc, boolean emptyAllowed) {
    String text = rc.body() == null ? null : rc.body().asString();
    if (text == null || text.isBlank()) {
      return emptyAllowed ? Future.succeededFuture(ContentJson.JSON.createObjectNode())
          : Future.failedFuture(OciError.INVALID_REQUEST.with("the body must be a JSON object"));
    }
    try {
      return Future.succeededFuture(ContentJson.JSON.readTree(text));
    } catch (Exception e) {
      return Future.failedFuture(OciError.INVALID_REQUEST.with("the body is not JSON: " + e.getMessage()));
    }
  }

  private static String identity(RoutingContext rc) {
    Principal p = rc.get(Principal.KEY);
    return p == null ? "anonymous" : p.name();
  }

  private static void ok(RoutingContext rc, int status, Future<? extends JsonNode> result) {
    Future<? extends JsonNode> safe;
    try {
      safe = result;
    } catch (RuntimeException e) {
      safe = Future.failedFuture(e);
    }
    safe.onComplete(ar -> {
      if (ar.failed()) {
        ErrorRenderer.render(rc.response(), ar.cause());
      } else {
        rc.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(ar.result().toString());
      }
    });
  }

  private static void empty(RoutingContext rc, Future<Void> result) {
    result.onComplete(ar -> {
      if (ar.failed()) {
        ErrorRenderer.render(rc.response(), ar.cause());
      } else {
        rc.response().setStatusCode(204).end();
      }
    });
  }
}
