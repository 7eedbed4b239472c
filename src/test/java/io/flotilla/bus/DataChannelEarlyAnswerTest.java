package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bus.DataMessages.OpenWrite;
import io.flotilla.bus.Messages.Done;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A receiver that answers before the body ends (a forwarded PATCH at the wrong offset is refused
 * with 416 before its bytes are read) must have its answer reach the writer: the writer is still
 * sending, and a receiver that closed at once would reset the connection and lose the answer
 * (seen in CI as a 500 instead of a 416). One non-clustered Vert.x serves and writes.
 */
class DataChannelEarlyAnswerTest {
  private static final RequestContext CTX = RequestContext.internal("test");
  private static final DataChannelOptions DATA = new DataChannelOptions("127.0.0.1", 0, "127.0.0.1",
      Duration.ofMinutes(1), DataChannelOptions.TICKET_TTL, null, null);
  private static final int BODY = 16 * 1024 * 1024;

  @TempDir
  Path dir;
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    RecordCodec.registerAll(vertx.eventBus());
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void anAnswerBeforeTheEndOfTheBodyReachesTheWriter() throws Exception {
    Path file = dir.resolve("body");
    Files.write(file, new byte[BODY]);
    DataChannelStats stats = new DataChannelStats();
    DataChannelServer server = OnVertx.onContext(vertx, () -> DataChannelServer.start(vertx, "node-x", DATA, d -> dir.resolve(d), stats))
        .await(10, TimeUnit.SECONDS);
    // refuses at once, reading nothing, as the upload path does for a PATCH at the wrong offset
    server.handleWrites("refuse", (req, body) -> Future.failedFuture(
        OciError.RANGE_INVALID.with("the upload is at 0, not at " + req.length())));
    DataChannelClient client = new DataChannelClient(vertx, "self", DATA, stats);

    for (int i = 0; i < 10; i++) {
      Future<Done> result = OnVertx.onContext(vertx, () -> vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true))
          .compose(body -> client.openWrite("node-x", new OpenWrite(CTX, "refuse", Map.of(), BODY), Done.class)
              .compose(write -> sendAndClose(write, body))));
      OciException err = OnVertx.failure(result, java.time.Duration.ofSeconds(20));
      assertEquals(OciError.RANGE_INVALID, err.error(), "attempt " + i + ": " + err.getMessage());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (stats.openConnections() != 0) {
      assertTrue(System.nanoTime() < deadline, "connections left open: " + stats.openConnections());
      Thread.sleep(10);
    }
  }

  private static Future<Done> sendAndClose(DataWriteStream<Done> write, AsyncFile body) {
    return write.send(body).onComplete(ar -> body.close());
  }


}
