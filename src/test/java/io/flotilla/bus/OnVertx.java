package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.flotilla.oci.OciException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Helpers of the bus tests that drive one non-clustered Vert.x from the test thread. */
final class OnVertx {
  private OnVertx() {}

  /** Runs {@code action} on a Vert.x context (as the node's code runs) and hands back its future. */
  static <T> Future<T> onContext(Vertx vertx, Supplier<Future<T>> action) {
    io.vertx.core.Context context = vertx.getOrCreateContext();
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }

  /** The OCI error {@code f} fails with within {@code within}; an AssertionError when it succeeds. */
  static OciException failure(Future<?> f, Duration within) throws Exception {
    try {
      f.toCompletionStage().toCompletableFuture().get(within.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(OciException.class, e.getCause());
    }
    throw new AssertionError("succeeded");
  }
}
