package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.testing.Images;
import io.flotilla.testing.KafkaBroker;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.ProcessCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka sink against a real KRaft broker: pushes, pulls and a delete through a 2-node cluster
 * arrive on the topic once each, keyed by repository, in order per repository, with every field.
 */
class KafkaEventsIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void everyOperationReachesTheTopicKeyedByRepositoryInOrder() throws Exception {
    try (KafkaBroker kafka = KafkaBroker.start(dir.resolve("kafka"));
        ProcessCluster cluster = ProcessCluster.start(dir.resolve("nodes"), 2, "127.0.0.1", Map.of(
            "FLOTILLA_EVENTS_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
            "FLOTILLA_EVENTS_KAFKA_TOPIC", "registry-events"))) {
      OciClient a = new OciClient(cluster.node(0).url());
      OciClient b = new OciClient(cluster.node(1).url());
      Images.Pushed img = Images.push(a, "kafka/app", "v1", 1, 7);
      assertEquals(200, b.get("/v2/kafka/app/manifests/v1",
          Map.of("Accept", "application/vnd.oci.image.manifest.v1+json")).statusCode());
      assertEquals(202, a.send("DELETE", "/v2/kafka/app/manifests/" + img.manifest(), null, Map.of()).statusCode());
      Images.Pushed other = Images.push(b, "kafka/other", "latest", 1, 8);

      List<String> expected = List.of(
          "push kafka/app " + img.config(), "push kafka/app " + img.layers().get(0), "push kafka/app " + img.manifest(),
          "pull kafka/app " + img.manifest(), "delete kafka/app " + img.manifest(),
          "push kafka/other " + other.config(), "push kafka/other " + other.layers().get(0),
          "push kafka/other " + other.manifest());
      List<ConsumerRecord<String, String>> records = consume(kafka.bootstrapServers(), expected.size());
      List<String> got = new ArrayList<>();
      for (ConsumerRecord<String, String> r : records) {
        JsonNode e = JSON.readTree(r.value());
        assertEquals(e.at("/target/repository").asText(), r.key(), "the key is the repository");
        assertTrue(!e.path("id").asText().isEmpty() && !e.path("timestamp").asText().isEmpty());
        assertEquals("anonymous", e.at("/actor/name").asText());
        assertTrue(e.at("/source/instanceID").asText().startsWith("node-"));
        assertTrue(!e.at("/request/id").asText().isEmpty() && !e.at("/request/method").asText().isEmpty());
        got.add(e.path("action").asText() + " " + r.key() + " " + e.at("/target/digest").asText());
        if (got.get(got.size() - 1).equals("push kafka/app " + img.manifest())) {
          assertEquals("v1", e.at("/target/tag").asText());
          assertEquals(img.body().length, e.at("/target/size").asLong());
          assertEquals("application/vnd.oci.image.manifest.v1+json", e.at("/target/mediaType").asText());
        }
      }
      assertEquals(expected.stream().sorted().toList(), got.stream().sorted().toList(), "each operation once");
      List<String> appWrites = got.stream().filter(k -> k.contains("kafka/app " + img.manifest()) && !k.startsWith("pull"))
          .toList();
      assertEquals(List.of("push kafka/app " + img.manifest(), "delete kafka/app " + img.manifest()), appWrites,
          "in order per repository");
    }
  }

  private static List<ConsumerRecord<String, String>> consume(String bootstrap, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of("registry-events"));
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(out::add);
        if (out.size() >= count) {
          consumer.poll(Duration.ofMillis(1500)).forEach(out::add); // nothing extra may follow
          return out;
        }
      }
    }
    throw new AssertionError("only " + out.size() + " of " + count + " records arrived: " + out);
  }
}
