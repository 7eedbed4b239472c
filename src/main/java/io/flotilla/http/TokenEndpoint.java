package io.flotilla.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.auth.AccessPolicy;
import io.flotilla.auth.Authenticator;
import io.flotilla.auth.Grant;
import io.flotilla.auth.Principal;
import io.flotilla.auth.TokenService;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code /auth/token}, the token endpoint of the Docker token flow. {@code GET} with Basic
 * credentials (a password or an API key) or none (anonymous) and {@code scope} parameters answers
 * {@code {"token", "access_token", "expires_in", "issued_at"}} with a signed token granting what
 * was asked for and the policies allow, nothing more (possibly nothing). {@code POST} takes the
 * OAuth2 password grant form ({@code grant_type=password}, {@code username}, {@code password},
 * {@code scope}) that some clients use. Wrong credentials answer 401; too many answer 429.
 */
public final class TokenEndpoint implements Handler<HttpServerRequest> {
  public static final String PATH = "/auth/token";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_FORM = 16 * 1024;

  private final Authenticator auth;
  private final AccessPolicy policy;
  private final TokenService tokens;

  public TokenEndpoint(Authenticator auth) {
    this.auth = auth;
    this.policy = auth.policy();
    this.tokens = auth.tokens();
  }

  @Override
  public void handle(HttpServerRequest request) {
    String address = request.remoteAddress() == null ? "" : request.remoteAddress().hostAddress();
    if (request.method() == HttpMethod.GET) {
      String service = request.getParam("service");
      if (service != null && !service.equals(AccessGate.SERVICE)) {
        ErrorRenderer.render(request.response(), OciError.DENIED.with("unknown service"));
        return;
      }
      request.pause();
      respond(request, auth.login(request.getHeader("Authorization"), address), request.params().getAll("scope"));
    } else if (request.method() == HttpMethod.POST) {
      String length = request.getHeader("Content-Length");
      if (length == null || !length.matches("\\d{1,5}") || Integer.parseInt(length) > MAX_FORM) {
        request.response().putHeader("Connection", "close");
        ErrorRenderer.render(request.response(), OciError.UNSUPPORTED.with("a form of at most 16 KiB is required"));
        return;
      }
      request.setExpectMultipart(true);
      request.end().onComplete(ar -> {
        if (ar.failed()) {
          ErrorRenderer.render(request.response(), OciError.UNSUPPORTED.with("unreadable form"));
          return;
        }
        MultiMap form = request.formAttributes();
        if (!"password".equals(form.get("grant_type")) || form.get("username") == null || form.get("password") == null) {
          ErrorRenderer.render(request.response(), OciError.UNSUPPORTED.with("only grant_type=password is supported"));
          return;
        }
        String basic = "Basic " + Base64.getEncoder().encodeToString(
            (form.get("username") + ":" + form.get("password")).getBytes(StandardCharsets.UTF_8));
        List<String> scopes = new ArrayList<>(form.getAll("scope"));
        respond(request, auth.login(basic, address), scopes);
      });
    } else {
      ErrorRenderer.render(request.response(), OciError.UNSUPPORTED.with(request.method() + " is not supported here"));
    }
  }

  private void respond(HttpServerRequest request, Future<Principal> login, List<String> scopes) {
    login.onComplete(ar -> {
      if (ar.failed()) {
        ErrorRenderer.render(request.response(), ar.cause());
      } else {
        TokenService.Issued issued = tokens.issue(ar.result().name(), granted(ar.result(), scopes));
        ObjectNode body = JSON.createObjectNode().put("token", issued.token()).put("access_token", issued.token())
            .put("expires_in", issued.expiresInSeconds()).put("issued_at", issued.issuedAt());
        request.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
            .end(body.toString());
      }
      request.resume();
    });
  }

  /** What the token grants: each requested scope cut down to what the policies allow the principal. */
  List<Grant> granted(Principal p, List<String> scopes) {
    List<Grant> out = new ArrayList<>();
    for (Grant g : Grant.parseScopes(scopes)) {
      if (g.equals(Grant.CATALOG)) {
        out.add(g);
        continue;
      }
      Set<String> may = Grant.tokenActions(policy.allowed(p, g.name()));
      Set<String> give = new LinkedHashSet<>(g.actions().contains("*") ? may : g.actions());
      give.retainAll(may);
      if (!give.isEmpty()) {
        out.add(new Grant("repository", g.name(), give));
      }
    }
    return out;
  }
}
