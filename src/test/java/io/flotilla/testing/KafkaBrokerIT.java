package io.flotilla.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link KafkaBroker} starts a working broker: records produced to it can be consumed back. */
class KafkaBrokerIT {
  @TempDir Path dir;

  @Test
  void producesAndConsumesThroughARealBroker() throws Exception {
    long started = System.nanoTime();
    try (KafkaBroker kafka = KafkaBroker.start(dir)) {
      System.out.printf("Kafka broker ready at %s after %d ms%n",
          kafka.bootstrapServers(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      String topic = "flotilla-it-" + UUID.randomUUID();
      Map<String, String> sent = new LinkedHashMap<>();
      for (int i = 0; i < 3; i++) {
        sent.put("key-" + i, "value-" + i);
      }

      Properties producerConfig = new Properties();
      producerConfig.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
      producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(producerConfig, new StringSerializer(), new StringSerializer())) {
        for (Map.Entry<String, String> record : sent.entrySet()) {
          producer.send(new ProducerRecord<>(topic, record.getKey(), record.getValue())).get(30, TimeUnit.SECONDS);
        }
      }

      Properties consumerConfig = new Properties();
      consumerConfig.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
      consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, "flotilla-it-" + UUID.randomUUID());
      consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      Map<String, String> received = new LinkedHashMap<>();
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(topic));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.size() < sent.size() && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
            received.put(record.key(), record.value());
          }
        }
      }

      assertEquals(sent, received, () -> "records consumed back; broker log:\n" + kafka.log());
    }
  }
}
