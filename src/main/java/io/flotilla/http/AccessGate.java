package io.flotilla.http;

import io.flotilla.auth.AccessPolicy;
import io.flotilla.auth.Action;
import io.flotilla.auth.Authenticator;
import io.flotilla.auth.Caller;
import io.flotilla.auth.Grant;
import io.flotilla.auth.Principal;
import io.flotilla.oci.AuthChallenge;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.util.Set;

/**
 * Access control in front of the distribution API: authenticates the request ({@link Authenticator})
 * and decides, from the route, the method and the policies, whether the caller may go on. It
 * answers a caller without (enough) credentials with a 401 carrying the Bearer challenge the
 * Docker token flow starts from, and an authenticated caller the policies refuse with 403 DENIED.
 * The decision depends only on the name and the policies, never on whether the repository exists,
 * so a repository the caller may not read answers the same whether it exists or not.
 */
final class AccessGate {
  /** What the gate lets through: who the caller is, and whether a requested cross-repository mount may read its source. */
  record Admitted(Principal principal, boolean mountAllowed) {}

  static final String SERVICE = "flotilla";

  private final Authenticator auth;
  private final AccessPolicy policy;
  private final RegistryStorage storage;
  private final boolean tls;

  AccessGate(Authenticator auth, RegistryStorage storage, boolean tls) {
    this.auth = auth;
    this.policy = auth.policy();
    this.storage = storage;
    this.tls = tls;
  }

  Future<Admitted> admit(HttpServerRequest request, V2Route route, String address) {
    return auth.authenticate(request.getHeader("Authorization"), address)
        .recover(err -> Future.failedFuture(err instanceof OciException e && e.error() == OciError.UNAUTHORIZED
            && !(e instanceof AuthChallenge) ? challenge(request, null, e.detail()) : err))
        .compose(caller -> decide(request, route, caller));
  }

  private Future<Admitted> decide(HttpServerRequest request, V2Route route, Caller caller) {
    Principal p = caller.principal();
    HttpMethod m = request.method();
    switch (route.kind()) {
      case BASE:
        return p.authenticated() ? ok(p) : Future.failedFuture(challenge(request, null, "authentication required"));
      case UNKNOWN:
        return ok(p);
      case EXTENSION:
        // valid credentials or none: what each caller sees is filtered by the extension (search) itself
        return ok(p);
      case CATALOG:
        if (caller.bearer() && !caller.token().grantsCatalog()) {
          return Future.failedFuture(challenge(request, "registry:catalog:*", "the token does not grant the catalog"));
        }
        return ok(p);
      default:
        break;
    }
    String name;
    try {
      name = RepositoryName.of(route.name()).value();
    } catch (OciException e) {
      // no name to scope a challenge to: an anonymous caller learns nothing before it authenticates
      return Future.failedFuture(p.authenticated() ? e : challenge(request, null, "authentication required"));
    }
    Set<Action> allowed = policy.allowed(p, name);
    switch (route.kind()) {
      case TAGS, REFERRERS:
        return require(request, caller, name, allowed, Action.READ).map(v -> new Admitted(p, false));
      case BLOB:
        return require(request, caller, name, allowed, m == HttpMethod.DELETE ? Action.DELETE : Action.READ)
            .map(v -> new Admitted(p, false));
      case UPLOADS, UPLOAD:
        return requirePush(request, caller, name, allowed).map(v -> new Admitted(p, mountAllowed(request, caller)));
      case MANIFEST:
        if (m == HttpMethod.PUT) {
          return manifestPut(request, caller, name, allowed, route.ref()).map(v -> new Admitted(p, false));
        }
        return require(request, caller, name, allowed, m == HttpMethod.DELETE ? Action.DELETE : Action.READ)
            .map(v -> new Admitted(p, false));
      default:
        return ok(p);
    }
  }

