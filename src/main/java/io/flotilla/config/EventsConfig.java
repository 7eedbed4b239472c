package io.flotilla.config;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Registry events: the node's durable event journal and the webhook endpoints configured in the
 * file (more can be added at runtime through {@code /api/v1/webhooks}).
 *
 * @param enabled when false the node records no events at all (no journal writes, nothing on the bus,
 *     webhooks and Kafka receive nothing); for registries that want none of it, and to measure the cost
 * @param journalMaxBytes size limit of the event journal; past it the oldest events are dropped
 *     and recorded as lost for every endpoint that had not delivered them
 * @param webhooks endpoints from the configuration file
 * @param kafka the Kafka sink (off unless configured)
 * @param allowPrivateWebhookTargets when false (the default) webhook URLs that resolve to loopback,
 *     link-local, wildcard or this node's own addresses are refused, so the webhook API cannot be used
 *     to reach services behind the node
 */
public record EventsConfig(boolean enabled, long journalMaxBytes, List<WebhookConfig> webhooks, KafkaConfig kafka,
    boolean allowPrivateWebhookTargets) {
  public static final EventsConfig DEFAULT = new EventsConfig(true, 1024L * 1024 * 1024, List.of(), KafkaConfig.OFF,
      false);

  /** The same settings with private webhook targets refused. */
  public EventsConfig(boolean enabled, long journalMaxBytes, List<WebhookConfig> webhooks, KafkaConfig kafka) {
    this(enabled, journalMaxBytes, webhooks, kafka, false);
  }

  public EventsConfig {
    if (journalMaxBytes < 1024 * 1024) {
      throw new ConfigException("events.journalMaxBytes", "must be at least 1 MiB");
    }
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
    kafka = kafka == null ? KafkaConfig.OFF : kafka;
    Set<String> names = new HashSet<>();
    for (WebhookConfig w : webhooks) {
      if (!names.add(w.name())) {
        throw new ConfigException("events.webhooks", "two endpoints are named " + w.name());
      }
    }
  }
}
