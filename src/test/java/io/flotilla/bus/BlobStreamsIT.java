package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.flotilla.bus.BlobStreamServer.SentStream;
import io.flotilla.bus.BusWriteStream.Outcome;
import io.flotilla.bus.StreamMessages.OpenRead;
import io.flotilla.bus.StreamMessages.OpenWrite;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blob streams between two clustered Vert.x nodes in one JVM (Hazelcast, TCP-IP join on
 * loopback, a random cluster name per run): reads with flow control, ranges, cancellation, missing
 * blobs, writes into a handler, and both idle timeouts. Node "a" serves its disk {@code dirA},
 * node "b" its disk {@code dirB}; no file is shared between them.
 */
class BlobStreamsIT {
  private static final RequestContext CTX = RequestContext.internal("blob-streams-it");
  private static final int WINDOW = StreamOptions.DEFAULTS.window();
  private static final int CHUNK = StreamOptions.DEFAULTS.chunkSize();
  private static final int BIG = 64 * 1024 * 1024;
  private static final int WRITE_SIZE = 32 * 1024 * 1024;

  @TempDir
  static Path dirA;
  @TempDir
  static Path dirB;
  static Vertx a;
  static Vertx b;
  static BlobStreamServer serverA;
  static BlobStreamServer fastServerA;
  static BlobStreamServer serverB;
  static String bigSha;
  static String writeSourceSha;

  /** Result of the test write handler: what it wrote to its disk. */
  record Written(String sha256, long bytes) {}

  @BeforeAll
  static void startCluster() throws Exception {
    bigSha = randomFile(dirA.resolve("big"), BIG, 1);
    writeSourceSha = randomFile(dirA.resolve("upload-source"), WRITE_SIZE, 2);
    String cluster = "blob-streams-" + UUID.randomUUID();
    int portA = freePort();
    int portB = freePort();
    List<String> members = List.of("127.0.0.1:" + portA, "127.0.0.1:" + portB);
    HazelcastClusterManager cmA = new HazelcastClusterManager(hazelcast(cluster, portA, members));
    HazelcastClusterManager cmB = new HazelcastClusterManager(hazelcast(cluster, portB, members));
    Future<Vertx> fa = clustered(cmA);
    Future<Vertx> fb = clustered(cmB);
    a = get(fa);
    b = get(fb);
    for (int i = 0; i < 600 && !(cmA.getNodes().size() == 2 && cmB.getNodes().size() == 2
        && cmA.getHazelcastInstance().getPartitionService().isClusterSafe()); i++) {
      Thread.sleep(50);
    }
    assertEquals(2, cmA.getNodes().size(), "cluster formed");
    for (Vertx v : List.of(a, b)) {
      RecordCodec.registerAll(v.eventBus());
      v.eventBus().registerDefaultCodec(Written.class, new RecordCodec<>(Written.class));
    }
    serverA = get(BlobStreamServer.start(a, "a", StreamOptions.DEFAULTS, d -> dirA.resolve(d)));
    fastServerA = get(BlobStreamServer.start(a, "a-fast",
        StreamOptions.DEFAULTS.withIdleTimeout(Duration.ofMillis(500)), d -> dirA.resolve(d)));
    serverB = get(BlobStreamServer.start(b, "b", StreamOptions.DEFAULTS, d -> dirB.resolve(d)));
    serverB.handleWrites("test.copy", BlobStreamsIT::copyToDisk);
    serverB.handleWrites("test.reject", (req, body) -> body.collect(java.util.stream.Collectors.counting())
        .compose(n -> Future.failedFuture(OciError.DIGEST_INVALID.with("rejected " + n + " chunks"))));
    serverB.handleWrites("test.stall", (req, body) -> {
      Promise<Written> never = Promise.promise();
      body.pause().handler(buf -> { }).exceptionHandler(never::tryFail);
      return never.future();
    });
  }

  @AfterAll
  static void stopCluster() throws Exception {
    for (Vertx v : new Vertx[] {b, a}) {
      if (v != null) {
        get(v.close());
      }
    }
  }

