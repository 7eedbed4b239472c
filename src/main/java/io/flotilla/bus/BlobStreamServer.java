package io.flotilla.bus;

import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.StreamMessages.OpenRead;
import io.flotilla.bus.StreamMessages.OpenWrite;
import io.flotilla.bus.StreamMessages.ReadStreamRequest;
import io.flotilla.bus.StreamMessages.StreamOpened;
import io.flotilla.bus.StreamMessages.WriteStreamRequest;
import io.flotilla.oci.OciError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.streams.ReadStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Serves a node's side of the chunked bus streams on its node-scoped addresses:
 * {@link Addresses#BLOB_READ} streams a region of a local blob file to a remote
 * {@link BusReadStream}, and {@link Addresses#BLOB_WRITE} hands the bytes of a remote
 * {@link BusWriteStream} to the {@link WriteHandler} registered for the request's purpose. It owns
 * the files it opened: each is released (closed) as soon as its stream ends, fails, is cancelled or
 * times out; {@link #openFiles()} counts those still open.
 *
 * <p>Threads: requests and streams run on the context that called {@link #start} (deploy several
 * instances to spread streams over event loops); files are read with {@link AsyncFile} on Vert.x
 * worker threads, one chunk at a time, never blocking the event loop nor holding the whole file.
 *
 * <p>Failures are answered as OCI errors: BLOB_UNKNOWN for a missing file, RANGE_INVALID for a
 * region outside the blob, UNSUPPORTED for a write purpose nobody handles; failures mid-stream
 * travel to the peer as stream aborts.
 */
public final class BlobStreamServer {
  /** What the receiving node supplies for one write purpose: consume {@code body}, answer with a result. */
  @FunctionalInterface
  public interface WriteHandler<R> {
    /**
     * Called on the server's context with a body that must be consumed like an HTTP request body
     * (handler, pause/resume, end). The result (a record with a registered codec; null means
     * {@link Done}) goes back to the writer once the body ended; a failure goes back as its OCI error.
     */
    Future<R> handle(OpenWrite request, ReadStream<Buffer> body);
  }

  /** What became of one read stream served from a file; reported after the file was closed. */
  public record SentStream(String digest, long bytes, BusWriteStream.Outcome outcome) {}

  private static final OpenOptions READ_ONLY = new OpenOptions().setRead(true).setWrite(false).setCreate(false);

  private final Vertx vertx;
  private final String nodeId;
  private final StreamOptions options;
  private final Function<String, Path> blobPath;
  private final Map<String, WriteHandler<?>> writeHandlers = new ConcurrentHashMap<>();
  private final AtomicInteger openFiles = new AtomicInteger();
  private volatile Handler<SentStream> sentHandler;
  private Context context;
  private List<MessageConsumer<?>> consumers = List.of();

  private BlobStreamServer(Vertx vertx, String nodeId, StreamOptions options, Function<String, Path> blobPath) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.options = options;
    this.blobPath = blobPath;
  }

  /**
   * Starts serving on the calling context.
   *
   * @param options window and idle timeout of received writes; largest chunk and idle/ack timeouts of sent reads
   * @param blobPath where the blob with a digest would be; may throw an OciException (DIGEST_INVALID)
   */
  public static Future<BlobStreamServer> start(Vertx vertx, String nodeId, StreamOptions options,
      Function<String, Path> blobPath) {
    BlobStreamServer server = new BlobStreamServer(vertx, nodeId, options, blobPath);
    return BlobStreamClient.onContext(vertx, () -> {
      server.context = vertx.getOrCreateContext();
      return Bus.serve(vertx, Addresses.BLOB_READ, nodeId, server::openRead)
          .compose(reads -> Bus.serve(vertx, Addresses.BLOB_WRITE, nodeId, server::openWrite)
              .map(writes -> {
                server.consumers = List.of(reads, writes);
                return server;
              }));
    });
  }

  /** Registers (or replaces) the handler of writes with this purpose. */
  public <R> BlobStreamServer handleWrites(String purpose, WriteHandler<R> handler) {
    writeHandlers.put(purpose, handler);
    return this;
  }

  /** Called, on the server's context, for each finished read stream once its file is closed. */
  public BlobStreamServer sentHandler(Handler<SentStream> handler) {
    this.sentHandler = handler;
    return this;
  }

  /** Files opened for read streams and not yet closed. */
  public int openFiles() {
    return openFiles.get();
  }

  /** Stops taking new streams; streams in progress run to their end. */
  public Future<Void> close() {
    return Future.all(consumers.stream().map(MessageConsumer::unregister).toList()).mapEmpty();
  }

  private Future<StreamOpened> openRead(ReadStreamRequest q) {
    OpenRead r = q.open();
    if (q.window() < 1 || q.chunkSize() < 1 || r.offset() < 0 || r.length() < -1) {
      return Future.failedFuture(OciError.RANGE_INVALID.with("invalid stream request"));
    }
    Path path = blobPath.apply(r.digest());
    int chunk = Math.min(q.chunkSize(), options.chunkSize());
    return vertx.fileSystem().open(path.toString(), READ_ONLY)
        .recover(err -> Future.failedFuture(isMissing(err)
            ? OciError.BLOB_UNKNOWN.with("blob " + r.digest() + " is not stored on node " + nodeId) : err))
        .compose(file -> {
          openFiles.incrementAndGet();
          Released released = new Released(file);
          return file.size().compose(size -> {
            long length = r.length() < 0 ? size - r.offset() : r.length();
            if (r.offset() > size || r.offset() + length > size) {
              return Future.failedFuture(OciError.RANGE_INVALID.with("range " + r.offset() + "+" + length
                  + " is outside blob " + r.digest() + " of " + size + " bytes"));
            }
            BusWriteStream<Done> sender = new BusWriteStream<>(vertx, options.withChunkSize(chunk), Done.class);
            return sender.registered().map(v -> {
              sender.attach(q.dataAddress(), q.window(), chunk);
              context.runOnContext(x -> pump(file, released, sender, r, length, chunk));
              return new StreamOpened(sender.controlAddress(), length, 0, chunk);
            });
          }).onFailure(err -> released.run());
        });
  }

  /** Feeds the file region into the sender, pausing the file while the sender has no credit. */
  private void pump(AsyncFile file, Released released, BusWriteStream<Done> sender, OpenRead r, long length, int chunk) {
    sender.outcome().onComplete(ar -> released.run().onComplete(closed -> {
      Handler<SentStream> h = sentHandler;
      if (h != null) {
        h.handle(new SentStream(r.digest(), sender.bytesSent(), ar.result()));
      }
    }));
    if (sender.outcome().isComplete()) {
      return;
    }
    if (length == 0) {
      released.run();
      sender.end();
      return;
    }
    file.setReadPos(r.offset()).setReadLength(length).setReadBufferSize(chunk);
    file.handler(buf -> {
      sender.write(buf);
      if (sender.writeQueueFull()) {
        file.pause();
        sender.drainHandler(v -> file.resume());
      }
    });
    file.exceptionHandler(sender::fail);
    file.endHandler(v -> {
      released.run();
      sender.end();
    });
  }

  /** Closes a file once, however many ends of its stream ask for it; the future completes once closed. */
  private final class Released {
    private final AsyncFile file;
    private Future<Void> closed;

    Released(AsyncFile file) {
      this.file = file;
    }

    Future<Void> run() {
      if (closed == null) {
        file.handler(null);
        closed = file.close().andThen(ar -> openFiles.decrementAndGet()).otherwiseEmpty();
      }
      return closed;
    }
  }

  private Future<StreamOpened> openWrite(WriteStreamRequest q) {
    OpenWrite w = q.open();
    @SuppressWarnings("unchecked")
    WriteHandler<Object> handler = (WriteHandler<Object>) writeHandlers.get(w.purpose());
    if (handler == null) {
      return Future.failedFuture(OciError.UNSUPPORTED.with("node " + nodeId + " takes no stream writes for " + w.purpose()));
    }
    if (q.chunkSize() < 1) {
      return Future.failedFuture(OciError.BLOB_UPLOAD_INVALID.with("invalid chunk size " + q.chunkSize()));
    }
    int chunk = Math.min(q.chunkSize(), options.chunkSize());
    BusReadStream body = new BusReadStream(vertx, options.withChunkSize(chunk), false);
    return body.registered().map(v -> {
      body.attach(q.controlAddress(), w.length());
      context.runOnContext(x -> {
        Future<Object> result;
        try {
          result = handler.handle(w, body);
        } catch (RuntimeException e) {
          result = Future.failedFuture(e);
        }
        result.onComplete(ar -> body.respond(ar.result(), ar.cause()));
      });
      return new StreamOpened(body.address(), w.length(), options.window(), chunk);
    });
  }

  private static boolean isMissing(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof NoSuchFileException || t instanceof java.io.FileNotFoundException) {
        return true;
      }
    }
    return false;
  }
}
