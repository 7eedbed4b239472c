package io.flotilla.boot;

import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.flotilla.config.ClusterConfig;
import io.flotilla.cluster.Membership;
import io.flotilla.config.ConfigException;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the Hazelcast configuration of a node: the operator's XML (or the Vert.x default) with
 * the network section taken from {@link ClusterConfig}: TCP-IP join over the configured members,
 * multicast and auto-detection off, fixed member port, no phone-home, no Hazelcast shutdown hook
 * (Flotilla leaves the cluster itself after its graceful shutdown).
 */
final class HazelcastSetup {
  private HazelcastSetup() {}

  static Config build(ClusterConfig cluster, String nodeName, String httpAddress) {
    Config hz;
    if (cluster.hazelcastConfig() != null) {
      try {
        hz = new FileSystemXmlConfig(cluster.hazelcastConfig().toFile());
      } catch (IOException | RuntimeException e) {
        throw new ConfigException("cluster.hazelcastConfig", "cannot load " + cluster.hazelcastConfig() + ": " + e.getMessage());
      }
    } else {
      hz = ConfigUtil.loadConfig();
    }
    hz.setClusterName(cluster.name());
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "jdk");
    if (hz.getProperty("hazelcast.graceful.shutdown.max.wait") == null) {
      // the node's own hand-off has moved the data by then; Hazelcast's wait for its partitions' backups
      // (600 s by default) only holds up a stop when every member leaves at once
      hz.setProperty("hazelcast.graceful.shutdown.max.wait", "15");
    }
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(cluster.port()).setPortAutoIncrement(false);
    net.setPublicAddress(cluster.host() + ":" + cluster.port());
    // Hazelcast's interface filter takes IP patterns only: a host name (as in docker-compose) is
    // resolved once, so the member binds exactly that address and nothing else.
    if (!cluster.host().equals("0.0.0.0")) {
      net.getInterfaces().setEnabled(true).setInterfaces(List.of(resolve(cluster.host())));
      hz.setProperty("hazelcast.socket.bind.any", "false");
    }
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getKubernetesConfig().setEnabled(false);
    List<String> members = new ArrayList<>(cluster.members());
    if (members.isEmpty()) {
      members.add(cluster.host() + ":" + cluster.port());
    }
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    return Membership.tagConfig(hz, nodeName, httpAddress);
  }

  /** The address of a host name (an IP literal stays as it is). */
  static String resolve(String host) {
    try {
      return java.net.InetAddress.getByName(host).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      throw new ConfigException("cluster.host", "cannot resolve '" + host + "'");
    }
  }
}
