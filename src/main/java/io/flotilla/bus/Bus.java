package io.flotilla.bus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Serving and calling typed addresses. Failures cross the bus as (OCI code name, status, detail)
 * in the reply failure and come back out as the same {@link OciException}; anything else becomes
 * UNKNOWN (500) and is logged where it happened.
 */
public final class Bus {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final System.Logger LOG = System.getLogger(Bus.class.getName());

  private Bus() {}

  /** Serves {@code address} for {@code nodeId} with a handler returning a future reply. */
  public static <Q, R> Future<MessageConsumer<Q>> serve(Vertx vertx, Address<Q, R> address, String nodeId,
      Function<Q, Future<R>> handler) {
    MessageConsumer<Q> consumer = vertx.eventBus().consumer(address.on(nodeId), msg -> {
      Future<R> result;
      try {
        result = handler.apply(msg.body());
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        if (ar.succeeded()) {
          msg.reply(ar.result());
        } else {
          OciException e = toOci(ar.cause(), address.name());
          ObjectNode err = JSON.createObjectNode().put("code", e.error().name()).put("detail", e.detail());
          msg.fail(e.status(), err.toString());
        }
      });
    });
    return consumer.completion().map(consumer);
  }

  /**
   * Calls {@code address} on {@code nodeId}; a same-node call never leaves the process. A call to
   * another node fails with UNAVAILABLE as soon as that node leaves the cluster, and at once when it
   * is not a member ({@link PeerCalls}).
   */
  public static <Q, R> Future<R> request(Vertx vertx, Address<Q, R> address, String nodeId, boolean local, Q body) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(address.timeout().toMillis()).setLocalOnly(local);
    Supplier<Future<R>> send = () -> vertx.eventBus().<R>request(address.on(nodeId), body, options)
        .map(msg -> msg.body())
        .recover(err -> Future.failedFuture(fromReply(err)));
    return local ? send.get() : PeerCalls.of(vertx).call(nodeId, send);
  }

  /**
   * Calls {@code address} on another node whether or not that node is in the current cluster view
   * (the membership proof asks members that do not count yet); failures as for {@link #request}.
   */
  public static <Q, R> Future<R> requestOutsideView(Vertx vertx, Address<Q, R> address, String nodeId, Q body) {
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(address.timeout().toMillis());
    return vertx.eventBus().<R>request(address.on(nodeId), body, options)
        .map(msg -> msg.body())
        .recover(err -> Future.failedFuture(fromReply(err)));
  }

  static OciException toOci(Throwable t, String where) {
    if (t instanceof OciException e) {
      return e;
    }
    if (t instanceof java.io.UncheckedIOException || t instanceof java.io.IOException) {
      LOG.log(System.Logger.Level.ERROR, "storage I/O failure in " + where, t);
      return OciError.UNKNOWN.with("storage I/O failure");
    }
    LOG.log(System.Logger.Level.ERROR, "unexpected failure in " + where, t);
    return OciError.UNKNOWN.with("internal error");
  }

  static Throwable fromReply(Throwable t) {
    if (t instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.RECIPIENT_FAILURE && re.getMessage() != null && re.getMessage().startsWith("{")) {
        try {
          JsonNode n = JSON.readTree(re.getMessage());
          return new OciException(OciError.byName(n.path("code").asText()), n.path("detail").asText(), re.failureCode());
        } catch (Exception ignored) {
          // fall through to UNKNOWN
        }
      }
      if (re.failureType() == ReplyFailure.TIMEOUT) {
        return OciError.UNAVAILABLE.with("storage did not answer in time");
      }
      if (re.failureType() == ReplyFailure.NO_HANDLERS) {
        return OciError.UNAVAILABLE.with("storage is not available");
      }
    }
    return OciError.UNKNOWN.with(t.getMessage() == null ? t.toString() : t.getMessage());
  }
}
