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

/**
 * The byte path of blob uploads on this node: streams a request body into an upload session's data
 * file while hashing it, with backpressure (the request is paused while more than
 * {@link #HIGH_WATER} bytes wait for the disk), and commits verified blobs. Bytes are never held
 * whole in memory. Must be called on a Vert.x context; file work runs on the session's lane.
 */
public final class BlobUploads {
  static final int HIGH_WATER = 8 * 1024 * 1024;
  static final int LOW_WATER = 2 * 1024 * 1024;

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
    return stream(s, body, expectedLength, true).andThen(ar -> s.release()).map(v -> s.offset());
  }

  /** Finishes a session: appends an optional last body, verifies the digest, commits and links the blob. */
  public Future<BlobInfo> finish(RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength) {
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
    Future<Void> appended = body == null ? Future.succeededFuture() : stream(s, body, expectedLength, false);
    return appended.compose(v -> commit(s, expected)).andThen(ar -> s.release());
  }

  /** A whole blob in one request (POST with ?digest=): a throw-away session, streamed and committed. */
  public Future<BlobInfo> monolithic(RepositoryName repository, Digest expected, ReadStream<Buffer> body,
      long expectedLength) {
    body.pause();
    return vertx.executeBlocking(() -> uploads.create(repository, false), false)
        .compose(s -> {
          s.tryAcquire();
          return stream(s, body, expectedLength, false)
              .compose(v -> commit(s, expected))
              .andThen(ar -> {
                s.release();
                if (ar.failed()) {
                  s.lane().execute(() -> uploads.remove(s));
                }
              });
        });
  }

  private Future<BlobInfo> commit(UploadSession s, Digest expected) {
    Promise<BlobInfo> promise = Promise.promise();
    Context ctx = vertx.getOrCreateContext();
    s.lane().execute(() -> {
      try {
        s.prepare();
        MessageDigest md = expected.algorithm() == DigestAlgorithm.SHA256
            ? s.sha256Snapshot() : s.rehash(expected.algorithm());
        Digest actual = Digest.fromBytes(expected.algorithm(), md.digest());
        long size = s.offset();
        if (!actual.equals(expected)) {
          uploads.remove(s);
          throw OciError.DIGEST_INVALID.with("uploaded content has digest " + actual + ", not " + expected);
        }
        s.close();
        blobs.commit(s.dataFile(), actual);
        metadata.linkBlob(s.repository(), actual, size);
        uploads.remove(s);
        BlobInfo info = new BlobInfo(actual.toString(), size);
        ctx.runOnContext(v -> promise.complete(info));
      } catch (IOException | RuntimeException e) {
        ctx.runOnContext(v -> promise.fail(e));
      }
    });
    return promise.future();
  }

  /** Streams a body into the session; on any failure the session is rolled back to its offset. */
  private Future<Void> stream(UploadSession s, ReadStream<Buffer> body, long expectedLength, boolean recordOffset) {
    Context ctx = vertx.getOrCreateContext();
    Promise<Void> promise = Promise.promise();
    var state = new Object() {
      long pending;
      long received;
      boolean paused;
      boolean failed;
    };
    Runnable failOnLane = () -> {
      try {
        s.rollback();
      } catch (IOException ignored) {
        // the session is already broken; its offset is what counts
      }
    };
    body.pause();
    s.lane().execute(() -> {
      try {
        s.prepare();
      } catch (IOException e) {
        ctx.runOnContext(v -> {
          state.failed = true;
          promise.tryFail(e);
        });
      }
    });
    body.handler(buf -> {
      if (state.failed) {
        return;
      }
      int len = buf.length();
      state.received += len;
      state.pending += len;
      if (state.pending > HIGH_WATER && !state.paused) {
        state.paused = true;
        body.pause();
      }
      ByteBuffer bytes = ByteBuffer.wrap(buf.getBytes());
      s.lane().execute(() -> {
        Throwable err = null;
        try {
          if (!state.failed) {
            s.write(bytes);
          }
        } catch (IOException | RuntimeException e) {
          err = e;
        }
        Throwable failure = err;
        ctx.runOnContext(v -> {
          state.pending -= len;
          if (failure != null && !state.failed) {
            state.failed = true;
            s.lane().execute(failOnLane);
            promise.tryFail(failure);
          }
          if (state.paused && state.pending < LOW_WATER && !state.failed) {
            state.paused = false;
            body.resume();
          }
        });
      });
    });
    body.exceptionHandler(err -> {
      if (!state.failed) {
        state.failed = true;
        s.lane().execute(() -> {
          failOnLane.run();
          ctx.runOnContext(v -> promise.tryFail(err));
        });
      }
    });
    body.endHandler(v -> {
      if (state.failed) {
        return;
      }
      long received = state.received;
      s.lane().execute(() -> {
        try {
          if (state.failed) {
            return;
          }
          if (expectedLength >= 0 && received != expectedLength) {
            failOnLane.run();
            throw OciError.SIZE_INVALID.with("received " + received + " bytes, Content-Length said " + expectedLength);
          }
          s.acknowledge(recordOffset);
          ctx.runOnContext(x -> promise.tryComplete());
        } catch (IOException | RuntimeException e) {
          failOnLane.run();
          ctx.runOnContext(x -> promise.tryFail(e));
        }
      });
    });
    body.resume();
    return promise.future();
  }

  /** A chunk that does not start at the session's offset; carries the offset for the Range header. */
  public static final class RangeMismatch extends RuntimeException {
    private final long offset;

    RangeMismatch(long offset) {
      super("chunk does not start at the upload's offset " + offset, null, false, false);
      this.offset = offset;
    }

    public long offset() {
      return offset;
    }

    public OciException asOci() {
      return new OciException(OciError.RANGE_INVALID, getMessage());
    }
  }
}
