package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.RequestContext;
import io.flotilla.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hub on a real (local) Vert.x and journal: pulls are recorded without waiting, writes wait for
 * their sync, and the bus gets batches, and only while a consumer is subscribed.
 */
class EventHubTest {
  private static final RequestContext CTX = new RequestContext("req-1", "alice", "10.0.0.1", "registry", "GET", "it");

  @TempDir
  Path dir;
  Vertx vertx;
  EventJournal journal;
  EventHub hub;
  final List<JsonArray> batches = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    journal = EventJournal.open(dir, 1 << 20, 1L << 30, 20, EventJournal.Verifier.ALL_DONE);
    hub = new EventHub(vertx, journal, "node-a", "127.0.0.1:5000");
    hub.start().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.eventBus().<String>consumer(EventHub.ADDRESS, m -> batches.add(new JsonObject(m.body()).getJsonArray("events")))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    journal.close();
  }

  @Test
  void aPullIsRecordedWithoutWaitingAndReachesTheJournalWithinTheWindow() throws Exception {
    var recorded = hub.record(CTX, pull("sha256:aa"));
    assertTrue(recorded.isComplete() && recorded.succeeded(), "a pull does not wait for its event");
    Await.until("the pull event is durable and readable", Duration.ofSeconds(10), () -> journal.lastSeq() == 1);
    JsonObject event = new JsonObject(journal.read(EventJournal.Position.START, 10).entries().get(0).json());
    assertEquals("pull", event.getString("action"));
    assertEquals("alice", event.getJsonObject("actor").getString("name"));
    assertEquals("node-a", event.getJsonObject("source").getString("instanceID"));
    assertEquals("http://127.0.0.1:5000/v2/team/app/manifests/sha256:aa", event.getJsonObject("target").getString("url"));
  }

  @Test
  void withoutASubscriptionNothingIsPublished() throws Exception {
    hub.record(CTX, push("sha256:bb")).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(1, journal.lastSeq(), "journaled all the same");
    assertEquals(0, hub.publishedMessages());
    assertEquals(List.of(), batches);
  }

  @Test
  void subscribedConsumersGetEveryEventInBatchesInOrder() throws Exception {
    vertx.eventBus().publish(EventHub.SUBSCRIBE_ADDRESS, "test");
    Await.until("the subscription is heard", Duration.ofSeconds(10), hub::subscribed);
    List<io.vertx.core.Future<Void>> writes = new java.util.ArrayList<>();
    for (int i = 0; i < 200; i++) {
      writes.add(hub.record(CTX, push("sha256:" + i)));
    }
    io.vertx.core.Future.all(writes).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Await.until("all 200 events published", Duration.ofSeconds(10),
        () -> batches.stream().mapToInt(JsonArray::size).sum() == 200);
    List<String> digests = batches.stream().flatMap(b -> b.stream())
        .map(e -> ((JsonObject) e).getJsonObject("target").getString("digest")).toList();
    assertEquals(java.util.stream.IntStream.range(0, 200).mapToObj(i -> "sha256:" + i).toList(), digests, "in order");
    assertTrue(hub.publishedMessages() <= journal.syncCount(), "at most one message per journal sync, not per event");
  }

  private static Operation pull(String digest) {
    return new Operation("pull", "team/app", digest, "application/vnd.oci.image.manifest.v1+json", 10, null, null, null);
  }

  private static Operation push(String digest) {
    return new Operation("push", "team/app", digest, "application/vnd.oci.image.manifest.v1+json", 10, "v1", null, null);
  }
}
