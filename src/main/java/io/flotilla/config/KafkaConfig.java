package io.flotilla.config;

/**
 * The Kafka sink of registry events; off when {@code bootstrapServers} is empty.
 *
 * @param bootstrapServers {@code host:port,...} of the Kafka cluster
 * @param topic where events go; the record key is the repository (order per repository)
 * @param format {@code distribution} (one event's JSON per record) or {@code cloudevents}
 *     (a structured-mode CloudEvent per record)
 */
public record KafkaConfig(String bootstrapServers, String topic, String format) {
  public static final KafkaConfig OFF = new KafkaConfig("", "flotilla-events", "distribution");

  public KafkaConfig {
    bootstrapServers = bootstrapServers == null ? "" : bootstrapServers.trim();
    if (topic == null || !topic.matches("[A-Za-z0-9._-]{1,249}")) {
      throw new ConfigException("events.kafka.topic", "is not a valid topic name: '" + topic + "'");
    }
    format = format == null || format.isBlank() ? "distribution" : format;
    if (!format.equals("distribution") && !format.equals("cloudevents")) {
      throw new ConfigException("events.kafka.format", "must be distribution or cloudevents, was '" + format + "'");
    }
  }

  public boolean enabled() {
    return !bootstrapServers.isEmpty();
  }
}
