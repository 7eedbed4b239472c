package io.flotilla.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The two wire formats of a batch of events: distribution's envelope
 * ({@code {"events":[...]}}, media type {@link #DISTRIBUTION_MEDIA_TYPE}) and a CloudEvents 1.0
 * JSON batch ({@link #CLOUDEVENTS_BATCH_MEDIA_TYPE}), one CloudEvent per registry event with the
 * registry event as {@code data}.
 */
public enum EventFormat {
  DISTRIBUTION, CLOUDEVENTS;

  public static final String DISTRIBUTION_MEDIA_TYPE = "application/vnd.docker.distribution.events.v2+json";
  public static final String CLOUDEVENTS_BATCH_MEDIA_TYPE = "application/cloudevents-batch+json";
  static final ObjectMapper JSON = new ObjectMapper();

  /** The configuration name: {@code distribution} or {@code cloudevents}. */
  public static EventFormat of(String name) {
    return name == null || name.isBlank() || name.equalsIgnoreCase("distribution") ? DISTRIBUTION
        : name.equalsIgnoreCase("cloudevents") ? CLOUDEVENTS : failUnknown(name);
  }

  private static EventFormat failUnknown(String name) {
    throw new IllegalArgumentException("unknown event format '" + name + "' (distribution or cloudevents)");
  }

  public String mediaType() {
    return this == DISTRIBUTION ? DISTRIBUTION_MEDIA_TYPE : CLOUDEVENTS_BATCH_MEDIA_TYPE;
  }

  /** The request body for a batch of events (given as their stored JSON). */
  public byte[] body(List<String> eventsJson) {
    try {
      if (this == DISTRIBUTION) {
        ObjectNode envelope = JSON.createObjectNode();
        ArrayNode events = envelope.putArray("events");
        for (String e : eventsJson) {
          events.add(JSON.readTree(e));
        }
        return JSON.writeValueAsBytes(envelope);
      }
      ArrayNode batch = JSON.createArrayNode();
      for (String e : eventsJson) {
        RegistryEvent event = JSON.readValue(e, RegistryEvent.class);
        ObjectNode ce = batch.addObject();
        ce.put("specversion", "1.0");
        ce.put("id", event.id());
        ce.put("source", "/flotilla/" + event.source().instanceID());
        ce.put("type", "io.flotilla.registry." + event.action());
        ce.put("time", event.timestamp());
        if (event.target() != null && event.target().repository() != null) {
          ce.put("subject", event.target().repository());
        }
        ce.put("datacontenttype", "application/json");
        ce.set("data", JSON.readTree(e));
      }
      return JSON.writeValueAsBytes(batch);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