  @Test
  void aReadOf64MiBCrossesNodesIntactWithAtMostTheWindowInFlight() throws Exception {
    CompletableFuture<SentStream> sent = sentBy(serverA, s -> s.bytes() == BIG);
    GatedSink sink = new GatedSink(b, BIG);
    BusReadStream stream = get(onB(() -> BlobStreamClient.open(b, "a", OpenRead.whole(CTX, "big"))
        .compose(s -> {
          sink.source = s;
          return s.pipeTo(sink).map(s);
        })));
    assertEquals(bigSha, sink.hex());
    assertEquals(BIG, stream.length());
    assertEquals(BIG, stream.bytesReceived());
    assertTrue(sink.gates >= 5, "the consumer held the stream back " + sink.gates + " times");
    assertEquals(WINDOW, stream.maxBufferedChunks(), "buffered chunks reached the window and never exceeded it");
    assertEquals(List.of(), sink.overflows, "chunks buffered beyond the window while the consumer held back");
    SentStream done = sent.get(10, TimeUnit.SECONDS);
    assertEquals(new SentStream("big", BIG, Outcome.COMPLETED), done);
    waitFor(() -> serverA.openFiles() == 0);
  }

  @Test
  void aByteRangeIsReadAndARangeOutsideTheBlobIsRefused() throws Exception {
    long offset = 1_000_003;
    int length = 5_000_001;
    byte[] expected = new byte[length];
    try (var f = new java.io.RandomAccessFile(dirA.resolve("big").toFile(), "r")) {
      f.seek(offset);
      f.readFully(expected);
    }
    BusReadStream[] stream = new BusReadStream[1];
    String hex = get(onB(() -> BlobStreamClient.open(b, "a", new OpenRead(CTX, "big", offset, length))
        .compose(s -> {
          stream[0] = s;
          return sha256(s);
        })));
    assertEquals(sha256(expected), hex);
    assertEquals(length, stream[0].length());
    OciException outside = failure(onB(() -> BlobStreamClient.open(b, "a", new OpenRead(CTX, "big", BIG - 10, 11))));
    assertEquals(OciError.RANGE_INVALID, outside.error());
    waitFor(() -> serverA.openFiles() == 0);
  }

  @Test
  void aReaderThatCancelsMidwayMakesTheSenderReleaseTheFile() throws Exception {
    CompletableFuture<SentStream> sent = sentBy(serverA, s -> s.outcome() == Outcome.CANCELLED);
    get(onB(() -> BlobStreamClient.open(b, "a", OpenRead.whole(CTX, "big")).compose(s -> {
      Promise<Void> cancelled = Promise.promise();
      int[] chunks = {0};
      s.handler(buf -> {
        if (++chunks[0] == 10) {
          s.cancel().onComplete(cancelled);
        }
      });
      return cancelled.future();
    })));
    SentStream done = sent.get(10, TimeUnit.SECONDS);
    assertEquals(Outcome.CANCELLED, done.outcome());
    assertTrue(done.bytes() < BIG, "stopped early: " + done.bytes());
    waitFor(() -> serverA.openFiles() == 0);
  }

  @Test
  void aMissingBlobIsBlobUnknown() throws Exception {
    OciException e = failure(onB(() -> BlobStreamClient.open(b, "a", OpenRead.whole(CTX, "not-there"))));
    assertEquals(OciError.BLOB_UNKNOWN, e.error());
    assertEquals(0, serverA.openFiles());
  }

  @Test
  void a32MiBWriteReachesTheOtherNodesHandlerWhichAnswersWithItsResult() throws Exception {
    BusWriteStream<Written> ws = get(onA(() -> BlobStreamClient.openWrite(a, "b",
        new OpenWrite(CTX, "test.copy", Map.of("name", "copy"), WRITE_SIZE), Written.class)));
    Written written = get(onA(() -> a.fileSystem().open(dirA.resolve("upload-source").toString(), new OpenOptions().setRead(true))
        .compose(file -> file.pipeTo(ws)).compose(v -> ws.result())));
    assertEquals(new Written(writeSourceSha, WRITE_SIZE), written);
    assertEquals(writeSourceSha, sha256(Files.readAllBytes(dirB.resolve("copy"))));
    assertEquals(Outcome.COMPLETED, get(ws.outcome()));
    assertTrue(copyMaxBuffered <= WINDOW, "receiver buffered " + copyMaxBuffered + " chunks");
  }

