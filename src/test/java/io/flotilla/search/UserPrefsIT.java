package io.flotilla.search;

import static io.flotilla.auth.AuthFixture.basic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.auth.AuthFixture;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * zot's stars and bookmarks on two real node processes with access control on (the
 * {@link AuthFixture} users: alice writes {@code team/**}, bob reads it, robot does not): toggled
 * through one node, read back through GraphQL on the other, per user; zot's status codes; and a
 * node that was down during a toggle answers the same once it is back, on its own.
 */
class UserPrefsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REPOS = "{ RepoListWithNewestImage { Results { Name StarCount IsStarred IsBookmarked } } }";

  @TempDir
  Path dir;
  private ProcessCluster cluster;

  @RegisterExtension
  final NodeLogsOnFailure logs = NodeLogsOnFailure.of(() -> cluster);

  @Test
  void starsAndBookmarksAreTheUsersOwnOnEveryNodeAndSurviveARestart() throws Exception {
    Map<String, String> env = AuthFixture.env(AuthFixture.htpasswd(dir.resolve("auth")));
    try (ProcessCluster c = ProcessCluster.start(dir, 2, "127.0.0.1", env, basic("admin"))) {
      cluster = c;
      OciClient alice0 = new OciClient(c.node(0).url()).as(basic("alice"));
      Images.push(alice0, "team/app", "v1", 1, 1);
      Images.push(alice0, "team/lib", "v1", 1, 2);

      // zot's statuses
      assertEquals(400, put(0, "alice", "?repo=team/app"), "no action");
      assertEquals(400, put(0, "alice", "?action=toggleStar"), "no repo");
      assertEquals(400, put(0, "alice", "?repo=team/app&action=star"), "unknown action");
      assertEquals(404, put(0, "alice", "?repo=&action=toggleStar"), "empty repo");
      assertEquals(404, put(0, "alice", "?repo=team/none&action=toggleStar"), "no such repository");
      assertEquals(403, put(0, null, "?repo=team/app&action=toggleStar"), "anonymous");
      assertEquals(403, put(0, "robot", "?repo=team/app&action=toggleStar"), "may not read team/**");
      OciClient anyone = new OciClient(c.node(1).url());
      var options = anyone.send("OPTIONS", "/v2/_zot/ext/userprefs", null, Map.of());
      assertEquals(200, options.statusCode());
      assertEquals("PUT,OPTIONS", options.headers().firstValue("Access-Control-Allow-Methods").orElse(""));
      assertEquals(405, new OciClient(c.node(1).url()).as(basic("alice")).get("/v2/_zot/ext/userprefs?repo=team/app&action=toggleStar").statusCode());
      JsonNode endpoints = JSON.readTree(anyone.get("/v2/_oci/ext/discover").body()).at("/extensions/0/endpoints");
      assertEquals("[\"/v2/_zot/ext/search\",\"/v2/_zot/ext/userprefs\",\"/v2/_zot/ext/mgmt\"]", endpoints.toString());
      assertEquals(List.of(), starred(1, "alice"), "nothing toggled by the refused calls");

      // toggled through one node, seen through the other, per user
      assertEquals(200, put(0, "alice", "?repo=team/app&action=toggleStar"));
      assertEquals(200, put(1, "alice", "?repo=team/lib&action=toggleBookmark"));
      assertEquals(List.of("team/app 1 starred", "team/lib 0 bookmarked"), repos(1, "alice"));
      assertEquals(List.of("team/app 1", "team/lib 0"), repos(1, "bob"));
      assertEquals(List.of("team/app"), starred(1, "alice"));
      assertEquals(List.of(), starred(1, "bob"));
      assertEquals(List.of("team/lib"), list(0, "alice", "BookmarkedRepos"));
      assertEquals(200, put(1, "bob", "?repo=team/app&action=toggleStar"));
      assertEquals(List.of("team/app 2 starred", "team/lib 0 bookmarked"), repos(0, "alice"), "StarCount counts users");
      assertEquals(List.of("team/app"), starred(0, "bob"));
      // toggling again unstars
      assertEquals(200, put(1, "alice", "?repo=team/app&action=toggleStar"));
      assertEquals(List.of("team/app 1", "team/lib 0 bookmarked"), repos(0, "alice"));
      assertEquals(List.of(), starred(0, "alice"));
      assertEquals(200, put(0, "alice", "?repo=team/app&action=toggleStar"));

      // node 1 away while bob unstars; back, then alone: its own disk and what it caught up on
      c.node(1).terminate();
      assertEquals(200, put(0, "bob", "?repo=team/app&action=toggleStar"));
      c.restart(1);
      c.awaitMembers(2);
      c.node(0).terminate();
      // until node 1's view drops node 0, its searches name node 0 as not answering (errors): poll past that
      Await.until("node 1 serves searches alone", Duration.ofSeconds(60), () -> {
        try {
          return repos(1, "alice").size() == 2;
        } catch (AssertionError stillListsNode0) {
          return false;
        }
      });
      assertEquals(List.of("team/app 1 starred", "team/lib 0 bookmarked"), repos(1, "alice"));
      assertEquals(List.of("team/app 1", "team/lib 0"), repos(1, "bob"));
      assertEquals(List.of("team/app"), starred(1, "alice"));
      assertEquals(List.of(), starred(1, "bob"));
    }
  }

  /** PUT /v2/_zot/ext/userprefs through node {@code i} as {@code user} (null: anonymous); the status. */
  private int put(int i, String user, String query) {
    OciClient client = new OciClient(cluster.node(i).url());
    if (user != null) {
      client = client.as(basic(user));
    }
    var r = client.send("PUT", "/v2/_zot/ext/userprefs" + query, null, Map.of());
    if (r.statusCode() == 200) {
      assertEquals(0, r.body().length, "no body");
    }
    return r.statusCode();
  }

  private JsonNode query(int i, String user, String graphql) throws Exception {
    var r = new OciClient(cluster.node(i).url()).as(basic(user)).send("POST", "/v2/_zot/ext/search",
        JSON.writeValueAsBytes(Map.of("query", graphql)), Map.of("Content-Type", "application/json"));
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertEquals(200, r.statusCode(), body);
    JsonNode json = JSON.readTree(body);
    assertTrue(json.path("errors").isMissingNode() || json.path("errors").isEmpty(), body);
    return json.path("data");
  }

  /** "name stars [starred] [bookmarked]" of every repository, by name. */
  private List<String> repos(int i, String user) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode r : query(i, user, REPOS).at("/RepoListWithNewestImage/Results")) {
      out.add(r.path("Name").asText() + " " + r.path("StarCount").asInt()
          + (r.path("IsStarred").asBoolean() ? " starred" : "") + (r.path("IsBookmarked").asBoolean() ? " bookmarked" : ""));
    }
    out.sort(null);
    return out;
  }

  private List<String> starred(int i, String user) throws Exception {
    return list(i, user, "StarredRepos");
  }

  private List<String> list(int i, String user, String field) throws Exception {
    List<String> out = new ArrayList<>();
    for (JsonNode r : query(i, user, "{ " + field + " { Results { Name } } }").at("/" + field + "/Results")) {
      out.add(r.path("Name").asText());
    }
    out.sort(null);
    return out;
  }
}
