package io.flotilla.events;

import io.flotilla.storage.EventSink;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's event pipeline: turns each reported operation into a {@link RegistryEvent}, appends
 * it to the durable {@link EventJournal} (from which webhook and Kafka queues deliver), and, once it
 * is durable, publishes it on the cluster bus address {@link #ADDRESS} for in-cluster consumers.
 * Pushes are written ahead ({@link #prepare}): the event's fsync overlaps the operation's own, and
 * the event is delivered and published only once the operation is durable too.
 * Internal work (replication, rebalancing, GC) is not reported.
 */
public final class EventHub implements EventSink {
  /**
   * The cluster-wide event bus address every event is published on, as a JSON string with the
   * {@link RegistryEvent} schema (the same JSON as one element of distribution's envelope).
   */
  public static final String ADDRESS = "flotilla.events";

  private final Vertx vertx;
  private final EventJournal journal;
  private final String nodeName;
  private final String nodeAddress;
  private final AtomicLong emitted = new AtomicLong();

  /**
   * @param nodeName the node id reported as {@code source.instanceID}
   * @param nodeAddress the node's HTTP address reported as {@code source.addr}
   */
  public EventHub(Vertx vertx, EventJournal journal, String nodeName, String nodeAddress) {
    this.vertx = vertx;
    this.journal = journal;
    this.nodeName = nodeName;
    this.nodeAddress = nodeAddress;
  }

  /** Events recorded since start. */
  public long emitted() {
    return emitted.get();
  }

  @Override
  public Future<Void> record(RequestContext ctx, Operation op) {
    if (ctx.isInternal()) {
      return Future.succeededFuture();
    }
    String json = toEvent(ctx, op).toJson();
    return onCallersContext(journal.append(json)).map(seq -> {
      published(json, seq);
      return null;
    });
  }

  /**
   * The journal's future, completed back on the caller's context: the journal's writer thread only
   * writes and syncs, and the request goes on (and publishes) on its own event loop.
   */
  private Future<Long> onCallersContext(java.util.concurrent.CompletableFuture<Long> written) {
    Context context = vertx.getOrCreateContext();
    Promise<Long> done = Promise.promise();
    written.whenComplete((seq, err) -> context.runOnContext(v -> {
      if (err != null) {
        done.fail(err);
      } else {
        done.complete(seq);
      }
    }));
    return done.future();
  }

  @Override
  public Intent prepare(RequestContext ctx, Operation op) {
    if (ctx.isInternal()) {
      return Intent.NONE;
    }
    String json = toEvent(ctx, op).toJson();
    EventJournal.Prepared prepared = journal.prepare(json);
    Future<Long> written = onCallersContext(prepared.written());
    return new Intent() {
      @Override
      public Future<Void> written() {
        return written.mapEmpty();
      }

      @Override
      public void commit() { // called on the caller's context once written() succeeded
        prepared.commit();
        written.onSuccess(seq -> published(json, seq));
      }

      @Override
      public void abort() {
        prepared.abort();
      }
    };
  }

  private void published(String json, long seq) {
    emitted.incrementAndGet();
    vertx.eventBus().publish(ADDRESS, json, new DeliveryOptions().addHeader("seq", Long.toString(seq))
        .addHeader("node", nodeName));
  }

  RegistryEvent toEvent(RequestContext ctx, Operation op) {
    Long size = op.size() < 0 ? null : op.size();
    String url = op.digest() == null ? null : "http://" + nodeAddress + "/v2/" + op.repository() + "/"
        + (isManifest(op) ? "manifests/" : "blobs/") + op.digest();
    RegistryEvent.Target target = new RegistryEvent.Target(op.mediaType(), size, op.digest(), size, op.repository(),
        op.fromRepository(), url, op.tag(), op.references().isEmpty() ? null : op.references());
    return new RegistryEvent(newId(), Timestamps.now(), op.action(), target,
        new RegistryEvent.Request(ctx.requestId(), ctx.remoteAddress(), ctx.host(), ctx.method(), ctx.userAgent()),
        new RegistryEvent.Actor(ctx.identity()), new RegistryEvent.Source(nodeAddress, nodeName));
  }

  /**
   * A random (version 4) UUID from the thread's own generator: event ids must be unique, not
   * unpredictable, and {@link UUID#randomUUID} serializes every caller on one secure generator.
   */
  static String newId() {
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  private static boolean isManifest(Operation op) {
    return isManifestType(op.mediaType());
  }

  /** Whether an event's media type is a manifest's (blobs are reported as application/octet-stream). */
  static boolean isManifestType(String mediaType) {
    return mediaType != null && (mediaType.contains("manifest") || mediaType.contains("index"));
  }
}
