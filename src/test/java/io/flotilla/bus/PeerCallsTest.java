package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bus.Messages.CollectGarbage;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.bus.DataMessages.OpenWrite;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.GcReport;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PeerCalls} on one non-clustered Vert.x, where "node-x" is just a node-scoped address
 * served here that never answers: a request and open streams to it end as soon as a view without
 * it is reported (not at their 30 min / 30 s timeouts), and a new request to a non-member is
 * refused before it is sent.
 */
class PeerCallsTest {
  private static final RequestContext CTX = RequestContext.internal("test");
  private static final DataChannelOptions DATA = new DataChannelOptions("127.0.0.1", 0, "127.0.0.1",
      java.time.Duration.ofMinutes(1), DataChannelOptions.TICKET_TTL, null, null);

  @TempDir
  Path dir;
  private Vertx vertx;
  private final AtomicInteger received = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    RecordCodec.registerAll(vertx.eventBus());
    // a 30 min request that node-x takes and never answers
    vertx.eventBus().consumer(Addresses.GC_RUN.on("node-x"), msg -> received.incrementAndGet())
        .completion().await(5, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aRequestInFlightFailsWhenItsNodeLeaves() throws Exception {
    PeerCalls calls = PeerCalls.of(vertx);
    calls.view(List.of("self", "node-x"));
    Future<GcReport> gc = OnVertx.onContext(vertx, () -> Bus.request(vertx, Addresses.GC_RUN, "node-x", false, new CollectGarbage(CTX, false)));
    waitFor(() -> received.get() == 1);
    assertEquals(1, calls.inFlight("node-x"));

    calls.view(List.of("self"));
    OciException e = OnVertx.failure(gc, java.time.Duration.ofSeconds(5));
    assertEquals(OciError.UNAVAILABLE, e.error());
    assertTrue(e.detail().contains("node-x left the cluster"), e.detail());
    assertEquals(0, calls.inFlight("node-x"));
  }

  @Test
  void aRequestToANonMemberIsRefusedUntilTheNodeIsBack() throws Exception {
    vertx.eventBus().consumer(Addresses.USAGE_GET.on("node-y"), msg -> {
      received.incrementAndGet();
      msg.fail(503, "{\"code\":\"DENIED\",\"detail\":\"answered\"}");
    }).completion().await(5, TimeUnit.SECONDS);
    PeerCalls calls = PeerCalls.of(vertx);
    calls.view(List.of("self"));
    OciException refused = OnVertx.failure(OnVertx.onContext(vertx, () -> Bus.request(vertx, Addresses.USAGE_GET, "node-y", false,
        new Messages.GetUsage(CTX))), java.time.Duration.ofSeconds(5));
    assertEquals(OciError.UNAVAILABLE, refused.error());
    assertEquals(0, received.get(), "nothing was sent");

    calls.view(List.of("self", "node-y"));
    OciException answered = OnVertx.failure(OnVertx.onContext(vertx, () -> Bus.request(vertx, Addresses.USAGE_GET, "node-y", false,
        new Messages.GetUsage(CTX))), java.time.Duration.ofSeconds(5));
    assertEquals(OciError.DENIED, answered.error(), "node-y is a member again and answered");
    assertEquals(1, received.get());
  }

  @Test
  void openDataTransfersFailWhenTheirNodeLeaves() throws Exception {
    Files.write(dir.resolve("blob"), new byte[16 * 1024 * 1024]);
    DataChannelStats stats = new DataChannelStats();
    DataChannelServer server = OnVertx.onContext(vertx, () -> DataChannelServer.start(vertx, "node-x", DATA, d -> dir.resolve(d), stats))
        .await(10, TimeUnit.SECONDS);
    server.handleWrites("never", (req, body) -> {
      body.pause();
      return Promise.<Done>promise().future();
    });
    DataChannelClient client = new DataChannelClient(vertx, "self", DATA, stats);
    PeerCalls calls = PeerCalls.of(vertx);
    calls.view(List.of("self", "node-x"));

    // a read nobody consumes: the socket is paused and TCP holds the sender, as a pull behind a slow client
    Promise<Throwable> readFailure = Promise.promise();
    OnVertx.onContext(vertx, () -> client.open("node-x", new OpenRead(CTX, "blob", 0, -1))
        .onSuccess(s -> s.exceptionHandler(readFailure::tryComplete))).await(10, TimeUnit.SECONDS);
    // a write the receiver never takes: it waits for an answer that does not come
    DataWriteStream<Done> write = OnVertx.onContext(vertx, () -> client.openWrite("node-x",
        new OpenWrite(CTX, "never", Map.of(), 100_000), Done.class)).await(10, TimeUnit.SECONDS);
    OnVertx.onContext(vertx, () -> write.write(Buffer.buffer(new byte[100_000])).compose(v -> write.end()));
    waitFor(() -> calls.inFlight("node-x") == 2);

    calls.view(List.of("self"));
    Throwable readErr = readFailure.future().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertEquals(OciError.UNAVAILABLE, assertInstanceOf(OciException.class, readErr).error());
    assertEquals(OciError.UNAVAILABLE, OnVertx.failure(write.result(), java.time.Duration.ofSeconds(5)).error());
    assertEquals(0, calls.inFlight("node-x"));
    waitFor(() -> stats.openConnections() == 0);
  }



  private static void waitFor(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(10);
    }
  }
}
