package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.ConfigLoader;
import io.flotilla.config.WebhookConfig;
import io.flotilla.testing.Await;
import io.flotilla.testing.WebhookReceiver;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dead letters and their replay, against a real HTTP receiver. */
class WebhookDispatcherTest {
  @TempDir
  Path dir;
  private Vertx vertx;
  private Context context;
  private EventJournal journal;
  private WebhookReceiver receiver;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    journal = EventJournal.open(dir.resolve("journal"), 1 << 20, 1L << 30);
    receiver = new WebhookReceiver();
  }

  @AfterEach
  void stop() throws Exception {
    receiver.close();
    journal.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void replayedDeadLettersSurviveAStopBeforeTheyAreDeliveredAndGoOnlyOnceDelivered() throws Exception {
    Path endpoint = dir.resolve("hook");
    Files.createDirectories(endpoint);
    Files.writeString(endpoint.resolve("dead-letters.jsonl"), deadLetter(1, "e1") + deadLetter(2, "e2"));
    WebhookConfig config = ConfigLoader.webhook(EventFormat.JSON.readTree("""
        {"name":"hook","url":"%s","backoff":"1h","maxBackoff":"1h","maxAttempts":1000}
        """.formatted(receiver.url("/hook"))));
    receiver.answer("/hook", 500);

    WebhookDispatcher first = load(endpoint, config);
    assertEquals(2, await(on(first::replay)));
    Await.until("the first replay attempt failed", Duration.ofSeconds(30), () -> first.status().failed() == 1);
    await(on(first::stop)); // the replayed events are not delivered yet: the next retry is an hour away

    receiver.answer("/hook", 200);
    WebhookDispatcher second = load(endpoint, config);
    context.runOnContext(v -> second.poke());
    Await.until("the replay resumed after the restart", Duration.ofSeconds(30),
        () -> accepted("e1") == 1 && accepted("e2") == 1);
    Await.until("the replay is done with", Duration.ofSeconds(30), () -> files(endpoint).equals(Set.of("cursor")));
    assertEquals(List.of(), await(on(second::deadLetters)));
    await(on(second::stop));
  }

  /**
   * Dead-lettering and replaying race: every delivery fails and gives up at once, so each event goes
   * to the dead-letter list, while replays keep taking the list away and queueing it again. Once the
   * replays stop and the last deliveries gave up, every event is on the list exactly once (before the
   * two were serialised, a line appended between a replay's read and its rename was lost); then a
   * receiver that accepts gets every one.
   */
  @Test
  void deadLettersAppendedWhileAReplayRunsAreNeverLost() throws Exception {
    Path endpoint = dir.resolve("hook");
    WebhookConfig config = ConfigLoader.webhook(EventFormat.JSON.readTree("""
        {"name":"hook","url":"%s","maxAttempts":1,"batchSize":2}
        """.formatted(receiver.url("/hook"))));
    receiver.answer("/hook", 500);
    WebhookDispatcher d = load(endpoint, config);
    int events = 60;
    Set<String> ids = new java.util.TreeSet<>();
    for (int i = 1; i <= events; i++) {
      ids.add("e" + i);
      journal.append("{\"id\":\"e" + i + "\",\"action\":\"push\",\"target\":{\"repository\":\"r\"}}")
          .get(10, TimeUnit.SECONDS);
    }
    context.runOnContext(v -> d.poke());

    int replaysWithEvents = 0;
    long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
    while (System.nanoTime() < until) {
      if (await(on(d::replay)) > 0) {
        replaysWithEvents++;
      }
      Thread.sleep(2);
    }
    assertTrue(replaysWithEvents >= 3, "replays took dead letters while deliveries went on: " + replaysWithEvents);

    Await.until("every delivery gave up and nothing is queued for replay", Duration.ofSeconds(60),
        () -> d.status().pending() == 0 && files(endpoint).equals(Set.of("cursor", "dead-letters.jsonl"))
            && await(on(d::deadLetters)).size() >= events);
    List<String> listed = await(on(d::deadLetters)).stream().map(n -> n.path("event").path("id").asText()).sorted()
        .toList();
    assertEquals(ids.stream().sorted().toList(), listed, "each event is dead-lettered exactly once");

    receiver.answer("/hook", 200);
    assertEquals(events, await(on(d::replay)));
    Await.until("every event reaches a receiver that accepts", Duration.ofSeconds(60),
        () -> ids.stream().allMatch(id -> accepted(id) >= 1));
    Await.until("the replay is done with", Duration.ofSeconds(30), () -> files(endpoint).equals(Set.of("cursor")));
    await(on(d::stop));
  }

  private WebhookDispatcher load(Path endpoint, WebhookConfig config) throws Exception {
    WebhookDispatcher d = new WebhookDispatcher(vertx, journal, vertx::createHttpClient, endpoint, config,
        new WebhookTargets(true)); // the receiver is on 127.0.0.1
    d.load();
    return d;
  }

  private long accepted(String id) {
    return receiver.received("/hook").stream()
        .filter(r -> new String(r.body(), StandardCharsets.UTF_8).contains("\"" + id + "\"")).count();
  }

  private static String deadLetter(long seq, String id) {
    return "{\"seq\":" + seq + ",\"reason\":\"gave up\",\"event\":{\"id\":\"" + id
        + "\",\"action\":\"push\",\"target\":{\"repository\":\"r\"}}}\n";
  }

  private static Set<String> files(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  private <T> Future<T> on(Supplier<Future<T>> op) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> op.get().onComplete(p));
    return p.future();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
