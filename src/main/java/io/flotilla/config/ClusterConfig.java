package io.flotilla.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Hazelcast membership of this node.
 *
 * @param name cluster name; nodes only join a cluster of the same name
 * @param host address Hazelcast binds and advertises
 * @param port Hazelcast member port
 * @param members TCP-IP join list, {@code host:port} each; empty means a single-member cluster
 * @param hazelcastConfig optional Hazelcast XML file; when set it is used as the base and the keys
 *     above override its network section
 * @param replicationFactor how many nodes hold each repository (capped by the member count)
 * @param writeQuorum how many owners (the primary included) must hold a pushed manifest and its
 *     blobs before the push is acknowledged; 0 means every live owner
 * @param rebalanceInterval how often a node re-checks, besides on every membership change, that the
 *     owners of its repositories hold them (retries failed moves)
 * @param handoffTimeout how long a graceful leave waits for its repositories to reach their new owners
 * @param tls the cluster's certificate: when set, the event bus and the node-to-node byte channel run
 *     over mutual TLS against {@code tls.ca}, and a member counts only once it has proved it holds a
 *     certificate; null runs them in plain text (development), with a warning at start
 * @param dataPort port of the data channel (blob bytes between nodes), bound on {@code host}; -1 (the
 *     default) means {@code port + 100} (5801 next to Hazelcast's 5701), 0 a free port
 * @param dataIdleTimeout how long a data-channel connection may see no byte move either way before it
 *     is closed (a peer that stopped reading or sending)
 */
public record ClusterConfig(String name, String host, int port, List<String> members, Path hazelcastConfig,
    int replicationFactor, int writeQuorum, Duration rebalanceInterval, Duration handoffTimeout, TlsFiles tls,
    int dataPort, Duration dataIdleTimeout) {
  /** The data port used when none is configured: this far above the Hazelcast port. */
  public static final int DATA_PORT_OFFSET = 100;
  public static final Duration DEFAULT_DATA_IDLE_TIMEOUT = Duration.ofSeconds(30);
  public static final ClusterConfig DEFAULT = new ClusterConfig("flotilla", "127.0.0.1", 5701, List.of(), null, 2,
      0, Duration.ofSeconds(30), Duration.ofMinutes(10), null, -1, DEFAULT_DATA_IDLE_TIMEOUT);

  /** The same settings without cluster TLS. */
  public ClusterConfig(String name, String host, int port, List<String> members, Path hazelcastConfig,
      int replicationFactor, int writeQuorum, Duration rebalanceInterval, Duration handoffTimeout) {
    this(name, host, port, members, hazelcastConfig, replicationFactor, writeQuorum, rebalanceInterval,
        handoffTimeout, null, -1, DEFAULT_DATA_IDLE_TIMEOUT);
  }

  public ClusterConfig {
    if (name == null || name.isBlank()) {
      throw new ConfigException("cluster.name", "must not be empty");
    }
    if (host == null || host.isBlank()) {
      throw new ConfigException("cluster.host", "must not be empty");
    }
    if (port < 0 || port > 65535) {
      throw new ConfigException("cluster.port", "must be between 0 and 65535, was " + port);
    }
    if (dataPort < -1 || dataPort > 65535) {
      throw new ConfigException("cluster.dataPort", "must be between 0 and 65535 (or -1: cluster.port + "
          + DATA_PORT_OFFSET + "), was " + dataPort);
    }
    if (dataPort == -1 && port + DATA_PORT_OFFSET > 65535) {
      throw new ConfigException("cluster.dataPort", "must be set when cluster.port + " + DATA_PORT_OFFSET
          + " is not a port");
    }
    if (dataIdleTimeout == null || dataIdleTimeout.toMillis() < 100) {
      throw new ConfigException("cluster.dataIdleTimeout", "must be at least 100ms");
    }
    if (replicationFactor < 1 || replicationFactor > 16) {
      throw new ConfigException("cluster.replicationFactor", "must be between 1 and 16, was " + replicationFactor);
    }
    if (writeQuorum < 0 || writeQuorum > replicationFactor) {
      throw new ConfigException("cluster.writeQuorum", "must be between 0 (all owners) and the replication factor "
          + replicationFactor + ", was " + writeQuorum);
    }
    if (rebalanceInterval == null || rebalanceInterval.toMillis() < 100) {
      throw new ConfigException("cluster.rebalanceInterval", "must be at least 100ms");
    }
    if (handoffTimeout == null || handoffTimeout.isNegative()) {
      throw new ConfigException("cluster.handoffTimeout", "must not be negative");
    }
    members = List.copyOf(members == null ? List.of() : members);
    for (String m : members) {
      int colon = m.lastIndexOf(':');
      if (m.isBlank() || colon == 0 || colon == m.length() - 1) {
        throw new ConfigException("cluster.members", "'" + m + "' is not host or host:port");
      }
      if (colon > 0) {
        try {
          int p = Integer.parseInt(m.substring(colon + 1));
          if (p < 1 || p > 65535) {
            throw new NumberFormatException();
          }
        } catch (NumberFormatException e) {
          throw new ConfigException("cluster.members", "'" + m + "' has an invalid port");
        }
      }
    }
  }

  /** The data channel's port: {@code dataPort}, or {@code port + 100} when it is -1 (0 when port is 0). */
  public int effectiveDataPort() {
    if (dataPort >= 0) {
      return dataPort;
    }
    return port == 0 ? 0 : port + DATA_PORT_OFFSET;
  }
}
