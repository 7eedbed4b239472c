package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import io.flotilla.testing.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented way to consume events inside the cluster, run for real: a plain Vert.x
 * application joins the nodes' Hazelcast cluster (without a Flotilla node name, so nothing is
 * placed on it), consumes {@code flotilla.events}, subscribes on {@code flotilla.events.subscribe},
 * and receives each operation exactly once, in batches.
 */
class InClusterConsumerIT {
  @TempDir
  Path dir;

  @Test
  void aVertxApplicationInTheClusterReceivesEachEventOnce() throws Exception {
    try (ProcessCluster cluster = ProcessCluster.start(dir, 2, "127.0.0.1", Map.of())) {
      Config hz = ConfigUtil.loadConfig();
      hz.setClusterName(cluster.clusterName());
      NetworkConfig net = hz.getNetworkConfig();
      net.setPort(TestNode.freePort()).setPortAutoIncrement(false);
      net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
      JoinConfig join = net.getJoin();
      join.getMulticastConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(cluster.hazelcastMembers());
      VertxOptions options = new VertxOptions();
      options.getEventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1");
      Vertx vertx = Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hz)).buildClustered()
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      try {
        List<JsonObject> events = new CopyOnWriteArrayList<>();
        List<Integer> batchSizes = new CopyOnWriteArrayList<>();
        vertx.eventBus().<String>consumer(EventHub.ADDRESS, msg -> {
          JsonArray batch = new JsonObject(msg.body()).getJsonArray("events");
          batchSizes.add(batch.size());
          batch.forEach(e -> events.add((JsonObject) e));
        }).completion().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        // the documented contract: subscribe once the consumer is registered, renew at least every 10 s
        vertx.eventBus().publish(EventHub.SUBSCRIBE_ADDRESS, "in-cluster-consumer-it");
        vertx.setPeriodic(10_000, t -> vertx.eventBus().publish(EventHub.SUBSCRIBE_ADDRESS, "in-cluster-consumer-it"));
        Thread.sleep(1000); // the consumer's registration and its subscription reach every node

        OciClient node0 = new OciClient(cluster.node(0).url());
        OciClient node1 = new OciClient(cluster.node(1).url());
        Map<String, String> accept = Map.of("Accept", "application/vnd.oci.image.manifest.v1+json");
        Images.Pushed img = Images.push(node0, "bus/app", "v1", 1, 3);
        assertEquals(200, node1.get("/v2/bus/app/manifests/v1", accept).statusCode());
        // then, through the other node: the tag deleted, pushed again (another image), pulled back
        assertEquals(202, node1.send("DELETE", "/v2/bus/app/manifests/v1", null, Map.of()).statusCode());
        Images.Pushed again = Images.push(node1, "bus/app", "v1", 1, 4);
        assertEquals(200, node0.get("/v2/bus/app/manifests/v1", accept).statusCode());
        List<String> expected = List.of("push " + img.config(), "push " + img.layers().get(0),
            "push " + img.manifest(), "pull " + img.manifest(), "delete null",
            "push " + again.config(), "push " + again.layers().get(0), "push " + again.manifest(),
            "pull " + again.manifest());
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (events.size() < expected.size() && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        Thread.sleep(500); // nothing extra may follow
        List<String> got = events.stream()
            .map(e -> e.getString("action") + " " + e.getJsonObject("target").getString("digest")).sorted().toList();
        assertEquals(expected.stream().sorted().toList(), got, "each event exactly once");
        assertTrue(events.stream().allMatch(e -> "bus/app".equals(e.getJsonObject("target").getString("repository"))));
        assertTrue(batchSizes.stream().allMatch(n -> n > 0), "no empty batches: " + batchSizes);

        // the repository's order, whichever node reported: push < its pull, push < delete < push again <= its pull
        long push1 = order(events, "push", img.manifest());
        long pull1 = order(events, "pull", img.manifest());
        long delete = order(events, "delete", null);
        long push2 = order(events, "push", again.manifest());
        long pull2 = order(events, "pull", again.manifest());
        assertTrue(push1 <= pull1 && push1 < delete && delete < push2 && push2 <= pull2,
            "orders: push " + push1 + ", pull " + pull1 + ", delete " + delete + ", push " + push2 + ", pull " + pull2);
        assertTrue(events.stream().filter(e -> e.getJsonObject("target").getString("mediaType", "").equals(
            "application/octet-stream")).noneMatch(e -> e.getJsonObject("target").containsKey("order")),
            "blob events carry no order");
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** The {@code target.order} of the one event with this action and digest (null: none). */
  private static long order(List<JsonObject> events, String action, Object digest) {
    List<JsonObject> matching = events.stream().filter(e -> action.equals(e.getString("action"))
        && java.util.Objects.equals(digest == null ? null : digest.toString(), e.getJsonObject("target").getString("digest"))).toList();
    assertEquals(1, matching.size(), action + " " + digest + " in " + events);
    Long order = matching.get(0).getJsonObject("target").getLong("order");
    assertTrue(order != null && order > 0, "an order on " + matching.get(0));
    return order;
  }
}
