package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Waiting for the client's futures from a test thread, and reading its blob streams. */
final class UpstreamTesting {
  private UpstreamTesting() {}

  /** The future's value (60 s at most); its failure rethrown as it is. */
  static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  /** The UpstreamException the future fails with (the test fails if it succeeds or fails otherwise). */
  static UpstreamException failure(Future<?> f) {
    return assertThrows(UpstreamException.class, () -> await(f));
  }

  /** Everything a blob stream gives, once it ended successfully; fails as the stream does. */
  static Future<Buffer> collect(UpstreamBlob blob) {
    Promise<Buffer> done = Promise.promise();
    Buffer all = Buffer.buffer();
    blob.exceptionHandler(done::tryFail);
    blob.endHandler(v -> done.tryComplete(all));
    blob.handler(all::appendBuffer);
    return done.future();
  }

  /** A small valid OCI image manifest whose config has this digest and size. */
  static byte[] manifest(Digest config, long size) {
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", config, size) + ",\"layers\":[]}")
        .getBytes(StandardCharsets.UTF_8);
  }
}
