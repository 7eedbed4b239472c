package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.auth.AuthFixture;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access control in search, through every node of three: each user's results and counts hold
 * exactly the repositories that user may read (the catalog says which), single-object queries for
 * an unreadable repository answer an empty object without an error, and IsDeletable follows the
 * delete permission.
 */
class SearchAccessIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> REPOS = List.of("team/app", "team/tools/cli", "ci/build", "public/hello", "private/secret",
      "public/world");
  static final List<String> USERS = List.of("admin", "alice", "bob", "robot", "");
  @TempDir
  static Path dir;
  static ProcessCluster cluster;
  static String sharedLayer;

  @BeforeAll
  static void start() throws Exception {
    Map<String, String> env = new java.util.HashMap<>(AuthFixture.env(AuthFixture.htpasswd(dir.resolve("auth"))));
    env.put("FLOTILLA_STORAGE_DELETE_ENABLED", "true");
    cluster = ProcessCluster.start(dir.resolve("nodes"), 3, "127.0.0.1", env, AuthFixture.basic("admin"));
    for (int i = 0; i < REPOS.size(); i++) {
      OciClient admin = new OciClient(cluster.node(i % 3).url()).as(AuthFixture.basic("admin"));
      // the same seed: the same layers in every repository
      sharedLayer = Images.push(admin, REPOS.get(i), "v1", 2, 7).layers().get(0).toString();
      Images.push(admin, REPOS.get(i), "v2", 1, 100 + i);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static OciClient client(int node, String user) {
    OciClient c = new OciClient(cluster.node(node).url());
    return user.isEmpty() ? c : c.as(AuthFixture.basic(user));
  }

  static JsonNode query(OciClient c, String q) throws Exception {
    var r = c.send("POST", "/v2/_zot/ext/search", JSON.writeValueAsBytes(Map.of("query", q)),
        Map.of("Content-Type", "application/json"));
    assertEquals(200, r.statusCode(), OciClient.text(r));
    JsonNode body = JSON.readTree(r.body());
    assertFalse(body.has("errors"), body.toString());
    return body.get("data");
  }

  static TreeSet<String> names(JsonNode list, String field) {
    TreeSet<String> out = new TreeSet<>();
    list.forEach(n -> out.add(n.get(field).asText()));
    return out;
  }

  @Test
  void everyUserSeesExactlyWhatTheyMayReadThroughEveryNode() throws Exception {
    for (String user : USERS) {
      TreeSet<String> readable = new TreeSet<>(AuthFixture.catalog(client(0, user), 100));
      assertTrue(readable.size() < REPOS.size() || user.equals("admin"), user + " reads " + readable);
      for (int node = 0; node < 3; node++) {
        OciClient c = client(node, user);
        String who = (user.isEmpty() ? "anonymous" : user) + " via node-" + node;
        JsonNode repos = query(c, "{ RepoListWithNewestImage { Page { TotalCount } Results { Name } } }").get("RepoListWithNewestImage");
        assertEquals(readable, names(repos.get("Results"), "Name"), who);
        assertEquals(readable.size(), repos.at("/Page/TotalCount").asInt(), who);
        JsonNode search = query(c, "{ GlobalSearch(query: \"\", requestedPage: {limit: 2, offset: 1}) { Page { TotalCount ItemCount } } }")
            .get("GlobalSearch");
        assertEquals(readable.size(), search.at("/Page/TotalCount").asInt(), who);
        JsonNode images = query(c, "{ ImageList(repo: \"\") { Page { TotalCount } Results { RepoName } } }").get("ImageList");
        assertEquals(readable, names(images.get("Results"), "RepoName"), who);
        assertEquals(readable.size() * 2, images.at("/Page/TotalCount").asInt(), who + ": v1 and v2 each");
        JsonNode digest = query(c, "{ ImageListForDigest(id: \"" + sharedLayer + "\") { Page { TotalCount } Results { RepoName } } }")
            .get("ImageListForDigest");
        assertEquals(readable, names(digest.get("Results"), "RepoName"), who);
        JsonNode secret = query(c, "{ ExpandedRepoInfo(repo: \"private/secret\") { Summary { Name } Images { Tag } } "
            + "Image(image: \"private/secret:v1\") { Tag Digest } }");
        if (readable.contains("private/secret")) {
          assertEquals("private/secret", secret.at("/ExpandedRepoInfo/Summary/Name").asText(), who);
          assertEquals("v1", secret.at("/Image/Tag").asText(), who);
        } else {
          assertTrue(secret.at("/ExpandedRepoInfo/Summary").isNull(), who + ": " + secret);
          assertEquals(0, secret.at("/ExpandedRepoInfo/Images").size(), who);
          assertTrue(secret.at("/Image/Tag").isNull() || secret.at("/Image/Tag").isMissingNode(), who + ": " + secret);
        }
      }
    }
  }

  @Test
  void isDeletableFollowsTheDeletePermission() throws Exception {
    String q = "{ Image(image: \"team/app:v1\") { IsDeletable } }";
    assertTrue(query(client(1, "alice"), q).at("/Image/IsDeletable").asBoolean(), "alice may delete in team/**");
    assertFalse(query(client(2, "bob"), q).at("/Image/IsDeletable").asBoolean(), "bob only reads team/**");
    assertTrue(query(client(0, "admin"), q).at("/Image/IsDeletable").asBoolean());
  }

  @Test
  void badCredentialsAre401AndAnonymousIsServed() throws Exception {
    var r = new OciClient(cluster.node(0).url()).as(AuthFixture.basic("alice", "wrong")).send("POST",
        "/v2/_zot/ext/search", JSON.writeValueAsBytes(Map.of("query", "{ ImageList(repo: \"\") { Page { TotalCount } } }")),
        Map.of("Content-Type", "application/json"));
    assertEquals(401, r.statusCode());
    List<String> anonymous = new ArrayList<>(names(query(client(2, ""), "{ ImageList(repo: \"\") { Results { RepoName } } }")
        .at("/ImageList/Results"), "RepoName"));
    assertEquals(List.of("public/hello", "public/world"), anonymous);
  }
}
