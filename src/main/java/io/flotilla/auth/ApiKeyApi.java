package io.flotilla.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /api/v1/apikeys}: {@code POST} creates a key for the caller (an admin may name another
 * {@code user}) and answers it once, {@code GET} lists the caller's keys (an admin's: everyone's, or
 * {@code ?user=}'s) without secret or hash, {@code DELETE /{id}} revokes one (the caller's own, or
 * any for an admin; someone else's is answered 404 as if it did not exist). The caller is the
 * {@link Principal} the HTTP layer put under {@link Principal#KEY}; anonymous callers get 401.
 * With access control off there are no users to own keys: every route answers 404 with
 * {@code "access control is off"}.
 */
public final class ApiKeyApi {
  static final String BASE = "/api/v1/apikeys";
  private static final Pattern DURATION = Pattern.compile("([1-9][0-9]{0,4})([mhd])");
  private static final System.Logger LOG = System.getLogger(ApiKeyApi.class.getName());

  private ApiKeyApi() {}

  /**
   * Adds the routes to {@code router}.
   *
   * @param enabled whether access control is on ({@code config.auth().enabled()})
   */
  public static void mount(Router router, ApiKeyReplication keys, boolean enabled) {
    router.route(BASE + "*").handler(BodyHandler.create().setBodyLimit(16 * 1024));
    router.route(BASE + "*").handler(rc -> {
      if (!enabled) {
        error(rc, 404, "access control is off: API keys need auth to be configured");
      } else if (!caller(rc).authenticated()) {
        rc.response().putHeader("WWW-Authenticate", "Basic realm=\"flotilla\"");
        error(rc, 401, "authentication required");
      } else {
        rc.next();
      }
    });
    router.post(BASE).handler(rc -> create(rc, keys));
    router.get(BASE).handler(rc -> list(rc, keys.keys()));
    router.delete(BASE + "/:id").handler(rc -> revoke(rc, keys));
  }

  private static void create(RoutingContext rc, ApiKeyReplication keys) {
    Principal p = caller(rc);
    String name;
    String user;
    long expires;
    try {
      JsonObject body = rc.body().asJsonObject();
      if (body == null) {
        throw new IllegalStateException("no body");
      }
      name = body.getString("name");
      String asked = body.getString("user");
      user = asked == null ? p.name() : asked;
      expires = expiry(body.getString("expiresIn"));
    } catch (IllegalArgumentException e) {
      error(rc, 400, e.getMessage());
      return;
    } catch (RuntimeException e) { // not JSON, not an object, a field that is not a string
      error(rc, 400, "the body must be a JSON object like {\"name\": \"ci\", \"expiresIn\": \"30d\"}");
      return;
    }
    if (name == null) {
      error(rc, 400, "name is required");
      return;
    }
    if (!user.equals(p.name()) && !p.admin()) {
      error(rc, 403, "only an admin may create a key for another user");
      return;
    }
    keys.create(user, name, expires).onComplete(ar -> {
      if (ar.failed()) {
        fail(rc, ar.cause());
        return;
      }
      ApiKeys.Created c = ar.result();
      JsonObject out = describe(c.apiKey()).put("key", c.key());
      out.remove("revoked");
      out.remove("status");
      rc.response().setStatusCode(201).putHeader("Content-Type", "application/json")
          .putHeader("Cache-Control", "no-store").end(out.encode());
    });
  }

  private static void list(RoutingContext rc, ApiKeys keys) {
    Principal p = caller(rc);
    String user = rc.request().getParam("user");
    List<ApiKey> list;
    if (p.admin()) {
      list = user == null ? keys.listAll() : keys.list(user);
    } else if (user == null || user.equals(p.name())) {
      list = keys.list(p.name());
    } else {
      error(rc, 403, "only an admin may list another user's keys");
      return;
    }
    JsonArray out = new JsonArray();
    list.forEach(k -> out.add(describe(k)));
    rc.response().setStatusCode(200).putHeader("Content-Type", "application/json").end(out.encode());
  }

  private static void revoke(RoutingContext rc, ApiKeyReplication keys) {
    Principal p = caller(rc);
    String id = rc.pathParam("id");
    boolean visible = keys.keys().get(id).map(k -> p.admin() || k.user().equals(p.name())).orElse(false);
    if (!visible) {
      error(rc, 404, "no such API key");
      return;
    }
    keys.revoke(id, System.currentTimeMillis()).onComplete(ar -> {
      if (ar.failed()) {
        fail(rc, ar.cause());
      } else {
        rc.response().setStatusCode(204).end();
      }
    });
  }

  /** Epoch milliseconds {@code expiresIn} from now ({@code 90m}, {@code 12h}, {@code 30d}), or 0 for none. */
  static long expiry(String expiresIn) {
    if (expiresIn == null) {
      return 0;
    }
    Matcher m = DURATION.matcher(expiresIn);
    if (!m.matches()) {
      throw new IllegalArgumentException("expiresIn must be a number of minutes, hours or days, like 90m, 12h or 30d");
    }
    long unit = switch (m.group(2)) {
      case "m" -> 60_000L;
      case "h" -> 3_600_000L;
      default -> 86_400_000L;
    };
    return System.currentTimeMillis() + Long.parseLong(m.group(1)) * unit;
  }

  private static JsonObject describe(ApiKey k) {
    long now = System.currentTimeMillis();
    return new JsonObject().put("id", k.id()).put("user", k.user()).put("name", k.name())
        .put("created", Instant.ofEpochMilli(k.createdMillis()).toString())
        .put("expires", k.expiresMillis() == 0 ? null : Instant.ofEpochMilli(k.expiresMillis()).toString())
        .put("revoked", k.revokedMillis() == 0 ? null : Instant.ofEpochMilli(k.revokedMillis()).toString())
        .put("status", k.revokedMillis() != 0 ? "revoked" : k.live(now) ? "live" : "expired");
  }

  private static Principal caller(RoutingContext rc) {
    Principal p = rc.get(Principal.KEY);
    return p == null ? Principal.NOBODY : p;
  }

  private static void fail(RoutingContext rc, Throwable e) {
    if (e instanceof IllegalArgumentException) {
      error(rc, 400, e.getMessage());
    } else if (e instanceof ApiKeys.LimitException) {
      error(rc, 409, e.getMessage());
    } else {
      LOG.log(System.Logger.Level.ERROR, "API key request failed", e);
      error(rc, 500, "internal error");
    }
  }

  private static void error(RoutingContext rc, int status, String message) {
    rc.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }
}