  @Test
  void aHandlerFailureAndAnUnknownPurposeComeBackAsOciErrors() throws Exception {
    OciException rejected = failure(onA(() -> BlobStreamClient.openWrite(a, "b",
            new OpenWrite(CTX, "test.reject", Map.of(), -1), Written.class)
        .compose(ws -> ws.write(Buffer.buffer(new byte[3 * CHUNK + 1])).compose(v -> ws.end()))));
    assertEquals(OciError.DIGEST_INVALID, rejected.error());
    assertEquals("rejected 4 chunks", rejected.detail());
    OciException unknown = failure(onA(() -> BlobStreamClient.openWrite(a, "b",
        new OpenWrite(CTX, "test.nobody", Map.of(), -1), Written.class)));
    assertEquals(OciError.UNSUPPORTED, unknown.error());
  }

  @Test
  void aStalledReaderMakesTheSenderTimeOutAndReleaseTheFile() throws Exception {
    CompletableFuture<SentStream> sent = sentBy(fastServerA, s -> true);
    CompletableFuture<Throwable> readerFailure = new CompletableFuture<>();
    BusReadStream stream = get(onB(() -> BlobStreamClient.open(b, "a-fast", OpenRead.whole(CTX, "big")).map(s -> {
      s.pause().handler(buf -> { }).exceptionHandler(readerFailure::complete);
      return s;
    })));
    SentStream done = sent.get(15, TimeUnit.SECONDS);
    assertEquals(Outcome.TIMED_OUT, done.outcome());
    assertEquals((long) WINDOW * CHUNK, done.bytes(), "the sender sent exactly its credit");
    assertEquals(0, fastServerA.openFiles());
    OciException told = assertInstanceOf(OciException.class, readerFailure.get(10, TimeUnit.SECONDS));
    assertEquals(OciError.UNAVAILABLE, told.error());
    assertEquals(WINDOW, stream.maxBufferedChunks());
  }

  @Test
  void aReceiverThatStopsTakingBytesMakesTheWriterTimeOut() throws Exception {
    StreamOptions fast = StreamOptions.DEFAULTS.withIdleTimeout(Duration.ofMillis(500));
    OciException e = failure(onA(() -> BlobStreamClient.openWrite(a, "b",
            new OpenWrite(CTX, "test.stall", Map.of(), -1), Written.class, fast)
        .compose(ws -> writeUntilFailure(ws, Buffer.buffer(new byte[CHUNK])))));
    assertEquals(OciError.UNAVAILABLE, e.error());
    assertTrue(e.detail().contains("no credit"), e.detail());
  }

  // ---- the write handler of node b -------------------------------------------------------------

  static volatile int copyMaxBuffered;

