package io.flotilla.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The receiving end of {@code bench/events.sh}.
 *
 * <p>{@code event-receiver PORT SECONDS}: a webhook receiver on 127.0.0.1 that accepts any POST,
 * counts the events in it (distribution's envelope {@code {"events":[...]}}, a JSON array of
 * CloudEvents, or one object) per request path, and answers 200. {@code GET /stats/<path>} gives
 * {@code {"events", "requests", "firstMs", "lastMs"}} (epoch ms of the first and last delivery);
 * {@code DELETE /stats/<path>} resets. Exits by itself after SECONDS.
 *
 * <p>{@code await-events --stats URL --expect N --since MS --timeout S [--kafka HOST:PORT --topic T
 * [--kafka-only true]]}:
 * waits until the receiver counted N events at URL and, when given, the Kafka topic's partitions
 * hold N records in all; prints one JSON line with each sink's count and the epoch ms at which it
 * reached N (for Kafka: first seen by polling the end offsets every 10 ms). Exits 0 when both got
 * exactly N, 1 on timeout or on more than N.
 */
final class EventSinks {
  private EventSinks() {}

  private static final class Stats {
    long events;
    long requests;
    long firstMs;
    long lastMs;

    JsonObject json() {
      return new JsonObject().put("events", events).put("requests", requests).put("firstMs", firstMs)
          .put("lastMs", lastMs);
    }
  }

  static void receiver(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 3600;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    Map<String, Stats> stats = new HashMap<>();
    vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port).setTcpNoDelay(true))
        .requestHandler(req -> req.body().onSuccess(body -> handle(req, body, stats)))
        .listen()
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    System.err.println("event receiver on 127.0.0.1:" + port + " for " + seconds + " s");
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    vertx.close();
  }

  private static void handle(HttpServerRequest req, Buffer body, Map<String, Stats> stats) {
    String path = req.path();
    if (path.startsWith("/stats/")) {
      String key = path.substring("/stats".length());
      if (req.method() == HttpMethod.DELETE) {
        stats.remove(key);
        req.response().setStatusCode(204).end();
      } else {
        req.response().putHeader("Content-Type", "application/json")
            .end(stats.getOrDefault(key, new Stats()).json().encode());
      }
      return;
    }
    if (req.method() != HttpMethod.POST) {
      req.response().setStatusCode(405).end();
      return;
    }
    long n;
    String text = body.toString().stripLeading();
    if (text.startsWith("[")) {
      n = new JsonArray(text).size();
    } else {
      JsonArray events = new JsonObject(text).getJsonArray("events");
      n = events == null ? 1 : events.size();
    }
    long now = System.currentTimeMillis();
    Stats s = stats.computeIfAbsent(path, k -> new Stats());
    if (s.requests++ == 0) {
      s.firstMs = now;
    }
    s.events += n;
    s.lastMs = now;
    req.response().setStatusCode(200).end();
  }

  static int await(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i], args[i + 1]);
    }
    String statsUrl = a.get("--stats");
    long expect = Long.parseLong(a.get("--expect"));
    long since = Long.parseLong(a.getOrDefault("--since", "0"));
    long deadline = System.currentTimeMillis() + 1000L * Long.parseLong(a.getOrDefault("--timeout", "120"));
    String kafka = a.get("--kafka");
    boolean webhookToo = !"true".equals(a.get("--kafka-only"));
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    HttpClient http = vertx.createHttpClient(new HttpClientOptions());
    KafkaConsumer<byte[], byte[]> consumer = kafka == null ? null : consumer(kafka);
    List<TopicPartition> partitions = null;
    JsonObject webhook = new JsonObject();
    long kafkaCount = 0;
    long kafkaReached = 0;
    try {
      while (System.currentTimeMillis() < deadline) {
        webhook = http.request(HttpMethod.GET, absolute(statsUrl).port, "127.0.0.1", absolute(statsUrl).path)
            .compose(r -> r.send().compose(resp -> resp.body()))
            .map(Buffer::toJsonObject)
            .toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        if (consumer != null && kafkaReached == 0) {
          if (partitions == null || partitions.isEmpty()) {
            List<PartitionInfo> info = consumer.partitionsFor(a.get("--topic"), Duration.ofSeconds(5));
            partitions = info == null ? List.of()
                : info.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
          }
          kafkaCount = partitions.isEmpty() ? 0
              : consumer.endOffsets(partitions, Duration.ofSeconds(5)).values().stream().mapToLong(Long::longValue).sum();
          if (kafkaCount >= expect) {
            kafkaReached = System.currentTimeMillis();
          }
        }
        boolean webhookDone = !webhookToo || webhook.getLong("events", 0L) >= expect;
        if (webhookDone && (consumer == null || kafkaReached > 0)) {
          break;
        }
        Thread.sleep(10);
      }
    } finally {
      if (consumer != null) {
        consumer.close();
      }
      vertx.close();
    }
    JsonObject out = new JsonObject().put("expected", expect).put("since", since)
        .put("webhook", webhook.copy().put("reachedMs", webhook.getLong("lastMs", 0L)));
    if (consumer != null) {
      out.put("kafka", new JsonObject().put("events", kafkaCount).put("reachedMs", kafkaReached));
    }
    System.out.println(out.encode());
    boolean ok = (!webhookToo || webhook.getLong("events", 0L) == expect) && (consumer == null || kafkaCount == expect);
    return ok ? 0 : 1;
  }

  private record Url(int port, String path) {}

  private static Url absolute(String url) {
    java.net.URI u = java.net.URI.create(url);
    return new Url(u.getPort(), u.getRawPath());
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }
}
