package io.flotilla.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

/**
 * Plain Hazelcast members in the test's JVM, on loopback, named {@code node-<i>} the way
 * {@link Membership#tagConfig} names them, all in one fresh cluster. Closing terminates them all.
 */
final class LocalHazelcast implements AutoCloseable {
  private final String clusterName = "flotilla-it-" + UUID.randomUUID();
  private final List<Integer> ports;
  private final List<HazelcastInstance> instances = new CopyOnWriteArrayList<>();

  LocalHazelcast(int size) {
    this.ports = freePorts(size);
  }

  /** Starts member {@code i} (1-based), which joins through every port of this cluster. */
  HazelcastInstance start(int i) {
    HazelcastInstance hz = Hazelcast.newHazelcastInstance(config(i));
    instances.add(hz);
    return hz;
  }

  Config config(int i) {
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

  @Override
  public void close() {
    instances.forEach(i -> i.getLifecycleService().terminate());
  }

  /** Polls every 25 ms until the condition holds; false after {@code millis}. */
  static boolean await(long millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + millis * 1_000_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(25);
    }
    return true;
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
