package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real Hazelcast members in this JVM, on loopback: views agree, converge after a leave, grow on a join. */
class MembershipIT {
  private static final Duration CONVERGE = Duration.ofSeconds(20);
  private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");
  private static final List<String> SAMPLE = PlacementTest.repositories(300, 42);

  private final String clusterName = "flotilla-it-" + UUID.randomUUID();
  private final List<HazelcastInstance> instances = new CopyOnWriteArrayList<>();
  private final List<Membership> memberships = new CopyOnWriteArrayList<>();
  private final List<Vertx> vertxes = new CopyOnWriteArrayList<>();
  private final ExecutorService subscriberThread = Executors.newSingleThreadExecutor();

  @BeforeAll
  static void quietHazelcast() {
    HAZELCAST_LOG.setLevel(Level.WARNING);
  }

  @AfterEach
  void tearDown() throws Exception {
    memberships.forEach(Membership::close);
    for (Vertx v : vertxes) {
      v.close().await(20, TimeUnit.SECONDS);
    }
    instances.forEach(i -> i.getLifecycleService().terminate());
    subscriberThread.shutdownNow();
  }

  @Test
  void membersAgreeConvergeAfterALeaveAndSeeAJoin() {
    List<Integer> ports = freePorts(4);
    HazelcastInstance hz1 = startMember(1, ports);
    HazelcastInstance hz2 = startMember(2, ports);
    HazelcastInstance hz3 = startMember(3, ports);
    Membership m1 = follow(hz1);
    Membership m2 = follow(hz2);
    Membership m3 = follow(hz3);
    List<Membership> all = List.of(m1, m2, m3);

    List<ClusterView> delivered = new CopyOnWriteArrayList<>();
    List<Thread> deliveryThreads = new CopyOnWriteArrayList<>();
    m1.subscribe(subscriberThread, v -> {
      delivered.add(v);
      deliveryThreads.add(Thread.currentThread());
    });

    await("all three see node-1..3", () -> all.stream().allMatch(m -> m.current().nodeNames()
        .equals(List.of("node-1", "node-2", "node-3"))), () -> views(all));
    ClusterView v1 = m1.current();
    for (Membership m : all) {
      assertTrue(m.current().sameMembers(v1), "same members everywhere: " + views(all));
      assertEquals(m.local().orElseThrow(), m.current().memberByVertxNodeId(m.local().orElseThrow().vertxNodeId())
          .orElseThrow(), "the local member is in its own view");
      assertEquals(owners(v1), owners(m.current()), "same owners everywhere");
    }
    assertEquals("127.0.0.1:8002", v1.member("node-2").orElseThrow().httpAddress());
    assertEquals(hz2.getCluster().getLocalMember().getUuid().toString(),
        v1.member("node-2").orElseThrow().vertxNodeId(), "without Vert.x the node id is the member UUID");

    await("m1's subscriber receives the three-member view", () -> !delivered.isEmpty()
        && delivered.get(delivered.size() - 1).sameMembers(v1), delivered::toString);
    await("partitions safe before a member leaves", () -> hz1.getPartitionService().isClusterSafe(), () -> "");
    long epochBefore2 = m2.current().epoch();
    long epochBefore3 = m3.current().epoch();
    memberships.remove(m1);
    m1.close();
    hz1.shutdown();
    List<Membership> survivors = List.of(m2, m3);
    await("survivors drop node-1", () -> survivors.stream().allMatch(m -> m.current().nodeNames()
        .equals(List.of("node-2", "node-3"))), () -> views(survivors));
    assertTrue(m2.current().epoch() > epochBefore2);
    assertTrue(m3.current().epoch() > epochBefore3);
    assertTrue(m2.current().sameMembers(m3.current()));
    assertEquals(owners(m2.current()), owners(m3.current()));
    assertEquals(List.of("node-1"), names(m2.current().deltaFrom(v1).left()));

    HazelcastInstance hz4 = startMember(4, ports);
    Membership m4 = follow(hz4);
    List<Membership> now = List.of(m2, m3, m4);
    await("everyone sees node-4", () -> now.stream().allMatch(m -> m.current().nodeNames()
        .equals(List.of("node-2", "node-3", "node-4"))), () -> views(now));
    assertEquals(owners(m2.current()), owners(m4.current()));
    assertEquals(owners(m3.current()), owners(m4.current()));

    // m1's subscriber got its images in epoch order, on its own executor, never on Hazelcast's threads
    for (int i = 1; i < delivered.size(); i++) {
      assertTrue(delivered.get(i).epoch() > delivered.get(i - 1).epoch(), "epochs increase: " + delivered);
    }
    assertTrue(deliveryThreads.stream().noneMatch(t -> t.getName().startsWith("hz.")), deliveryThreads.toString());
  }

