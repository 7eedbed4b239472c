package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.StreamMessages.Credit;
import io.flotilla.bus.StreamMessages.OpenRead;
import io.flotilla.bus.StreamMessages.OpenWrite;
import io.flotilla.bus.StreamMessages.StreamAbort;
import io.flotilla.bus.StreamMessages.StreamEnd;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream protocol on one non-clustered Vert.x: credit accounting, protocol violations and
 * count checks of the receiving end, and small round trips in both directions.
 */
class BusStreamTest {
  private static final RequestContext CTX = RequestContext.internal("test");
  private static final StreamOptions SMALL = StreamOptions.DEFAULTS.withWindow(4).withChunkSize(1000);

  @TempDir
  Path dir;
  private Vertx vertx;
  private final List<Object> control = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    RecordCodec.registerAll(vertx.eventBus());
    vertx.eventBus().consumer("test.control", m -> control.add(m.body()));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private <T> T await(Supplier<Future<T>> action) throws Exception {
    try {
      return BlobStreamClient.onContext(vertx, action).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  /** A receiving end attached to the fake control address, with its exception captured. */
  private record Receiver(BusReadStream stream, Promise<Throwable> failure) {}

  private Receiver receiver(int window) throws Exception {
    return receiver(SMALL.withWindow(window));
  }

  private Receiver receiver(StreamOptions options) throws Exception {
    return await(() -> {
      BusReadStream s = new BusReadStream(vertx, options, true);
      Promise<Throwable> failure = Promise.promise();
      s.exceptionHandler(failure::tryComplete);
      return s.registered().map(v -> {
        s.attach("test.control", -1);
        return new Receiver(s, failure);
      });
    });
  }

  private void sendChunk(String address, long seq, int size) {
    vertx.eventBus().send(address, new StreamMessages.Chunk(seq, Buffer.buffer(new byte[size])));
  }

  private static void waitFor(Supplier<Boolean> condition) throws InterruptedException {
    for (int i = 0; i < 500 && !condition.get(); i++) {
      Thread.sleep(10);
    }
    assertTrue(condition.get(), "condition not reached");
  }

  @Test
  void optionsRejectUnboundedValues() {
    assertThrows(IllegalArgumentException.class, () -> StreamOptions.DEFAULTS.withWindow(0));
    assertThrows(IllegalArgumentException.class, () -> StreamOptions.DEFAULTS.withChunkSize(StreamOptions.MAX_CHUNK + 1));
    assertThrows(IllegalArgumentException.class, () -> StreamOptions.DEFAULTS.withIdleTimeout(Duration.ZERO));
  }

  @Test
  void aChunkBeyondTheCreditFailsTheStreamAndTellsTheSender() throws Exception {
    Receiver r = receiver(2);
    await(() -> {
      r.stream().pause().handler(b -> { });
      return Future.succeededFuture();
    });
    for (int seq = 0; seq < 3; seq++) {
      sendChunk(r.stream().address(), seq, 10);
    }
    Throwable err = r.failure().future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(OciError.UNKNOWN, assertInstanceOf(OciException.class, err).error());
    assertTrue(err.getMessage().contains("protocol violation"), err.getMessage());
    waitFor(() -> control.stream().anyMatch(StreamAbort.class::isInstance));
  }

  @Test
  void aSilentSenderFailsTheReaderAfterTheIdleTimeout() throws Exception {
    Receiver r = receiver(SMALL.withIdleTimeout(Duration.ofMillis(200)));
    sendChunk(r.stream().address(), 0, 10);
    Throwable err = r.failure().future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(OciError.UNAVAILABLE, assertInstanceOf(OciException.class, err).error());
    assertTrue(err.getMessage().contains("sender sent nothing"), err.getMessage());
    waitFor(() -> control.stream().anyMatch(StreamAbort.class::isInstance));
  }

  @Test
  void aChunkOutOfSequenceFailsTheStream() throws Exception {
    Receiver r = receiver(4);
    sendChunk(r.stream().address(), 1, 10);
    Throwable err = r.failure().future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(err.getMessage().contains("protocol violation"), err.getMessage());
  }

  @Test
  void anEndWithTheWrongCountFailsWithSizeInvalid() throws Exception {
    Receiver r = receiver(4);
    sendChunk(r.stream().address(), 0, 10);
    vertx.eventBus().send(r.stream().address(), new StreamEnd(11, 1));
    Throwable err = r.failure().future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(OciError.SIZE_INVALID, assertInstanceOf(OciException.class, err).error());
  }

  @Test
  void creditIsGrantedInHalfWindowsOrWhenTheSenderHasNone() throws Exception {
    Receiver r = receiver(4);
    await(() -> {
      r.stream().pause().handler(b -> { });
      return Future.succeededFuture();
    });
    sendChunk(r.stream().address(), 0, 10);
    sendChunk(r.stream().address(), 1, 10);
    waitFor(() -> r.stream().bufferedChunks() == 2);
    await(() -> Future.succeededFuture(r.stream().fetch(1)));  // 1 free of 4, sender still has 2: nothing yet
    await(() -> Future.succeededFuture(r.stream().fetch(1)));  // 2 free: half a window
    for (int seq = 2; seq < 6; seq++) {
      sendChunk(r.stream().address(), seq, 10);
    }
    waitFor(() -> r.stream().bufferedChunks() == 4);
    await(() -> Future.succeededFuture(r.stream().fetch(1)));  // sender has no credit left: 1 at once
    waitFor(() -> control.size() == 2);
    assertEquals(List.of(new Credit(2), new Credit(1)), control);
    assertEquals(4, r.stream().maxBufferedChunks());
  }

  @Test
  void readsAndWritesRoundTripOnOneNode() throws Exception {
    byte[] content = new byte[10_500];
    new Random(7).nextBytes(content);
    Files.write(dir.resolve("blob"), content);
    BlobStreamServer server = await(() -> BlobStreamServer.start(vertx, "n1", SMALL, d -> dir.resolve(d)));
    server.handleWrites("collect", (req, body) -> body.collect(java.util.stream.Collectors.reducing(Buffer.buffer(),
        Buffer::appendBuffer)).map(all -> new StreamEnd(all.length(), Long.parseLong(req.params().get("tag")))));

    Buffer read = await(() -> BlobStreamClient.open(vertx, "n1", new OpenRead(CTX, "blob", 500, 10_000), SMALL)
        .compose(s -> s.collect(java.util.stream.Collectors.reducing(Buffer.buffer(), Buffer::appendBuffer))));
    assertArrayEquals(java.util.Arrays.copyOfRange(content, 500, 10_500), read.getBytes());
    waitFor(() -> server.openFiles() == 0);

    StreamEnd written = await(() -> BlobStreamClient.openWrite(vertx, "n1",
            new OpenWrite(CTX, "collect", Map.of("tag", "42"), content.length), StreamEnd.class, SMALL)
        .compose(ws -> ws.write(Buffer.buffer(content)).compose(v -> ws.end()).compose(v -> ws.result())));
    assertEquals(new StreamEnd(content.length, 42), written);

    Future<Done> empty = BlobStreamClient.onContext(vertx, () -> BlobStreamClient.open(vertx, "n1",
        new OpenRead(CTX, "blob", content.length, 0), SMALL).compose(s -> s.collect(java.util.stream.Collectors.counting()))
        .map(n -> new Done()));
    assertEquals(new Done(), empty.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
  }
}
