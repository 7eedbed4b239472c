package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.function.Function;

/**
 * The byte path of blob uploads on this node: streams a request body into an upload session's data
 * file while hashing it (writing and hashing in parallel, on the session's two lanes), with backpressure (the request is paused while more than
 * {@link #HIGH_WATER} bytes wait for the disk), and commits verified blobs. Bytes are never held
 * whole in memory. Must be called on a Vert.x context; file work runs on the session's lane.
 */
public final class BlobUploads {
  static final int HIGH_WATER = 8 * 1024 * 1024;
  static final int LOW_WATER = 2 * 1024 * 1024;
  static final int BLOCK = 256 * 1024;

  private final Vertx vertx;
  private final UploadStore uploads;
  private final BlobStore blobs;
  private final MetadataStore metadata;

  public BlobUploads(Vertx vertx, UploadStore uploads, BlobStore blobs, MetadataStore metadata) {
    this.vertx = vertx;
    this.uploads = uploads;
    this.blobs = blobs;
    this.metadata = metadata;
  }

  /**
   * Appends a request body to a session.
   *
   * @param rangeStart the first byte's offset from Content-Range, or -1 when absent
   * @param expectedLength the body's declared length, or -1 when unknown
   * @return the new acknowledged offset; RANGE_INVALID (416) when rangeStart is not the offset
   */
  public Future<Long> append(RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength) {
    return claim(repository, uploadId, rangeStart).compose(s ->
        stream(s, body, expectedLength, true).andThen(ar -> s.release()).map(v -> s.offset()));
  }

  /**
   * Finishes a session: appends an optional last body, verifies the digest, commits and links the
   * blob, then reports it ({@code report}, the push's event) and completes once that is done too.
   */
  public Future<BlobInfo> finish(RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength, Function<BlobInfo, Future<Void>> report) {
    return claim(repository, uploadId, rangeStart).compose(s -> {
      if (body != null && isSmall(expectedLength)) {
        return gather(body, expectedLength)
            .compose(bytes -> onLane(s, () -> appendAndCommit(s, bytes, expected)))
            .compose(info -> report.apply(info).map(info))
            .andThen(ar -> s.release());
      }
      Future<Void> appended = body == null ? Future.succeededFuture() : stream(s, body, expectedLength, false);
      return appended.compose(v -> commit(s, expected, report)).andThen(ar -> s.release());
    });
  }

  /**
   * Whether a body of this declared length takes the small path: no longer than one {@link #BLOCK}
   * (what the streaming path holds in memory anyway), so it is gathered on the event loop and then
   * written, hashed, synced, verified and committed in one task on the session's lane - one worker
   * hand-off instead of one per step. Most config blobs and small layers take it.
   */
  static boolean isSmall(long expectedLength) {
    return expectedLength >= 0 && expectedLength <= BLOCK;
  }

  /**
   * The whole body of a declared small length, gathered in memory; SIZE_INVALID when it is longer
   * or shorter than declared (nothing is kept).
   */
  private static Future<byte[]> gather(ReadStream<Buffer> body, long expectedLength) {
    Promise<byte[]> promise = Promise.promise();
    byte[] bytes = new byte[(int) expectedLength];
    int[] fill = {0};
    body.handler(buf -> {
      if (promise.future().isComplete()) {
        return;
      }
      int n = buf.length();
      if (fill[0] + n > bytes.length) {
        promise.tryFail(OciError.SIZE_INVALID.with("received more bytes than Content-Length said (" + expectedLength + ")"));
        return;
      }
      buf.getBytes(0, n, bytes, fill[0]);
      fill[0] += n;
    });
    body.exceptionHandler(promise::tryFail);
    body.endHandler(v -> {
      if (fill[0] != bytes.length) {
        promise.tryFail(OciError.SIZE_INVALID.with("received " + fill[0] + " bytes, Content-Length said " + expectedLength));
      } else {
        promise.tryComplete(bytes);
      }
    });
    body.resume();
    return promise.future();
  }

  /** Work on a session's lane that answers a value or fails. */
  @FunctionalInterface
  private interface LaneCall<T> {
    T call() throws IOException;
  }

  /** Runs {@code work} on the session's write lane and completes on the calling context. */
  private <T> Future<T> onLane(UploadSession s, LaneCall<T> work) {
    Context ctx = vertx.getOrCreateContext();
    Promise<T> promise = Promise.promise();
    s.lane().execute(() -> {
      try {
        T value = work.call();
        ctx.runOnContext(v -> promise.complete(value));
      } catch (IOException | RuntimeException e) {
        ctx.runOnContext(v -> promise.fail(e));
      }
    });
    return promise.future();
  }

