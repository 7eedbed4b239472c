package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.http.ErrorRenderer;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.RequestOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relayed pull (a node serving a blob that another node holds, {@link DataRelay}): whole and
 * ranged, on one keep-alive connection, and to a client slower than the idle timeout. One
 * non-clustered Vert.x is data-channel server, relaying HTTP server and HTTP client.
 */
class DataRelayTest {
  private static final RequestContext CTX = RequestContext.internal("test");
  private static final String DIGEST = "sha256:" + "ab".repeat(32);
  private static final int MIB = 1024 * 1024;
  private static final int SIZE = 16 * MIB + 12_345;

  @TempDir
  Path dir;
  private Vertx vertx;

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** Whole pulls and ranges, one after another on one keep-alive connection, arrive byte for byte. */
  @Test
  void pullsAndRangesArriveWholeOnOneConnection() throws Exception {
    byte[] blob = blob();
    Relay r = start(Duration.ofMinutes(1));
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(1));
    long[][] ranges = {{0, SIZE}, {1, 1}, {2 * MIB - 7, 2 * MIB + 14}, {0, SIZE}, {SIZE - 1, 1}};
    for (long[] range : ranges) {
      Buffer body = get(client, r.port(), range[0], range[1]).await(30, TimeUnit.SECONDS);
      assertArrayEquals(Arrays.copyOfRange(blob, (int) range[0], (int) (range[0] + range[1])), body.getBytes(),
          "range " + range[0] + "+" + range[1]);
    }
    awaitClosed(r.stats());
  }

  /**
   * A client that reads slowly but steadily for longer than the data channel's idle timeout gets
   * every byte: each 2 MiB the sender hands over counts as progress.
   */
  @Test
  void aSlowButSteadyClientOutlastsTheIdleTimeout() throws Exception {
    byte[] blob = blob();
    Relay r = start(Duration.ofMillis(3000));
    HttpClient client = vertx.createHttpClient();
    Promise<Buffer> got = Promise.promise();
    long started = System.nanoTime();
    vertx.runOnContext(v -> client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(r.port()).setURI("/blob"))
        .compose(req -> req.send())
        .onSuccess(resp -> readSlowly(resp, got))
        .onFailure(got::fail));
    Buffer body = got.future().await(60, TimeUnit.SECONDS);
    assertTrue(System.nanoTime() - started > TimeUnit.MILLISECONDS.toNanos(3500), "the read was meant to outlast the idle timeout");
    assertArrayEquals(blob, body.getBytes());
  }

  private byte[] blob() throws Exception {
    byte[] blob = new byte[SIZE];
    new Random(7).nextBytes(blob);
    Files.write(dir.resolve("blob"), blob);
    return blob;
  }

  /** Where the relay listens, and its data-channel counters. */
  private record Relay(int port, DataChannelStats stats) {
  }

  /** A data-channel server for the blob file, and an HTTP server that relays it from there. */
  private Relay start(Duration idle) throws Exception {
    vertx = Vertx.vertx();
    RecordCodec.registerAll(vertx.eventBus());
    DataChannelOptions options = new DataChannelOptions("127.0.0.1", 0, "127.0.0.1", idle, DataChannelOptions.TICKET_TTL,
        null, null);
    DataChannelStats stats = new DataChannelStats();
    OnVertx.onContext(vertx, () -> DataChannelServer.start(vertx, "holder", options, d -> dir.resolve("blob"), stats))
        .await(10, TimeUnit.SECONDS);
    DataChannelClient data = new DataChannelClient(vertx, "relay", options, stats);
    HttpServer http = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setIdleTimeout(300))
        .requestHandler(req -> {
          String range = req.getHeader("Range");
          long offset = 0;
          long length = SIZE;
          if (range != null) {
            String[] p = range.substring("bytes=".length()).split("-");
            offset = Long.parseLong(p[0]);
            length = Long.parseLong(p[1]) - offset + 1;
            req.response().setStatusCode(206);
          }
          req.response().putHeader("Content-Length", Long.toString(length));
          data.relay("holder", new OpenRead(CTX, DIGEST, offset, length), req.response())
              .onFailure(err -> ErrorRenderer.render(req, err)); // as V2Api does
        });
    int port = OnVertx.onContext(vertx, () -> http.listen()).await(10, TimeUnit.SECONDS).actualPort();
    return new Relay(port, stats);
  }

  private Future<Buffer> get(HttpClient client, int port, long offset, long length) {
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port).setURI("/blob");
    if (offset != 0 || length != SIZE) {
      o.putHeader("Range", "bytes=" + offset + "-" + (offset + length - 1));
    }
    return OnVertx.onContext(vertx, () -> client.request(o).compose(req -> req.send()).compose(HttpClientResponse::body));
  }

  /** Reads about 4 MiB per second: pauses after each MiB for 250 ms. */
  private void readSlowly(HttpClientResponse resp, Promise<Buffer> got) {
    Buffer all = Buffer.buffer(SIZE);
    long[] sincePause = {0};
    resp.handler(b -> {
      all.appendBuffer(b);
      sincePause[0] += b.length();
      if (sincePause[0] >= 1024 * 1024) {
        sincePause[0] = 0;
        resp.pause();
        vertx.setTimer(250, t -> resp.resume());
      }
    });
    resp.exceptionHandler(got::tryFail);
    resp.endHandler(v -> got.tryComplete(all));
  }

  private static void awaitClosed(DataChannelStats stats) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (stats.openConnections() != 0) {
      assertTrue(System.nanoTime() < deadline, "data connections left open: " + stats.openConnections());
      Thread.sleep(20);
    }
  }
}
