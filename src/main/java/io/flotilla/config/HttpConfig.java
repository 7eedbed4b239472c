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
 */
public record HttpConfig(String host, int port, int instances, Duration shutdownTimeout, boolean accessLog) {
  public static final HttpConfig DEFAULT = new HttpConfig("0.0.0.0", 5000, 0, Duration.ofSeconds(30), true);

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
    if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
      throw new ConfigException("http.shutdownTimeout", "must be a non-negative duration");
    }
  }

  /** The number of verticle instances to deploy. */
  public int effectiveInstances() {
    return instances == 0 ? Runtime.getRuntime().availableProcessors() : instances;
  }
}