  /**
   * The small path's lane task: appends {@code bytes} at the acknowledged offset, hashes them,
   * syncs, verifies the digest and commits the blob; on a failed write the session is rolled back
   * to its acknowledged offset.
   */
  private BlobInfo appendAndCommit(UploadSession s, byte[] bytes, Digest expected) throws IOException {
    long acknowledged = s.offset();
    try {
      s.prepareFile();
      s.prepareHash(acknowledged);
      s.write(ByteBuffer.wrap(bytes));
      s.hash(ByteBuffer.wrap(bytes));
      s.acknowledge(false);
    } catch (IOException | RuntimeException e) {
      s.rollbackFile();
      s.resetHash();
      throw e;
    }
    MessageDigest md = expected.algorithm() == DigestAlgorithm.SHA256
        ? s.sha256Snapshot() : s.rehash(expected.algorithm(), s.offset());
    return commitVerified(s, Digest.fromBytes(expected.algorithm(), md.digest()), expected);
  }

  /** Commits a session whose content hashed to {@code actual}; DIGEST_INVALID (and the session dropped) unless it is {@code expected}. Lane work. */
  private BlobInfo commitVerified(UploadSession s, Digest actual, Digest expected) throws IOException {
    if (!actual.equals(expected)) {
      uploads.remove(s);
      throw OciError.DIGEST_INVALID.with("uploaded content has digest " + actual + ", not " + expected);
    }
    s.prepareFile();
    s.close();
    long size = blobs.commit(s.dataFile(), actual, stored -> metadata.linkBlob(s.repository(), actual, stored));
    uploads.remove(s);
    return new BlobInfo(actual.toString(), size);
  }

