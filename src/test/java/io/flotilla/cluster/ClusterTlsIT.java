package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.flotilla.config.TlsFiles;
import io.flotilla.events.EventHub;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster TLS for real: node-0 and node-1 hold certificates from the cluster CA (made by
 * {@code cluster-config/make-certs.sh}); a third node, "rogue", runs without one but with the same
 * cluster name and member list, so it joins Hazelcast. It must count for nothing: the legitimate
 * nodes list it as {@code unproven}, place no repository on it, and a push through its own HTTP
 * port does not reach them. Events published on the bus reach a Vert.x consumer that holds a
 * certificate and never one that does not.
 */
class ClusterTlsIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final List<Vertx> consumers = new ArrayList<>();

  @RegisterExtension
  final TestWatcher logsOnFailure = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      for (int i = 0; i < nodes.size(); i++) {
        try {
          String[] lines = nodes.get(i).output().split("\n");
          int from = Math.max(0, lines.length - 60);
          System.err.println("---- tail of " + name(i) + " log ----\n"
              + String.join("\n", Arrays.asList(lines).subList(from, lines.length)));
        } catch (Exception ignored) {
          // diagnostics only
        }
      }
    }
  };

  @AfterEach
  void stop() throws Exception {
    for (Vertx v : consumers) {
      v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    for (NodeProcess n : nodes) {
      n.close();
    }
  }

  private static String name(int i) {
    return i < 2 ? "node-" + i : "rogue";
  }

  @Test
  void aMemberWithoutTheClusterCertificateIsNeitherPlacedNorReached() throws Exception {
    Path certs = dir.resolve("certs");
    Process make = new ProcessBuilder("bash", "cluster-config/make-certs.sh", certs.toString(), "node-0", "node-1",
        "consumer").redirectErrorStream(true).start();
    assertEquals(0, make.waitFor(), new String(make.getInputStream().readAllBytes()));

    String clusterName = "tls-" + UUID.randomUUID();
    int[] http = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
    int[] hz = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};
    List<String> members = List.of("127.0.0.1:" + hz[0], "127.0.0.1:" + hz[1], "127.0.0.1:" + hz[2]);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<NodeProcess>> starting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int n = i;
        starting.add(pool.submit(() -> start(n, http[n], hz[n], clusterName, String.join(",", members), certs)));
      }
      for (Future<NodeProcess> f : starting) {
        nodes.add(f.get());
      }
    } finally {
      pool.shutdown();
    }
    NodeProcess node0 = nodes.get(0);
    NodeProcess node1 = nodes.get(1);
    NodeProcess rogue = nodes.get(2);

    // the rogue is in Hazelcast (listed), but only as unproven; the certificate holders serve each other
    Map<String, String> expected = Map.of("node-0", "serving", "node-1", "serving", "rogue", "unproven");
    Await.until("node-0 and node-1 see each other serving and the rogue unproven", Duration.ofSeconds(60),
        () -> members(node0).equals(expected) && members(node1).equals(expected));
    assertEquals(List.of("node-0", "node-1"), servingView(node0), "the view placement uses");
    assertTrue(rogue.output().contains("cluster TLS is off"), "the rogue warns that it runs without cluster TLS");
    assertTrue(node0.output().contains("cluster TLS is on"));

    // a push through the rogue's own HTTP port (in the background: the rogue's bus calls to the
    // certificate holders go unanswered until their timeouts, so each request gives up after 15 s)
    ExecutorService background = Executors.newSingleThreadExecutor();
    Future<String> roguePush = background.submit(() -> {
      try {
        Images.push(new OciClient(rogue.url(), Duration.ofSeconds(15)), "rogue/app", "v1", 1, 999);
        return "acknowledged";
      } catch (AssertionError | RuntimeException e) {
        return "refused: " + e.getMessage();
      }
    });
    background.shutdown();

    // events: a Vert.x application with a certificate receives them, one without never does
    List<String> trusted = new CopyOnWriteArrayList<>();
    List<String> stranger = new CopyOnWriteArrayList<>();
    consume(clusterName, members, new TlsFiles(certs.resolve("consumer.pem"), certs.resolve("consumer-key.pem"),
        certs.resolve("ca.pem")), trusted);
    consume(clusterName, members, null, stranger);
    Thread.sleep(1000); // the consumers' registrations reach every node

    OciClient viaNode0 = new OciClient(node0.url());
    for (int i = 0; i < 10; i++) {
      Images.push(viaNode0, "tls/r" + i, "v1", 1, 200 + i);
    }
    for (int i = 0; i < 10; i++) {
      String repo = "tls/r" + i;
      assertEquals(Set.of("node-0", "node-1"), holders(repo), repo + " is on its two owners, never on the rogue");
    }
    // the bodies of pushes whose primary is node-1 crossed node-0's data channel, which speaks TLS:
    // a plain-text connection to the data port is dropped before it can even present a ticket
    assertTrue(dataMetric(node0, "flotilla_datachannel_sent_bytes") > 0, "forwarded bodies crossed the data channel");
    try (java.net.Socket plain = new java.net.Socket("127.0.0.1", nodes.get(1).dataPort())) {
      plain.setSoTimeout(30_000);
      plain.getOutputStream().write(("R" + "A".repeat(43)).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      plain.getOutputStream().flush();
      try {
        while (plain.getInputStream().read() >= 0) {
          // TLS alert bytes, if any; then the close
        }
      } catch (java.io.IOException reset) {
        // closed by the TLS layer
      }
    }
    assertEquals(0, dataMetric(nodes.get(1), "flotilla_datachannel_refused"),
        "the plain connection never reached the ticket check: the TLS handshake refused it");
    Await.until("the trusted consumer receives the 10 manifest pushes", Duration.ofSeconds(30),
        () -> trusted.stream().filter(e -> e.contains("\"action\":\"push\"") && e.contains("manifest")).count() >= 10);
    assertEquals(List.of(), stranger, "a consumer without the certificate receives no event");
    Await.until("node-0's TLS handshakes with the consumer without a certificate fail", Duration.ofSeconds(30),
        () -> node0.output().contains("SSLHandshakeException"));

    // the push through the rogue did not land on the legitimate nodes
    String pushed = roguePush.get(90, TimeUnit.SECONDS);
    assertEquals(Set.of(), legitHolders("rogue/app"), "the rogue's push (" + pushed + ") is on no legitimate node");
    assertNotEquals(200, viaNode0.get("/v2/rogue/app/manifests/v1",
        Map.of("Accept", "application/vnd.oci.image.manifest.v1+json")).statusCode());

    // the certificate holders say why the rogue does not count
    Await.until("node-0 reports the rogue has not proved it holds the certificate", Duration.ofSeconds(30),
        () -> node0.output().contains("member rogue") && node0.output().contains("has not proved"));
    assertEquals(expected, members(node0), "the rogue is still unproven at the end");
  }

  /** The value of metric {@code name} on the node's /metrics. */
  private static long dataMetric(NodeProcess node, String name) {
    String text = OciClient.text(new OciClient(node.url()).get("/metrics"));
    for (String line : text.split("\n")) {
      if (line.startsWith(name) && " _{".indexOf(line.charAt(name.length())) >= 0) {
        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no metric " + name + " on " + node.url());
  }

  private NodeProcess start(int i, int httpPort, int hzPort, String clusterName, String members, Path certs)
      throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("FLOTILLA_CLUSTER_NAME", clusterName);
    env.put("FLOTILLA_CLUSTER_MEMBERS", members);
    env.put("FLOTILLA_NODE_NAME", name(i));
    env.put("FLOTILLA_HTTP_ACCESS_LOG", "false");
    env.put("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2");
    if (i < 2) {
      env.put("FLOTILLA_CLUSTER_TLS_CERT", certs.resolve(name(i) + ".pem").toString());
      env.put("FLOTILLA_CLUSTER_TLS_KEY", certs.resolve(name(i) + "-key.pem").toString());
      env.put("FLOTILLA_CLUSTER_TLS_CA", certs.resolve("ca.pem").toString());
    }
    return NodeProcess.start(dir.resolve(name(i)), httpPort, hzPort, env);
  }

  /** A plain Vert.x member of the cluster (no node name) collecting {@code flotilla.events}, with or without TLS. */
  private void consume(String clusterName, List<String> members, TlsFiles tls, List<String> into) throws Exception {
    Config hzConfig = ConfigUtil.loadConfig();
    hzConfig.setClusterName(clusterName);
    NetworkConfig net = hzConfig.getNetworkConfig();
    net.setPort(TestNode.freePort()).setPortAutoIncrement(false);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1");
    if (tls != null) {
      new ClusterTls(tls).applyTo(options.getEventBusOptions());
    }
    Vertx vertx = Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hzConfig))
        .buildClustered().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    consumers.add(vertx);
    vertx.eventBus().<String>consumer(EventHub.ADDRESS, msg -> new io.vertx.core.json.JsonObject(msg.body())
            .getJsonArray("events").forEach(e -> into.add(((io.vertx.core.json.JsonObject) e).encode())))
        .completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.eventBus().publish(EventHub.SUBSCRIBE_ADDRESS, "cluster-tls-it");
    vertx.setPeriodic(10_000, t -> vertx.eventBus().publish(EventHub.SUBSCRIBE_ADDRESS, "cluster-tls-it"));
  }

  /** Member name -> state, as {@code n} reports them. */
  private static Map<String, String> members(NodeProcess n) throws Exception {
    JsonNode status = JSON.readTree(new OciClient(n.url()).get("/api/v1/cluster").body());
    Map<String, String> out = new HashMap<>();
    for (JsonNode m : status.get("members")) {
      out.put(m.get("name").asText(), m.path("state").asText("unknown"));
    }
    return out;
  }

  /** The members {@code n} may place repositories on: those it lists as serving. */
  private static List<String> servingView(NodeProcess n) throws Exception {
    return members(n).entrySet().stream().filter(e -> e.getValue().equals("serving")).map(Map.Entry::getKey)
        .sorted().toList();
  }

  /** The nodes (rogue included) whose storage holds a manifest of {@code repo}. */
  private Set<String> holders(String repo) throws Exception {
    Set<String> out = new TreeSet<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (holds(nodes.get(i), repo)) {
        out.add(name(i));
      }
    }
    return out;
  }

  private Set<String> legitHolders(String repo) throws Exception {
    Set<String> out = holders(repo);
    out.remove("rogue");
    return out;
  }

  private static boolean holds(NodeProcess n, String repo) throws Exception {
    JsonNode usage = JSON.readTree(new OciClient(n.url()).get("/api/v1/storage/usage").body());
    for (JsonNode r : usage.get("repositories")) {
      if (r.get("name").asText().equals(repo) && r.get("manifests").asInt() > 0) {
        return true;
      }
    }
    return false;
  }
}
