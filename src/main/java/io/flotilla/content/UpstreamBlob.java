package io.flotilla.content;

import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.streams.ReadStream;
import java.security.MessageDigest;

/**
 * A blob's bytes as they arrive from upstream, verified on the way: every chunk is hashed before it
 * is handed on, and the stream ends (its {@code endHandler}) only when the byte count equals the
 * answer's Content-Length and the bytes hash to the digest asked for. Otherwise it ends with an
 * {@link UpstreamException} on its {@code exceptionHandler} instead: DIGEST_MISMATCH, PROTOCOL (more
 * or fewer bytes than announced) or UNAVAILABLE (connection lost, or no data for the request
 * timeout, which counts while the caller keeps the stream paused too); so a caller that commits
 * only on a successful end never commits unverified bytes.
 * Since the last chunks are handed on before the check, a caller that forwards bytes as they come
 * (to an HTTP client) must end that response only on success: pipe with
 * {@code pipe().endOnFailure(false).to(...)} and reset the downstream on failure.
 *
 * <p>Data flows once a handler is set (or on {@link #resume()}); {@link #pause()} and
 * {@link #fetch(long)} give back pressure, as on any Vert.x stream. Not retried: once a byte may
 * have been handed on, a failure is final. Use it on the Vert.x context it was delivered on.
 */
public final class UpstreamBlob implements ReadStream<Buffer> {
  private final HttpClientResponse response;
  private final Context context;
  private final Digest digest;
  private final long size;
  private final String description;
  private final MessageDigest hasher;
  private final IdleWatch idle;
  private long received;
  private boolean demandControlled;
  private boolean done;
  private boolean succeeded;
  private UpstreamException failure;
  private boolean reported;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;

  /** Takes over a paused 200 response of a blob GET. */
  UpstreamBlob(HttpClientResponse response, Context context, long idleMillis, Digest digest, String description) {
    this.response = response;
    this.context = context;
    this.idle = new IdleWatch(context.owner(), idleMillis, () -> fail(new UpstreamException(Kind.UNAVAILABLE,
        OciError.BLOB_UNKNOWN, description + ": no data for " + idleMillis + " ms after " + received + " bytes")));
    this.digest = digest;
    this.size = Responses.contentLength(response);
    this.description = description;
    this.hasher = digest.algorithm().newHasher();
    response.handler(this::chunk);
    response.endHandler(v -> finish());
    response.exceptionHandler(e -> fail(e instanceof UpstreamException u ? u : new UpstreamException(Kind.UNAVAILABLE,
        OciError.BLOB_UNKNOWN, description + ": " + UpstreamHttp.scrub(e) + " after " + received + " of "
        + (size < 0 ? "?" : Long.toString(size)) + " bytes")));
  }

  /** The digest asked for, which the bytes are checked against. */
  public Digest digest() {
    return digest;
  }

  /** The length the upstream announced (Content-Length), or -1 when it sent none. */
  public long size() {
    return size;
  }

  /** Bytes received so far. */
  public long received() {
    return received;
  }

  /** Stops the transfer (the connection is closed); the stream ends with an UNAVAILABLE failure. */
  public void cancel() {
    fail(new UpstreamException(Kind.UNAVAILABLE, OciError.BLOB_UNKNOWN, description + ": cancelled"));
  }

  @Override
  public UpstreamBlob handler(Handler<Buffer> h) {
    this.handler = h;
    if (h != null && !demandControlled && !done) {
      response.resume();
    }
    return this;
  }

  @Override
  public UpstreamBlob exceptionHandler(Handler<Throwable> h) {
    this.exceptionHandler = h;
    reportLater();
    return this;
  }

  @Override
  public UpstreamBlob endHandler(Handler<Void> h) {
    this.endHandler = h;
    reportLater();
    return this;
  }

  @Override
  public UpstreamBlob pause() {
    demandControlled = true;
    response.pause();
    return this;
  }

  @Override
  public UpstreamBlob resume() {
    demandControlled = false;
    response.resume();
    return this;
  }

  @Override
  public UpstreamBlob fetch(long amount) {
    demandControlled = true;
    response.fetch(amount);
    return this;
  }

  private void chunk(Buffer chunk) {
    if (done) {
      return;
    }
    received += chunk.length();
    idle.data();
    if (size >= 0 && received > size) {
      fail(new UpstreamException(Kind.PROTOCOL, OciError.BLOB_UNKNOWN, description + ": more bytes than the "
          + "Content-Length of " + size));
      return;
    }
    hasher.update(chunk.getBytes());
    Handler<Buffer> h = handler;
    if (h != null) {
      h.handle(chunk);
    }
  }

  private void finish() {
    if (done) {
      return;
    }
    if (size >= 0 && received != size) {
      fail(new UpstreamException(Kind.PROTOCOL, OciError.BLOB_UNKNOWN, description + ": " + received
          + " bytes where Content-Length announced " + size));
      return;
    }
    Digest actual = Digest.fromBytes(digest.algorithm(), hasher.digest());
    if (!actual.equals(digest)) {
      fail(new UpstreamException(Kind.DIGEST_MISMATCH, OciError.BLOB_UNKNOWN, description + ": the bytes hash to "
          + actual + ", not to the digest asked for"));
      return;
    }
    done = true;
    succeeded = true;
    idle.stop();
    report();
  }

  private void fail(UpstreamException e) {
    if (done) {
      return;
    }
    done = true;
    failure = e;
    idle.stop();
    response.handler(null);
    response.request().reset(); // close the connection: nothing more is read from it
    report();
  }

  /** Tells the caller how the stream ended, once, as soon as it has a handler for it. */
  private void report() {
    if (!done || reported) {
      return;
    }
    if (succeeded && endHandler != null) {
      reported = true;
      endHandler.handle(null);
    } else if (failure != null && exceptionHandler != null) {
      reported = true;
      exceptionHandler.handle(failure);
    }
  }

  /** A handler set after the end: told on the context, not from inside the setter. */
  private void reportLater() {
    if (done && !reported) {
      context.runOnContext(v -> report());
    }
  }
}