  @Test
  void clusteredVertxNodesAreKnownByTheirVertxNodeId() throws Exception {
    List<Integer> ports = freePorts(2);
    HazelcastClusterManager cm1 = new HazelcastClusterManager(config(1, ports));
    HazelcastClusterManager cm2 = new HazelcastClusterManager(config(2, ports));
    Vertx vx1 = startVertx(cm1);
    startVertx(cm2);
    Membership m1 = follow(cm1.getHazelcastInstance());
    Membership m2 = follow(cm2.getHazelcastInstance());

    await("both see both", () -> m1.current().size() == 2 && m2.current().size() == 2,
        () -> views(List.of(m1, m2)));
    for (Membership m : List.of(m1, m2)) {
      assertEquals(cm1.getNodeId(), m.current().member("node-1").orElseThrow().vertxNodeId());
      assertEquals(cm2.getNodeId(), m.current().member("node-2").orElseThrow().vertxNodeId());
    }
    assertEquals("node-1", m1.local().orElseThrow().nodeName());

    // a subscriber on a Vert.x context is called on that context
    Context context = vx1.getOrCreateContext();
    List<Boolean> onContext = new CopyOnWriteArrayList<>();
    List<ClusterView> views = new CopyOnWriteArrayList<>();
    m1.subscribe(context, v -> {
      onContext.add(Vertx.currentContext() == context);
      views.add(v);
    });
    await("the current view is delivered on the context", () -> !views.isEmpty(), () -> "");
    assertEquals(m1.current().members(), views.get(0).members());
    assertTrue(onContext.stream().allMatch(b -> b));
  }

  // ------------------------------------------------------------------------------------- helpers

  private HazelcastInstance startMember(int i, List<Integer> ports) {
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(config(i, ports));
    instances.add(hz);
    return hz;
  }

  private Vertx startVertx(HazelcastClusterManager cm) throws Exception {
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1");
    Vertx vx = Vertx.builder().with(options).withClusterManager(cm).buildClustered().await(30, TimeUnit.SECONDS);
    vertxes.add(vx);
    return vx;
  }

  private Config config(int i, List<Integer> ports) {
    Config c = new Config();
    c.setClusterName(clusterName);
    c.setInstanceName(clusterName + "-" + i);
    c.setProperty("hazelcast.phone.home.enabled", "false");
    c.setProperty("hazelcast.shutdownhook.enabled", "false");
    c.setProperty("hazelcast.logging.type", "jdk");
    c.setProperty("hazelcast.socket.bind.any", "false");
    c.setProperty("hazelcast.wait.seconds.before.join", "0");
    NetworkConfig net = c.getNetworkConfig();
    int port = ports.get(i - 1);
    net.setPort(port).setPortAutoIncrement(false).setPublicAddress("127.0.0.1:" + port);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(ports.stream().map(p -> "127.0.0.1:" + p).toList());
    return Membership.tagConfig(c, "node-" + i, "127.0.0.1:" + (8000 + i));
  }

  private Membership follow(HazelcastInstance hz) {
    Membership m = Membership.start(hz);
    memberships.add(m);
    return m;
  }

  private static Map<String, List<String>> owners(ClusterView view) {
    Placement p = new Placement(view);
    Map<String, List<String>> out = new TreeMap<>();
    for (String repo : SAMPLE) {
      out.put(repo, names(p.owners(repo, 2)));
    }
    return out;
  }

  private static List<String> names(List<Member> members) {
    return members.stream().map(Member::nodeName).toList();
  }

  private static String views(List<Membership> memberships) {
    List<String> out = new ArrayList<>();
    memberships.forEach(m -> out.add(m.current().toString()));
    return out.toString();
  }

  /** Polls until the condition holds; fails with the description after {@link #CONVERGE}. */
  private static void await(String what, BooleanSupplier condition, Supplier<String> state) {
    long deadline = System.nanoTime() + CONVERGE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what + "; state: " + state.get());
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
    }
  }

  private static List<Integer> freePorts(int count) {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        sockets.add(new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1")));
      }
      return sockets.stream().map(ServerSocket::getLocalPort).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : sockets) {
        try {
          s.close();
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
  }
}
