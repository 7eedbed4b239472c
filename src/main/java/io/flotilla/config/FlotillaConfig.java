package io.flotilla.config;

import java.util.regex.Pattern;

/**
 * The whole configuration of one node. Built only through {@link ConfigLoader} or the compact
 * constructors of its parts, each of which validates, so an invalid configuration cannot exist.
 *
 * @param nodeName this node's name, unique in the cluster; used as its instance id in events
 */
public record FlotillaConfig(String nodeName, HttpConfig http, StorageConfig storage, ClusterConfig cluster,
    EventsConfig events, AuthConfig auth, ScanConfig scan) {
  private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  public FlotillaConfig {
    if (nodeName == null || !NODE_NAME.matcher(nodeName).matches()) {
      throw new ConfigException("node.name", "must match " + NODE_NAME.pattern() + ", was '" + nodeName + "'");
    }
    if (http == null || storage == null || cluster == null) {
      throw new ConfigException("(root)", "http, storage and cluster sections are required");
    }
    events = events == null ? EventsConfig.DEFAULT : events;
    auth = auth == null ? AuthConfig.OPEN : auth;
    scan = scan == null ? ScanConfig.DEFAULT : scan;
  }

  /** A configuration with the default scanning settings. */
  public FlotillaConfig(String nodeName, HttpConfig http, StorageConfig storage, ClusterConfig cluster,
      EventsConfig events, AuthConfig auth) {
    this(nodeName, http, storage, cluster, events, auth, ScanConfig.DEFAULT);
  }

  /** A configuration without access control (the open registry). */
  public FlotillaConfig(String nodeName, HttpConfig http, StorageConfig storage, ClusterConfig cluster,
      EventsConfig events) {
    this(nodeName, http, storage, cluster, events, AuthConfig.OPEN);
  }

  public FlotillaConfig withHttp(HttpConfig h) {
    return new FlotillaConfig(nodeName, h, storage, cluster, events, auth, scan);
  }

  public FlotillaConfig withStorage(StorageConfig s) {
    return new FlotillaConfig(nodeName, http, s, cluster, events, auth, scan);
  }

  public FlotillaConfig withScan(ScanConfig sc) {
    return new FlotillaConfig(nodeName, http, storage, cluster, events, auth, sc);
  }

  public FlotillaConfig withAuth(AuthConfig a) {
    return new FlotillaConfig(nodeName, http, storage, cluster, events, a, scan);
  }

  public FlotillaConfig withCluster(ClusterConfig c) {
    return new FlotillaConfig(nodeName, http, storage, c, events, auth, scan);
  }
}
