package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Download counts on three real node processes: an image pushed through
 * node 0 and pulled through nodes 1 and 2 shows the same DownloadCount and LastPullTimestamp
 * through every node, DOWNLOADS sorting works, and a node that was stopped while the image was
 * pulled again has every pull once it is back (its own file plus its peers' tables).
 */
class PullCountsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REPO = "pulls/app";
  private static final Map<String, String> ACCEPT = Map.of("Accept", "application/vnd.oci.image.manifest.v1+json");

  @TempDir
  Path dir;
  private ProcessCluster cluster;

  @RegisterExtension
  final NodeLogsOnFailure logs = NodeLogsOnFailure.of(() -> cluster);

  @Test
  void everyNodeCountsEveryPullOnceAndKeepsItAcrossARestart() throws Exception {
    try (ProcessCluster c = ProcessCluster.start(dir, 3, "127.0.0.1")) {
      cluster = c;
      Images.Pushed img = Images.push(new OciClient(c.node(0).url()), REPO, "v1", 1, 7);
      Images.push(new OciClient(c.node(0).url()), "pulls/other", "v1", 1, 8); // never pulled
      pull(1, 3);
      pull(2, 2);
      for (int i = 0; i < 3; i++) {
        int node = i;
        Await.until("5 pulls through node " + node, Duration.ofSeconds(30), () -> counts(node).equals("5 5 5"));
      }
      JsonNode image = images(0).get(0);
      assertEquals("v1", image.path("Tag").asText());
      assertTrue(image.path("LastPullTimestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT.*Z"), image.toString());
      assertEquals("[\"pulls/app 5\",\"pulls/other 0\"]", byDownloads(1));

      // node 2 stopped, the image pulled once more meanwhile, node 2 back: it has all 6
      assertEquals(143, c.node(2).terminate(), "exit status after SIGTERM");
      assertTrue(!c.node(2).output().contains("did not complete cleanly"), c.node(2).output());
      assertTrue(Files.size(dir.resolve("node2/search/pulls.bin")) > 0, "saved at stop");
      pull(1, 1);
      Await.until("6 pulls on the live nodes", Duration.ofSeconds(30),
          () -> counts(0).equals("6 6 6") && counts(1).equals("6 6 6"));
      c.restart(2);
      c.awaitMembers(3);
      for (int i = 0; i < 3; i++) {
        int node = i;
        Await.until("6 pulls through node " + node, Duration.ofSeconds(30), () -> counts(node).equals("6 6 6"));
      }
      // node 2's own table (saved within 5 s of the merge), whichever node answers for the repository
      Await.until("node 2's table has the pull it missed", Duration.ofSeconds(15), () ->
          PullCounts.decode(Files.readAllBytes(dir.resolve("node2/search/pulls.bin"))).count(REPO, img.manifest().toString()) == 6);
    }
  }

  /** {@code times} manifest GETs through node {@code i}. */
  private void pull(int i, int times) {
    OciClient client = new OciClient(cluster.node(i).url());
    for (int n = 0; n < times; n++) {
      assertEquals(200, client.get("/v2/" + REPO + "/manifests/v1", ACCEPT).statusCode());
    }
  }

  /** "image repo manifest" DownloadCount of the pushed image, through node {@code i}; "" while incomplete. */
  private String counts(int i) throws Exception {
    JsonNode images;
    String repo;
    try {
      images = images(i);
      repo = query(i, "{ RepoListWithNewestImage(requestedPage: {sortBy: DOWNLOADS}) { Results { Name DownloadCount } } }")
          .at("/RepoListWithNewestImage/Results/0/DownloadCount").asText();
    } catch (AssertionError e) {
      return ""; // a member that just left is still in the view: "results are incomplete"
    }
    if (images.size() != 1) {
      return "";
    }
    JsonNode image = images.get(0);
    return image.path("DownloadCount").asText() + " " + repo + " "
        + image.at("/Manifests/0/DownloadCount").asText();
  }

  private JsonNode images(int i) throws Exception {
    return query(i, "{ ImageList(repo: \"" + REPO + "\") { Results { Tag DownloadCount LastPullTimestamp Manifests { DownloadCount } } } }")
        .at("/ImageList/Results");
  }

  /** "name count" of every repository, in DOWNLOADS order. */
  private String byDownloads(int i) throws Exception {
    var out = JSON.createArrayNode();
    for (JsonNode r : query(i, "{ RepoListWithNewestImage(requestedPage: {sortBy: DOWNLOADS}) { Results { Name DownloadCount } } }")
        .at("/RepoListWithNewestImage/Results")) {
      out.add(r.path("Name").asText() + " " + r.path("DownloadCount").asText());
    }
    return out.toString();
  }

  private JsonNode query(int i, String graphql) throws Exception {
    var r = new OciClient(cluster.node(i).url()).send("POST", "/v2/_zot/ext/search",
        JSON.writeValueAsBytes(Map.of("query", graphql)), Map.of("Content-Type", "application/json"));
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertEquals(200, r.statusCode(), body);
    JsonNode json = JSON.readTree(body);
    assertTrue(json.path("errors").isMissingNode() || json.path("errors").isEmpty(), body);
    return json.path("data");
  }
}