  /** A tag that exists needs {@code update}, a new tag or a digest needs {@code create}. */
  private Future<Void> manifestPut(HttpServerRequest request, Caller caller, String name, Set<Action> allowed,
      String ref) {
    Future<Void> push = requirePush(request, caller, name, allowed);
    boolean create = allowed.contains(Action.CREATE);
    boolean update = allowed.contains(Action.UPDATE);
    if (push.failed() || (create && update)) {
      return push;
    }
    Reference reference;
    try {
      reference = Reference.parse(ref);
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
    if (reference.isDigest()) {
      return create ? push : denied(name, "pushing a new manifest needs create");
    }
    return storage.getManifest(RequestContext.internal("access-check"), name, ref).transform(ar -> {
      boolean exists = ar.succeeded();
      if (ar.failed() && !(ar.cause() instanceof OciException e && e.status() == 404)) {
        return Future.failedFuture(ar.cause());
      }
      if (exists && !update) {
        return denied(name, "tag " + ref + " exists: moving it needs update");
      }
      if (!exists && !create) {
        return denied(name, "tag " + ref + " is new: pushing it needs create");
      }
      return Future.succeededFuture();
    });
  }

  private Future<Void> requirePush(HttpServerRequest request, Caller caller, String name, Set<Action> allowed) {
    boolean may = allowed.contains(Action.CREATE) || allowed.contains(Action.UPDATE);
    return check(request, caller, name, may, "push", "pull,push");
  }

  private Future<Void> require(HttpServerRequest request, Caller caller, String name, Set<Action> allowed, Action a) {
    String tokenAction = Grant.tokenAction(a);
    return check(request, caller, name, allowed.contains(a), tokenAction, tokenAction);
  }

  private Future<Void> check(HttpServerRequest request, Caller caller, String name, boolean mayByPolicy,
      String tokenAction, String scopeActions) {
    String scope = "repository:" + name + ":" + scopeActions;
    if (!mayByPolicy) {
      if (!caller.principal().authenticated()) {
        return Future.failedFuture(challenge(request, scope, "authentication required"));
      }
      return denied(name, caller.principal().name() + " may not " + tokenAction + " " + name);
    }
    if (caller.bearer() && !caller.token().grants(name, tokenAction)) {
      return Future.failedFuture(challenge(request, scope, "the token does not grant " + tokenAction + " on " + name));
    }
    return Future.succeededFuture();
  }

  /** A cross-repository mount reads its source: without read there, the upload goes on without mounting. */
  private boolean mountAllowed(HttpServerRequest request, Caller caller) {
    String from = request.getParam("from");
    if (from == null || from.isEmpty()) {
      return true;
    }
    try {
      String source = RepositoryName.of(from).value();
      return policy.may(caller.principal(), source, Action.READ)
          && (!caller.bearer() || caller.token().grants(source, "pull"));
    } catch (OciException e) {
      return false;
    }
  }

  private AuthChallenge challenge(HttpServerRequest request, String scope, String detail) {
    String value = "Bearer realm=\"" + realm(request, tls) + "\",service=\"" + SERVICE + "\""
        + (scope == null ? "" : ",scope=\"" + scope + "\"");
    return new AuthChallenge(detail, value);
  }

  /**
   * The token endpoint's URL as a client of {@code request} reaches it (its Host, or the local
   * address when the Host is absent or odd): the realm of the Bearer challenge.
   */
  static String realm(HttpServerRequest request, boolean tls) {
    var authority = request.authority();
    String host = authority == null ? null
        : authority.host() + (authority.port() > 0 ? ":" + authority.port() : "");
    if (host == null || host.isEmpty() || host.length() > 255 || !host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
      host = request.localAddress() == null ? "localhost"
          : request.localAddress().hostAddress() + ":" + request.localAddress().port();
    }
    return (tls || request.isSSL() ? "https://" : "http://") + host + TokenEndpoint.PATH;
  }

  private static <T> Future<T> denied(String name, String detail) {
    return Future.failedFuture(OciError.DENIED.with(detail));
  }

  private static Future<Admitted> ok(Principal p) {
    return Future.succeededFuture(new Admitted(p, true));
  }
}
