package io.flotilla.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One webhook endpoint: where events go, how they are signed and retried, and which ones it wants.
 *
 * @param name unique id of the endpoint (letters, digits, {@code .-_})
 * @param url where batches of events are POSTed
 * @param headers extra request headers
 * @param timeout per delivery attempt
 * @param backoff first retry delay; doubles per attempt, with jitter, up to {@code maxBackoff}
 * @param maxAttempts attempts of one batch before its events go to the dead-letter list
 * @param maxAge events older than this when an attempt fails go to the dead-letter list
 * @param actions only these actions (empty: all)
 * @param mediaTypes only targets with these media types (empty: all)
 * @param repositories glob of repository names ({@code *} within a path segment, {@code **} across)
 * @param secret HMAC-SHA256 key for the {@code Flotilla-Signature} header (may be empty: unsigned)
 * @param format {@code distribution} or {@code cloudevents}
 * @param batchSize events per request at most
 * @param paused whether delivery is paused (events keep queueing)
 */
public record WebhookConfig(String name, String url, Map<String, String> headers, Duration timeout, Duration backoff,
    Duration maxBackoff, int maxAttempts, Duration maxAge, List<String> actions, List<String> mediaTypes,
    String repositories, String secret, String format, int batchSize, boolean paused) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  public WebhookConfig {
    String where = "events.webhooks[" + name + "]";
    if (name == null || !NAME.matcher(name).matches()) {
      throw new ConfigException("events.webhooks.name", "must match " + NAME.pattern() + ", was '" + name + "'");
    }
    if (url == null || !(url.startsWith("http://") || url.startsWith("https://"))) {
      throw new ConfigException(where + ".url", "must be an http or https URL, was '" + url + "'");
    }
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
    backoff = backoff == null ? Duration.ofSeconds(1) : backoff;
    maxBackoff = maxBackoff == null ? Duration.ofMinutes(5) : maxBackoff;
    maxAge = maxAge == null ? Duration.ofDays(1) : maxAge;
    if (timeout.toMillis() < 1 || backoff.toMillis() < 1 || maxBackoff.compareTo(backoff) < 0 || maxAge.toMillis() < 1) {
      throw new ConfigException(where, "timeout, backoff and maxAge must be positive and maxBackoff >= backoff");
    }
    maxAttempts = maxAttempts == 0 ? 10 : maxAttempts;
    if (maxAttempts < 1) {
      throw new ConfigException(where + ".maxAttempts", "must be at least 1");
    }
    actions = actions == null ? List.of() : List.copyOf(actions);
    for (String a : actions) {
      if (!List.of("push", "pull", "mount", "delete", "scan").contains(a)) {
        throw new ConfigException(where + ".actions", "'" + a + "' is not push, pull, mount, delete or scan");
      }
    }
    mediaTypes = mediaTypes == null ? List.of() : List.copyOf(mediaTypes);
    repositories = repositories == null || repositories.isBlank() ? "**" : repositories;
    secret = secret == null ? "" : secret;
    format = format == null || format.isBlank() ? "distribution" : format;
    if (!format.equals("distribution") && !format.equals("cloudevents")) {
      throw new ConfigException(where + ".format", "must be distribution or cloudevents, was '" + format + "'");
    }
    batchSize = batchSize == 0 ? 100 : batchSize;
    if (batchSize < 1 || batchSize > 1000) {
      throw new ConfigException(where + ".batchSize", "must be between 1 and 1000");
    }
  }

  /** This endpoint, paused or resumed. */
  public WebhookConfig withPaused(boolean p) {
    return new WebhookConfig(name, url, headers, timeout, backoff, maxBackoff, maxAttempts, maxAge, actions, mediaTypes,
        repositories, secret, format, batchSize, p);
  }
}
