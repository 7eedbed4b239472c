package io.flotilla.e2e;

import static io.flotilla.auth.AuthFixture.basic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.cloud.tools.jib.api.Containerizer;
import com.google.cloud.tools.jib.api.Jib;
import com.google.cloud.tools.jib.api.JibContainer;
import com.google.cloud.tools.jib.api.RegistryImage;
import com.google.cloud.tools.jib.api.buildplan.AbsoluteUnixPath;
import io.flotilla.auth.AuthFixture;
import io.flotilla.testing.Await;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access control across a real 3-node cluster (three JVMs, R=2), with real clients through every
 * node: skopeo and Jib push and pull with credentials by the Docker token flow (tokens issued by one
 * node verified by the others, whose keys travel over the bus); a denied push and a denied pull get
 * 401/403 with OCI codes through every node; and a restricted user sees the same filtered catalog,
 * paged with n=2, whichever node answers.
 */
class AccessControlE2E {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path tmp;
  static final List<NodeProcess> nodes = new ArrayList<>();

  @RegisterExtension
  static final NodeLogsOnFailure logs = new NodeLogsOnFailure(() -> nodes, 60);

  @BeforeAll
  static void start() throws Exception {
    Path htpasswd = AuthFixture.htpasswd(tmp.resolve("auth"));
    int[] http = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
    int[] hz = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
    String members = "127.0.0.1:" + hz[0] + ",127.0.0.1:" + hz[1] + ",127.0.0.1:" + hz[2];
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<NodeProcess>> started = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int n = i;
        Map<String, String> env = new HashMap<>(AuthFixture.env(htpasswd));
        env.put("FLOTILLA_CLUSTER_NAME", "auth-e2e-" + hz[0]);
        env.put("FLOTILLA_CLUSTER_MEMBERS", members);
        env.put("FLOTILLA_NODE_NAME", "node-" + n);
        env.put("FLOTILLA_HTTP_ACCESS_LOG", "false");
        env.put("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2");
        started.add(pool.submit(() -> NodeProcess.start(tmp.resolve("node" + n), http[n], hz[n], env)));
      }
      for (Future<NodeProcess> f : started) {
        nodes.add(f.get());
      }
    } finally {
      pool.shutdown();
    }
    OciClient admin = new OciClient(nodes.get(0).url()).as(basic("admin"));
    Await.until("three members serving", Duration.ofSeconds(90), () -> {
      JsonNode status = JSON.readTree(admin.get("/api/v1/cluster").body());
      int serving = 0;
      for (JsonNode m : status.path("members")) {
        serving += "serving".equals(m.path("state").asText()) ? 1 : 0;
      }
      return serving == 3;
    });
  }

  @AfterAll
  static void stop() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
  }

  private static String registry(int i) {
    return nodes.get(i).url().substring("http://".length());
  }

  @Test
  void skopeoPushesAndPullsWithCredentialsThroughEveryNode() throws Exception {
    Skopeo.require();
    OciLayout in = OciLayout.create(tmp.resolve("skopeo-src"));
    SkopeoE2E.Image img = SkopeoE2E.writeImage(in, "amd64", null, 2, 7);
    in.writeIndex(Map.of("v1", img.manifest()));
    for (int i = 0; i < 3; i++) {
      String ref = "docker://" + registry(i) + "/team/skopeo" + i + ":v1";
      Skopeo.runOk("copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", "alice:alice-pw",
          "oci:" + in.root() + ":v1", ref);
      // pulled back through the next node, by bob, who may read team/**
      int next = (i + 1) % 3;
      Path out = tmp.resolve("skopeo-out-" + i);
      Skopeo.runOk("copy", "--src-tls-verify=false", "--src-creds", "bob:bob-pw",
          "docker://" + registry(next) + "/team/skopeo" + i + ":v1", "oci:" + out + ":v1");
      assertEquals(img.manifest().digest(), OciLayout.open(out).entry("v1").get("digest").asText());
      // bob may not push, anonymous may not pull: skopeo reports the registry's refusal
      Skopeo.Result denied = Skopeo.run("copy", "--dest-tls-verify=false", "--dest-creds", "bob:bob-pw",
          "oci:" + in.root() + ":v1", "docker://" + registry(i) + "/team/bob" + i + ":v1");
      assertFalse(denied.ok(), "bob pushed through node-" + i);
      assertTrue(denied.output().toLowerCase().contains("denied") || denied.output().toLowerCase().contains("unauthorized"),
          denied.output());
      Skopeo.Result anonymous = Skopeo.run("copy", "--src-tls-verify=false",
          "docker://" + registry(next) + "/team/skopeo" + i + ":v1", "oci:" + tmp.resolve("anon-" + i) + ":v1");
      assertFalse(anonymous.ok(), "anonymous pulled team/skopeo" + i + " through node-" + next);
    }
  }

  @Test
  void jibPushesWithCredentialsAndPullsThroughAnotherNode() throws Exception {
    // the cluster serves plain HTTP on loopback here: Jib sends credentials over it only when told to
    System.setProperty("sendCredentialsOverHttp", "true");
    Path app = Files.createDirectories(tmp.resolve("jib-app"));
    Path file = Files.writeString(app.resolve("hello.txt"), "hello from jib with credentials\n");
    for (int i = 0; i < 3; i++) {
      String image = registry(i) + "/team/jib" + i + ":1.0";
      JibContainer pushed = Jib.fromScratch().addLayer(List.of(file), AbsoluteUnixPath.get("/app"))
          .containerize(Containerizer.to(RegistryImage.named(image).addCredential("alice", "alice-pw"))
              .setAllowInsecureRegistries(true).setToolName("flotilla-e2e")
              .setBaseImageLayersCache(tmp.resolve("jib-cache-base"))
              .setApplicationLayersCache(tmp.resolve("jib-cache-app")));
      assertTrue(pushed.isImagePushed());
      int next = (i + 1) % 3;
      OciClient bob = new OciClient(nodes.get(next).url()).as(AuthFixture.token(nodes.get(next).url(), "bob",
          "repository:team/jib" + i + ":pull"));
      var m = bob.get("/v2/team/jib" + i + "/manifests/1.0",
          Map.of("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"));
      assertEquals(200, m.statusCode(), OciClient.text(m));
      assertEquals(pushed.getDigest().toString(), m.headers().firstValue("Docker-Content-Digest").orElseThrow());
      // a denied Jib push: robot may not write team/**
      Exception refused = null;
      try {
        Jib.fromScratch().addLayer(List.of(file), AbsoluteUnixPath.get("/app"))
            .containerize(Containerizer.to(RegistryImage.named(registry(i) + "/team/robot" + i + ":1.0")
                .addCredential("robot", "robot-pw")).setAllowInsecureRegistries(true).setToolName("flotilla-e2e")
                .setBaseImageLayersCache(tmp.resolve("jib-cache-base"))
                .setApplicationLayersCache(tmp.resolve("jib-cache-app")));
      } catch (Exception e) {
        refused = e;
      }
      assertTrue(refused != null, "robot pushed to team/ through node-" + i);
    }
  }

  @Test
  void deniedRequestsCarryOciCodesAndTheCatalogIsTheSameThroughEveryNode() throws Exception {
    OciClient admin = new OciClient(nodes.get(0).url()).as(basic("admin"));
    for (String repo : List.of("team/c1", "team/c2", "team/c3", "ops/c4", "ci/c5", "public/c6")) {
      io.flotilla.testing.Images.push(admin, repo, "v1", 1, repo.hashCode());
    }
    List<String> first = null;
    for (int i = 0; i < 3; i++) {
      OciClient anonymous = new OciClient(nodes.get(i).url());
      OciClient bob = anonymous.as(basic("bob"));
      var push = bob.send("POST", "/v2/team/c1/blobs/uploads/", null, Map.of());
      assertEquals(403, push.statusCode());
      assertTrue(OciClient.text(push).contains("\"DENIED\""));
      var pull = anonymous.get("/v2/team/c1/manifests/v1");
      assertEquals(401, pull.statusCode());
      assertTrue(OciClient.text(pull).contains("\"UNAUTHORIZED\""));
      List<String> seen = AuthFixture.catalog(bob, 2);
      assertTrue(seen.containsAll(List.of("public/c6", "team/c1", "team/c2", "team/c3")), seen.toString());
      assertFalse(seen.contains("ops/c4") || seen.contains("ci/c5"), seen.toString());
      if (first == null) {
        first = seen;
      } else {
        assertEquals(first, seen, "node-" + i + " pages the catalog differently");
      }
    }
  }
}
