package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streaming path of {@link BlobUploads} with a body of many high-water marks (the body is paused
 * and resumed) in chunks of every kind: smaller than a block, of exactly a block, and larger ones
 * arriving with a block partly gathered, all gathered into blocks in order.
 */
class BlobUploadsStreamTest {
  private static final RepositoryName REPO = RepositoryName.of("team/app");
  private static final int[] CHUNKS = {1_048_576, 100_000, 300_000, BlobUploads.BLOCK, 5, 1_048_576, 262_139,
      BlobUploads.BLOCK, 70_000};

  @TempDir
  Path dir;

  @Test
  void aLongBodyInMixedChunksIsStoredWholeAndVerified() throws Exception {
    byte[] content = new byte[20 * 1024 * 1024 + 12_345];
    new Random(42).nextBytes(content);
    Digest digest = Digest.sha256(content);
    try (StorageFixture f = new StorageFixture(dir, Duration.ZERO)) {
      BlobInfo info = f.onVertx(() -> f.bytes.monolithic(REPO, digest, Chunks.of(content), content.length,
          i -> Future.succeededFuture()));
      assertEquals(digest.toString(), info.digest());
      assertEquals(content.length, info.size());
      assertArrayEquals(content, Files.readAllBytes(f.blobs.path(digest)));
    }
  }

  @Test
  void aWrongDigestIsRefusedAndNothingIsStored() throws Exception {
    byte[] content = new byte[17 * 1024 * 1024 + 1_000_000];
    new Random(43).nextBytes(content);
    Digest claimed = Digest.sha256(Arrays.copyOf(content, content.length - 1));
    try (StorageFixture f = new StorageFixture(dir, Duration.ZERO)) {
      OciException e = assertThrows(OciException.class, () -> f.onVertx(() -> f.bytes.monolithic(REPO, claimed,
          Chunks.of(content), content.length, i -> Future.succeededFuture())));
      assertEquals(OciError.DIGEST_INVALID, e.error());
      assertFalse(Files.exists(f.blobs.path(claimed)));
      assertFalse(Files.exists(f.blobs.path(Digest.sha256(content))));
    }
  }

  /** A body cut into {@link #CHUNKS} (repeated), delivered on the calling context, honouring pause. */
  private static final class Chunks implements ReadStream<Buffer> {
    private final Context context = Vertx.currentContext();
    private final Deque<Buffer> left = new ArrayDeque<>();
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private boolean paused;
    private boolean scheduled;
    private boolean ended;

    static Chunks of(byte[] content) {
      Chunks c = new Chunks();
      int pos = 0;
      for (int i = 0; pos < content.length; i++) {
        int n = Math.min(CHUNKS[i % CHUNKS.length], content.length - pos);
        c.left.add(Buffer.buffer(Arrays.copyOfRange(content, pos, pos + n)));
        pos += n;
      }
      return c;
    }

    private void schedule() {
      if (!scheduled) {
        scheduled = true;
        context.runOnContext(v -> {
          scheduled = false;
          pump();
        });
      }
    }

    private void pump() {
      while (!paused && handler != null && !left.isEmpty()) {
        handler.handle(left.poll());
      }
      if (!paused && left.isEmpty() && !ended && endHandler != null) {
        ended = true;
        endHandler.handle(null);
      }
    }

    @Override
    public Chunks exceptionHandler(Handler<Throwable> h) {
      return this;
    }

    @Override
    public Chunks handler(Handler<Buffer> h) {
      handler = h;
      schedule();
      return this;
    }

    @Override
    public Chunks pause() {
      paused = true;
      return this;
    }

    @Override
    public Chunks resume() {
      paused = false;
      schedule();
      return this;
    }

    @Override
    public Chunks fetch(long amount) {
      return resume();
    }

    @Override
    public Chunks endHandler(Handler<Void> h) {
      endHandler = h;
      schedule();
      return this;
    }
  }
}