  /** Writes the body to {@code dirB/<name>} with backpressure and answers with its sha256. */
  private static Future<Written> copyToDisk(OpenWrite request, ReadStream<Buffer> body) {
    body.pause();
    Path target = dirB.resolve(request.params().get("name"));
    return b.fileSystem().open(target.toString(), new OpenOptions().setWrite(true).setCreate(true).setTruncateExisting(true))
        .compose(file -> {
          MessageDigest md = sha256();
          long[] bytes = {0};
          Promise<Written> done = Promise.promise();
          body.handler(buf -> {
            md.update(buf.getBytes());
            bytes[0] += buf.length();
            file.write(buf);
            if (file.writeQueueFull()) {
              body.pause();
              file.drainHandler(v -> body.resume());
            }
          });
          body.exceptionHandler(err -> file.close().onComplete(x -> done.tryFail(err)));
          body.endHandler(v -> {
            copyMaxBuffered = ((BusReadStream) body).maxBufferedChunks();
            file.close().map(x -> new Written(HexFormat.of().formatHex(md.digest()), bytes[0])).onComplete(done);
          });
          body.resume();
          return done.future();
        });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /**
   * A hashing sink that, every 16 chunks while at least a window remains, reports itself full
   * until the source has buffered a whole window, then watches the buffer for a while longer:
   * a correct receiver stays at exactly the window.
   */
  static final class GatedSink implements WriteStream<Buffer> {
    final Vertx vertx;
    final long total;
    final MessageDigest md = sha256();
    final List<Integer> overflows = new java.util.ArrayList<>();
    BusReadStream source;
    long bytes;
    int chunks;
    int gates;
    boolean full;
    Handler<Void> drain;
    String hex;

    GatedSink(Vertx vertx, long total) {
      this.vertx = vertx;
      this.total = total;
    }

    String hex() {
      return hex;
    }

    @Override
    public Future<Void> write(Buffer data) {
      md.update(data.getBytes());
      bytes += data.length();
      if (++chunks % 16 == 0 && total - bytes >= (long) (WINDOW + 1) * CHUNK) {
        full = true;
        int[] ticks = {0};
        vertx.setPeriodic(2, id -> {
          int buffered = source.bufferedChunks();
          if (buffered > WINDOW) {
            overflows.add(buffered);
          }
          if (buffered == WINDOW && ++ticks[0] == 20) {
            vertx.cancelTimer(id);
            gates++;
            full = false;
            drain.handle(null);
          }
        });
      }
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> end() {
      hex = HexFormat.of().formatHex(md.digest());
      return Future.succeededFuture();
    }

    @Override
    public boolean writeQueueFull() {
      return full;
    }

    @Override
    public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
      this.drain = handler;
      return this;
    }

    @Override
    public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
      return this;
    }

    @Override
    public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
      return this;
    }
  }

  /** Writes chunks, honouring the write queue, until a write fails; fails with that failure. */
  private static Future<Void> writeUntilFailure(BusWriteStream<?> ws, Buffer chunk) {
    Promise<Void> failed = Promise.promise();
    ws.exceptionHandler(failed::tryFail);
    Runnable[] pump = new Runnable[1];
    pump[0] = () -> {
      while (!ws.writeQueueFull() && !failed.future().isComplete()) {
        ws.write(chunk).onFailure(failed::tryFail);
      }
      ws.drainHandler(v -> pump[0].run());
    };
    pump[0].run();
    return failed.future();
  }

  private static Future<String> sha256(ReadStream<Buffer> s) {
    MessageDigest md = sha256();
    Promise<String> p = Promise.promise();
    s.handler(buf -> md.update(buf.getBytes()));
    s.exceptionHandler(p::tryFail);
    s.endHandler(v -> p.tryComplete(HexFormat.of().formatHex(md.digest())));
    return p.future();
  }

  /** The next stream {@code server} reports that matches (earlier tests' streams may still report). */
  private static CompletableFuture<SentStream> sentBy(BlobStreamServer server, java.util.function.Predicate<SentStream> which) {
    CompletableFuture<SentStream> sent = new CompletableFuture<>();
    server.sentHandler(s -> {
      if (which.test(s)) {
        sent.complete(s);
      }
    });
    return sent;
  }

  private static <T> Future<T> onA(Supplier<Future<T>> action) {
    return BlobStreamClient.onContext(a, action);
  }

  private static <T> Future<T> onB(Supplier<Future<T>> action) {
    return BlobStreamClient.onContext(b, action);
  }

  private static <T> T get(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  private static OciException failure(Future<?> f) throws Exception {
    try {
      Object unexpected = f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure, got " + unexpected);
    } catch (ExecutionException e) {
      return assertInstanceOf(OciException.class, e.getCause());
    }
  }

  private static void waitFor(Supplier<Boolean> condition) throws InterruptedException {
    for (int i = 0; i < 500 && !condition.get(); i++) {
      Thread.sleep(10);
    }
    assertTrue(condition.get(), "condition not reached");
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  private static String randomFile(Path path, int size, long seed) throws IOException {
    Random random = new Random(seed);
    MessageDigest md = sha256();
    byte[] block = new byte[1024 * 1024];
    try (OutputStream out = Files.newOutputStream(path)) {
      for (int written = 0; written < size; written += block.length) {
        random.nextBytes(block);
        md.update(block);
        out.write(block);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static Future<Vertx> clustered(HazelcastClusterManager cm) {
    VertxOptions options = new VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1").setClusterPublicHost("127.0.0.1").setPort(0);
    return Vertx.builder().with(options).withClusterManager(cm).buildClustered();
  }

  private static Config hazelcast(String cluster, int port, List<String> members) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(cluster);
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    hz.setProperty("hazelcast.logging.type", "jdk");
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.socket.bind.any", "false");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(port).setPortAutoIncrement(false);
    net.getInterfaces().setEnabled(true).setInterfaces(List.of("127.0.0.1"));
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    return hz;
  }
}
