package io.flotilla.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.OciClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The users and policies the access-control tests share: an admin, alice (everything on
 * {@code team/**}), bob (reads {@code team/**}), robot in group {@code ci} (read and create on
 * {@code ci/**}, no update), and anonymous read on {@code public/**}. Written as an htpasswd file
 * and the flat config keys (or environment variables) of a node.
 */
public final class AuthFixture {
  public static final String POLICIES = "[{\"repositories\":\"team/**\",\"users\":[\"alice\"],"
      + "\"actions\":[\"read\",\"create\",\"update\",\"delete\"]},"
      + "{\"repositories\":\"team/**\",\"users\":[\"bob\"],\"actions\":[\"read\"]},"
      + "{\"repositories\":\"ci/**\",\"groups\":[\"ci\"],\"actions\":[\"read\",\"create\"]},"
      + "{\"repositories\":\"public/**\",\"anonymous\":[\"read\"]}]";
  public static final String GROUPS = "{\"ci\":[\"robot\"]}";
  private static final ObjectMapper JSON = new ObjectMapper();

  private AuthFixture() {}

  /** Writes the htpasswd file (bcrypt cost 4: fast tests) and returns it. */
  public static Path htpasswd(Path dir) {
    try {
      Files.createDirectories(dir);
      StringBuilder b = new StringBuilder();
      for (String user : new String[] {"admin", "alice", "bob", "robot"}) {
        b.append(user).append(':').append(BCrypt.hashpw(user + "-pw", BCrypt.gensalt(4)).replace("$2a$", "$2y$"))
            .append('\n');
      }
      return Files.writeString(dir.resolve("htpasswd"), b.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Flat config keys turning access control on. */
  public static Map<String, String> config(Path htpasswd, int loginFailures) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("auth.htpasswd", htpasswd.toString());
    m.put("auth.admins", "admin");
    m.put("auth.groups", GROUPS);
    m.put("auth.policies", POLICIES);
    m.put("auth.loginFailures", Integer.toString(loginFailures));
    return m;
  }

  /** The same as environment variables of a node process. */
  public static Map<String, String> env(Path htpasswd) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("FLOTILLA_AUTH_HTPASSWD", htpasswd.toString());
    m.put("FLOTILLA_AUTH_ADMINS", "admin");
    m.put("FLOTILLA_AUTH_GROUPS", GROUPS);
    m.put("FLOTILLA_AUTH_POLICIES", POLICIES);
    m.put("FLOTILLA_AUTH_LOGIN_FAILURES", "1000");
    return m;
  }

  public static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** A user's Basic credentials with the fixture's password. */
  public static String basic(String user) {
    return basic(user, user + "-pw");
  }

  /** A bearer token from the node's token endpoint (null user: anonymous). */
  public static String token(String baseUrl, String user, String... scopes) {
    StringBuilder q = new StringBuilder("/auth/token?service=flotilla");
    for (String s : scopes) {
      q.append("&scope=").append(URLEncoder.encode(s, StandardCharsets.UTF_8));
    }
    Map<String, String> h = user == null ? Map.of() : Map.of("Authorization", basic(user));
    var r = new OciClient(baseUrl).get(q.toString(), h);
    OciClient.expect(r, 200);
    try {
      JsonNode body = JSON.readTree(r.body());
      return "Bearer " + body.get("token").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every page of the catalog with page size {@code n}, following Link headers; each page at most n long. */
  public static java.util.List<String> catalog(OciClient c, int n) throws Exception {
    java.util.List<String> out = new java.util.ArrayList<>();
    String next = "/v2/_catalog?n=" + n;
    while (next != null) {
      var r = c.get(next);
      if (r.statusCode() != 200) {
        throw new AssertionError("catalog page " + next + ": " + r.statusCode() + " " + OciClient.text(r));
      }
      JsonNode page = JSON.readTree(r.body());
      if (page.path("repositories").size() > n) {
        throw new AssertionError("a page longer than n=" + n + ": " + page);
      }
      page.path("repositories").forEach(x -> out.add(x.asText()));
      next = r.headers().firstValue("Link").map(l -> l.substring(l.indexOf('<') + 1, l.indexOf('>'))).orElse(null);
    }
    return out;
  }
}
