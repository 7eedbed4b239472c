package io.flotilla.config;

import java.time.Duration;

/**
 * The HTTP front end.
 *
 * @param host address to bind
 * @param port port to bind (0 picks a free one, used by tests)
 * @param instances HTTP verticle instances; 0 means one per core
 * @param shutdownTimeout how long a graceful shutdown waits for in-flight requests
 * @param accessLog whether one access-log line is written per request
 * @param adminPort when not -1, {@code /metrics}, {@code /health/*} and the admin API
 *     ({@code /api/v1/*}) are served on this separate port (same host) and no longer on the public
 *     one; 0 picks a free port (tests)
 * @param tls PEM certificate and key served to clients (HTTP/2 via ALPN), reloaded when the files
 *     change or on SIGHUP; null serves plain HTTP
 */
public record HttpConfig(String host, int port, int instances, Duration shutdownTimeout, boolean accessLog,
    int adminPort, TlsFiles tls) {
  public static final HttpConfig DEFAULT = new HttpConfig("0.0.0.0", 5000, 0, Duration.ofSeconds(30), true, -1, null);

  /** The same settings without the separate admin listener or TLS. */
  public HttpConfig(String host, int port, int instances, Duration shutdownTimeout, boolean accessLog) {
    this(host, port, instances, shutdownTimeout, accessLog, -1, null);
  }

  public HttpConfig {
    if (host == null || host.isBlank()) {
      throw new ConfigException("http.host", "must not be empty");
    }
    if (port < 0 || port > 65535) {
      throw new ConfigException("http.port", "must be between 0 and 65535, was " + port);
    }
    if (instances < 0 || instances > 256) {
      throw new ConfigException("http.instances", "must be between 0 and 256, was " + instances);
    }
    if (adminPort < -1 || adminPort > 65535) {
      throw new ConfigException("http.adminPort", "must be between 0 and 65535 (or -1 for none), was " + adminPort);
    }
    if (adminPort > 0 && adminPort == port) {
      throw new ConfigException("http.adminPort", "must differ from http.port");
    }
    if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
      throw new ConfigException("http.shutdownTimeout", "must be a non-negative duration");
    }
  }

  /** True when the admin API and metrics have a listener of their own. */
  public boolean separateAdmin() {
    return adminPort != -1;
  }

  /** The number of verticle instances to deploy. */
  public int effectiveInstances() {
    return instances == 0 ? Runtime.getRuntime().availableProcessors() : instances;
  }
}
