package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trimming the journal behind the webhook endpoints and the other readers (Kafka). */
class WebhooksTest {
  private static final long SEGMENT = 4096;
  private static final int EVENTS = 200;

  @TempDir
  Path dir;
  private Vertx vertx;
  private Context context;
  private EventJournal journal;
  private Webhooks webhooks;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    journal = EventJournal.open(dir.resolve("journal"), SEGMENT, 1L << 30);
    for (int i = 0; i < EVENTS; i++) {
      journal.append("{\"n\":" + i + ",\"pad\":\"" + "x".repeat(40) + "\"}").get(); // several segments
    }
    assertTrue(segments() > 2);
    webhooks = new Webhooks(vertx, journal, vertx::createHttpClient, dir.resolve("webhooks"), List.of(),
        new WebhookTargets(true)); // endpoints on 127.0.0.1
    await(on(webhooks::start));
  }

  @AfterEach
  void stop() throws Exception {
    await(on(webhooks::stop));
    journal.close();
    await(vertx.close());
  }

  @Test
  void aReaderWhosePositionIsNotKnownYetBlocksTrimming() throws Exception {
    AtomicReference<EventJournal.Position> kafka = new AtomicReference<>(); // registered, not started yet
    webhooks.addReader(kafka::get);
    int before = segments();
    await(on(webhooks::trim));
    assertEquals(before, segments(), "nothing may go while a reader's position is unknown");
    assertEquals(EVENTS, journal.read(EventJournal.Position.START, 1000).entries().size());

    kafka.set(journal.end()); // known now, and past everything
    await(on(webhooks::trim));
    assertEquals(1, segments(), "trimmed once every position is known");
  }

  @Test
  void anEndpointBeingReplacedPinsTheJournalAtItsSavedPosition() throws Exception {
    Path endpoint = dir.resolve("webhooks").resolve("ci");
    Files.createDirectories(endpoint);
    EventJournal.Position.START.save(endpoint.resolve("cursor")); // it has delivered nothing yet
    await(on(() -> webhooks.apply(put("http://127.0.0.1:1/one"))));
    int before = segments();

    // the replacement and a trim in the same turn of the context: the old dispatcher is gone, the new one not there yet
    await(on(() -> {
      Future<Void> replaced = webhooks.apply(put("http://127.0.0.1:1/two"));
      return Future.all(replaced, webhooks.trim()).mapEmpty();
    }));
    assertEquals(before, segments(), "the replaced endpoint's backlog is kept");
    EventJournal.Batch all = journal.read(EventJournal.Position.START, 1000);
    assertEquals(0, all.skipped());
    assertEquals(EVENTS, all.entries().size());
  }

  private static String put(String url) {
    return "{\"op\":\"put\",\"revision\":" + System.nanoTime() + ",\"endpoint\":{\"name\":\"ci\",\"url\":\"" + url
        + "\",\"paused\":true}}";
  }

  private <T> Future<T> on(Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> op.get().onComplete(p));
    return p.future();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private int segments() throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("journal"))) {
      return (int) s.filter(p -> p.toString().endsWith(".log")).count();
    }
  }
}
