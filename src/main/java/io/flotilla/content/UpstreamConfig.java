package io.flotilla.content;

import io.flotilla.config.ConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * How to reach one upstream registry: its base URL, the credentials to present, TLS trust, and how
 * long and how often to try. Validated on construction, so an invalid one cannot exist;
 * {@link #toString} never shows the password.
 *
 * @param url base URL, {@code http} or {@code https}, without user info, query or fragment; the
 *     distribution API is under {@code <url>/v2/} (a path prefix is kept, a trailing slash dropped)
 * @param username null for anonymous access; with a password, used for HTTP Basic and at token endpoints
 * @param password null exactly when {@code username} is null
 * @param verifyTls whether server certificates and host names are checked (off only for tests and labs)
 * @param caCertificate PEM file of the CA(s) to trust instead of the JVM's trust store; null: the JVM's
 * @param requestTimeout connect timeout, and the longest silence while waiting for or reading an answer
 *     (a blob stream its caller keeps paused that long fails too)
 * @param maxAttempts attempts of a request that meets 429, 502, 503, 504 or a connection error (1: no retry)
 * @param initialBackoff wait before the second attempt; doubles per attempt, with jitter
 * @param maxBackoff longest wait between attempts, also the cap on a {@code Retry-After} the upstream asks for
 */
public record UpstreamConfig(URI url, String username, String password, boolean verifyTls, Path caCertificate,
    Duration requestTimeout, int maxAttempts, Duration initialBackoff, Duration maxBackoff) {

  public UpstreamConfig {
    if (url == null) {
      throw new ConfigException("upstream.url", "is required");
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!url.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
      throw new ConfigException("upstream.url", "must be an http or https URL with a host, was '" + safe(url) + "'");
    }
    if (url.getRawUserInfo() != null) {
      throw new ConfigException("upstream.url", "must not carry credentials (use username and password)");
    }
    if (url.getRawQuery() != null || url.getRawFragment() != null) {
      throw new ConfigException("upstream.url", "must not have a query or fragment, was '" + safe(url) + "'");
    }
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    url = URI.create(scheme + "://" + url.getRawAuthority() + path);
    if ((username == null) != (password == null)) {
      throw new ConfigException("upstream.username", "username and password go together");
    }
    if (username != null && (username.isEmpty() || username.contains(":"))) {
      throw new ConfigException("upstream.username", "must be non-empty and contain no ':'");
    }
    if (caCertificate != null && !verifyTls) {
      throw new ConfigException("upstream.caCertificate", "makes no sense with verifyTls off");
    }
    requestTimeout = requestTimeout == null ? Duration.ofSeconds(30) : requestTimeout;
    initialBackoff = initialBackoff == null ? Duration.ofMillis(500) : initialBackoff;
    maxBackoff = maxBackoff == null ? Duration.ofSeconds(30) : maxBackoff;
    if (requestTimeout.toMillis() < 1 || initialBackoff.toMillis() < 1 || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new ConfigException("upstream", "requestTimeout and initialBackoff must be positive and maxBackoff >= initialBackoff");
    }
    maxAttempts = maxAttempts == 0 ? 4 : maxAttempts;
    if (maxAttempts < 1 || maxAttempts > 20) {
      throw new ConfigException("upstream.maxAttempts", "must be between 1 and 20");
    }
  }

  /** Anonymous access to {@code url}, certificates verified against the JVM's trust store, default timeouts. */
  public static UpstreamConfig of(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (java.net.URISyntaxException | NullPointerException e) {
      throw new ConfigException("upstream.url", "is not a URL");
    }
    return new UpstreamConfig(uri, null, null, true, null, null, 0, null, null);
  }

  /** The same, presenting these credentials. */
  public UpstreamConfig withCredentials(String user, String secret) {
    return new UpstreamConfig(url, user, secret, verifyTls, caCertificate, requestTimeout, maxAttempts, initialBackoff,
        maxBackoff);
  }

  /** The same, trusting only the CA(s) in this PEM file. */
  public UpstreamConfig withCaCertificate(Path pem) {
    return new UpstreamConfig(url, username, password, true, pem, requestTimeout, maxAttempts, initialBackoff,
        maxBackoff);
  }

  /** The same, accepting any certificate for any host name (tests and labs only). */
  public UpstreamConfig withoutTlsVerification() {
    return new UpstreamConfig(url, username, password, false, null, requestTimeout, maxAttempts, initialBackoff,
        maxBackoff);
  }

  public UpstreamConfig withRequestTimeout(Duration timeout) {
    return new UpstreamConfig(url, username, password, verifyTls, caCertificate, timeout, maxAttempts, initialBackoff,
        maxBackoff);
  }

  public UpstreamConfig withRetries(int attempts, Duration initial, Duration max) {
    return new UpstreamConfig(url, username, password, verifyTls, caCertificate, requestTimeout, attempts, initial, max);
  }

  /** Whether credentials are configured. */
  public boolean hasCredentials() {
    return username != null;
  }

  /** Everything but the password, which shows only as set or not. */
  @Override
  public String toString() {
    return "UpstreamConfig[url=" + url + ", username=" + username + ", password=" + (password == null ? "none" : "***")
        + ", verifyTls=" + verifyTls + ", caCertificate=" + caCertificate + ", requestTimeout=" + requestTimeout
        + ", maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff + ", maxBackoff=" + maxBackoff + "]";
  }

  /** A URL for an error message: without its user info, which may hold a password. */
  private static String safe(URI url) {
    String s = url.toString();
    return url.getRawUserInfo() == null ? s : s.replace(url.getRawUserInfo() + "@", "***@");
  }
}