  /**
   * Finds the session and claims it for one request: BLOB_UPLOAD_UNKNOWN if there is none,
   * BLOB_UPLOAD_INVALID if another request holds it, {@link RangeMismatch} (416) if a declared
   * range does not start at its offset. The caller releases a claimed session when done.
   */
  private Future<UploadSession> claim(RepositoryName repository, String uploadId, long rangeStart) {
    UploadSession s;
    try {
      s = uploads.get(repository, uploadId);
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
    if (!s.tryAcquire()) {
      return Future.failedFuture(OciError.BLOB_UPLOAD_INVALID.with("upload " + uploadId + " is in use by another request"));
    }
    if (rangeStart >= 0 && rangeStart != s.offset()) {
      s.release();
      return Future.failedFuture(new RangeMismatch(s.offset()));
    }
    return Future.succeededFuture(s);
  }

  /** A whole blob in one request (POST with ?digest=): a throw-away session, streamed and committed; as {@link #finish}. */
  public Future<BlobInfo> monolithic(RepositoryName repository, Digest expected, ReadStream<Buffer> body,
      long expectedLength, Function<BlobInfo, Future<Void>> report) {
    body.pause();
    if (isSmall(expectedLength)) {
      return gather(body, expectedLength).compose(bytes -> vertx.executeBlocking(() -> {
        UploadSession s = uploads.create(repository, false);
        try {
          return appendAndCommit(s, bytes, expected);
        } catch (IOException | RuntimeException e) {
          uploads.remove(s);
          throw e;
        }
      }, false)).compose(info -> report.apply(info).map(info));
    }
    return vertx.executeBlocking(() -> uploads.create(repository, false), false)
        .compose(s -> {
          s.tryAcquire();
          return stream(s, body, expectedLength, false)
              .compose(v -> commit(s, expected, report))
              .andThen(ar -> {
                s.release();
                if (ar.failed()) {
                  s.lane().execute(() -> uploads.remove(s));
                }
              });
        });
  }

  private Future<BlobInfo> commit(UploadSession s, Digest expected, Function<BlobInfo, Future<Void>> report) {
    Context ctx = vertx.getOrCreateContext();
    Promise<Digest> hashed = Promise.promise();
    s.hashLane().execute(() -> {
      try {
        MessageDigest md = expected.algorithm() == DigestAlgorithm.SHA256
            ? s.sha256Snapshot() : s.rehash(expected.algorithm(), s.offset());
        Digest actual = Digest.fromBytes(expected.algorithm(), md.digest());
        ctx.runOnContext(v -> hashed.complete(actual));
      } catch (IOException | RuntimeException e) {
        ctx.runOnContext(v -> hashed.fail(e));
      }
    });
    return hashed.future().compose(actual -> {
      Promise<BlobInfo> committed = Promise.promise();
      s.lane().execute(() -> {
        try {
          BlobInfo info = commitVerified(s, actual, expected);
          ctx.runOnContext(v -> committed.complete(info));
        } catch (IOException | RuntimeException e) {
          ctx.runOnContext(v -> committed.fail(e));
        }
      });
      return committed.future().compose(info -> report.apply(info).map(info));
    });
  }

  /** Work on a session's lanes that may fail. */
  @FunctionalInterface
  private interface LaneTask {
    void run() throws IOException;
  }

  /**
   * Runs {@code onFile} on the write lane and {@code onHash} on the hash lane, in parallel, and
   * reports on the context once both are done, with the first failure or null.
   */
  private static void onBoth(UploadSession s, Context ctx, LaneTask onFile, LaneTask onHash,
      io.vertx.core.Handler<Throwable> done) {
    var latch = new java.util.concurrent.atomic.AtomicInteger(2);
    var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
    Runnable finish = () -> {
      if (latch.decrementAndGet() == 0) {
        Throwable f = failure.get();
        ctx.runOnContext(v -> done.handle(f));
      }
    };
    s.lane().execute(() -> {
      try {
        onFile.run();
      } catch (IOException | RuntimeException e) {
        failure.compareAndSet(null, e);
      }
      finish.run();
    });
    s.hashLane().execute(() -> {
      try {
        onHash.run();
      } catch (IOException | RuntimeException e) {
        failure.compareAndSet(null, e);
      }
      finish.run();
    });
  }

  /** Event-loop-confined state of one body being streamed into a session. */
  private static final class Transfer {
    long pending;
    long received;
    boolean paused;
    boolean failed;
    byte[] block;
    int fill;
  }

  /**
   * Streams a body into the session. Chunks are gathered into {@link #BLOCK}-byte blocks; each
   * block is written on the write lane and hashed on the hash lane at the same time. On any
   * failure both lanes roll back to the acknowledged offset before the future fails.
   */
  private Future<Void> stream(UploadSession s, ReadStream<Buffer> body, long expectedLength, boolean recordOffset) {
    Context ctx = vertx.getOrCreateContext();
    Promise<Void> promise = Promise.promise();
    Transfer t = new Transfer();
    io.vertx.core.Handler<Throwable> fail = err -> {
      if (t.failed) {
        return;
      }
      t.failed = true;
      onBoth(s, ctx, s::rollbackFile, s::resetHash, ignored -> promise.tryFail(err));
    };
    Runnable dispatch = () -> {
      int len = t.fill;
      byte[] block = t.block;
      t.block = null;
      t.fill = 0;
      t.pending += len;
      if (t.pending > HIGH_WATER && !t.paused) {
        t.paused = true;
        body.pause();
      }
      ByteBuffer forFile = ByteBuffer.wrap(block, 0, len);
      ByteBuffer forHash = ByteBuffer.wrap(block, 0, len);
      onBoth(s, ctx, () -> s.write(forFile), () -> s.hash(forHash), err -> {
        t.pending -= len;
        if (err != null) {
          fail.handle(err);
        } else if (t.paused && t.pending < LOW_WATER && !t.failed) {
          t.paused = false;
          body.resume();
        }
      });
    };
    body.pause();
    long acknowledged = s.offset();
    onBoth(s, ctx, s::prepareFile, () -> s.prepareHash(acknowledged), err -> {
      if (err != null) {
        fail.handle(err);
      }
    });
    body.handler(buf -> {
      if (t.failed) {
        return;
      }
      int length = buf.length();
      t.received += length;
      int pos = 0;
      while (pos < length) {
        if (t.block == null) {
          t.block = new byte[BLOCK];
        }
        int n = Math.min(BLOCK - t.fill, length - pos);
        buf.getBytes(pos, pos + n, t.block, t.fill);
        t.fill += n;
        pos += n;
        if (t.fill == BLOCK) {
          dispatch.run();
        }
      }
    });
    body.exceptionHandler(fail);
    body.endHandler(v -> {
      if (t.failed) {
        return;
      }
      if (t.fill > 0) {
        dispatch.run();
      }
      if (expectedLength >= 0 && t.received != expectedLength) {
        fail.handle(OciError.SIZE_INVALID.with("received " + t.received + " bytes, Content-Length said " + expectedLength));
        return;
      }
      onBoth(s, ctx, () -> s.acknowledge(recordOffset), () -> { }, err -> {
        if (err != null) {
          fail.handle(err);
        } else if (!t.failed) {
          promise.tryComplete();
        }
      });
    });
    body.resume();
    return promise.future();
  }

  /**
   * A chunk that does not start at the session's offset: RANGE_INVALID (416), carrying the offset
   * for the {@code Range} header of the answer.
   */
  public static final class RangeMismatch extends OciException {
    private final long offset;

    public RangeMismatch(long offset) {
      super(OciError.RANGE_INVALID, "chunk does not start at the upload's offset " + offset);
      this.offset = offset;
    }

    public long offset() {
      return offset;
    }
  }
}
