package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.config.KafkaConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delivers this node's events to a Kafka topic from the durable journal, with the same guarantees
 * as the webhooks: at least once, in journal order (the record key is the repository, so a
 * consumer sees each repository's events in order), resumed from the saved journal position after a
 * restart. The producer is idempotent with {@code acks=all}; a batch is acknowledged by Kafka before
 * the position moves past it, and a failed batch is retried (with a capped backoff) until Kafka takes
 * it. Runs on the Vert.x context it was started on.
 */
public final class KafkaSink {
  private static final System.Logger LOG = System.getLogger(KafkaSink.class.getName());
  private static final int BATCH = 500;

  private final Vertx vertx;
  private final EventJournal journal;
  private final KafkaConfig config;
  private final Path dir;
  private KafkaProducer<String, String> producer;
  private JournalCursor cursor;
  private boolean running;
  private boolean poked;
  private boolean stopped;
  private int failures;
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  public KafkaSink(Vertx vertx, EventJournal journal, KafkaConfig config, Path dir) {
    this.vertx = vertx;
    this.journal = journal;
    this.config = config;
    this.dir = dir;
  }

  /** Events Kafka acknowledged, and failed attempts, since start. */
  public long delivered() {
    return delivered.get();
  }

  public long failed() {
    return failed.get();
  }

  public EventJournal.Position savedPosition() {
    return cursor == null ? null : cursor.saved();
  }

  /** Opens the producer and loads the saved position (a new sink starts after the newest event). */
  public Future<Void> start() {
    producer = KafkaProducer.create(vertx, Map.of(
        "bootstrap.servers", config.bootstrapServers(),
        "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
        "value.serializer", "org.apache.kafka.common.serialization.StringSerializer",
        "acks", "all",
        "enable.idempotence", "true",
        "max.in.flight.requests.per.connection", "5",
        "linger.ms", "5",
        "delivery.timeout.ms", "30000",
        "request.timeout.ms", "10000"));
    return vertx.executeBlocking(() -> {
      Files.createDirectories(dir);
      return JournalCursor.load(vertx, dir.resolve("cursor"), journal.end());
    }, false).map(c -> {
      cursor = c;
      poke();
      return null;
    });
  }

  public Future<Void> stop() {
    stopped = true;
    Future<Void> saved = cursor == null ? Future.succeededFuture() : cursor.close();
    return producer == null ? saved : saved.compose(v -> producer.close());
  }

  /** New events may be there. Call on the context. */
  public void poke() {
    if (stopped) {
      return;
    }
    if (running) {
      poked = true;
      return;
    }
    running = true;
    poked = false;
    next().onComplete(ar -> {
      running = false;
      if (ar.failed()) {
        failed.incrementAndGet();
        long delay = Math.min(30_000, 200L << Math.min(8, failures++));
        LOG.log(System.Logger.Level.WARNING, "kafka sink: " + ar.cause().getMessage() + "; retrying in " + delay + " ms");
        vertx.setTimer(delay, t -> poke());
      } else {
        failures = 0;
        if (poked || ar.result()) {
          poke();
        }
      }
    });
  }

  private Future<Boolean> next() {
    EventJournal.Position from = cursor.position();
    return vertx.executeBlocking(() -> journal.read(from, BATCH), false).compose(batch -> {
      if (batch.skipped() > 0) {
        LOG.log(System.Logger.Level.ERROR, "kafka sink: " + batch.skipped()
            + " events were dropped from the full journal before they were produced");
      }
      List<Future<?>> sends = new ArrayList<>();
      EventFormat format = EventFormat.of(config.format());
      for (EventJournal.Entry e : batch.entries()) {
        sends.add(producer.send(KafkaProducerRecord.create(config.topic(), repositoryOf(e.json()), value(format, e.json()))));
      }
      return Future.all(sends).compose(all -> {
        delivered.addAndGet(batch.entries().size());
        if (batch.next().equals(from)) {
          return Future.succeededFuture(false);
        }
        cursor.advance(batch.next());
        return Future.succeededFuture(batch.entries().size() == BATCH);
      });
    });
  }

  private static String value(EventFormat format, String json) {
    if (format == EventFormat.DISTRIBUTION) {
      return json;
    }
    try {
      JsonNode batch = EventFormat.JSON.readTree(format.body(List.of(json)));
      return batch.get(0).toString();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String repositoryOf(String json) {
    try {
      return EventFormat.JSON.readTree(json).at("/target/repository").asText();
    } catch (IOException e) {
      return "";
    }
  }
}
