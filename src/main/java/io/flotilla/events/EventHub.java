package io.flotilla.events;

import io.flotilla.storage.EventSink;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's event pipeline: hands each reported operation to the durable {@link EventJournal} as
 * a small {@link ReportedOperation} (the event's JSON is made on the journal's writer thread, not on
 * the request's), from which the webhook and Kafka queues deliver and the {@link ClusterPublisher}
 * publishes, in batches, on the cluster bus address {@link #ADDRESS}. Writes wait for their event's
 * fsync (shared with every event queued meanwhile); pulls do not, and are synced within the
 * journal's window. Operations are reported once they are durable. Internal work (replication,
 * rebalancing, GC) is not reported.
 */
public final class EventHub implements EventSink {
  private static final System.Logger LOG = System.getLogger(EventHub.class.getName());

  /**
   * The cluster-wide event bus address events are published on, in batches: each message is a
   * JSON string {@code {"events":[...]}} (distribution's envelope, each element a {@link RegistryEvent}),
   * published only while a consumer is subscribed through {@link #SUBSCRIBE_ADDRESS}.
   */
  public static final String ADDRESS = "flotilla.events";

  /**
   * Where an in-cluster consumer of {@link #ADDRESS} announces itself: it publishes any message here
   * once its consumer is registered and again at least every 10 s; nodes publish events for 30 s after
   * the last such message they heard.
   */
  public static final String SUBSCRIBE_ADDRESS = "flotilla.events.subscribe";

  private final Vertx vertx;
  private final EventJournal journal;
  private final RegistryEvent.Source source;
  private final ClusterPublisher publisher;
  private final AtomicLong emitted = new AtomicLong();

  /**
   * @param nodeName the node id reported as {@code source.instanceID}
   * @param nodeAddress the node's HTTP address reported as {@code source.addr}
   */
  public EventHub(Vertx vertx, EventJournal journal, String nodeName, String nodeAddress) {
    this.vertx = vertx;
    this.journal = journal;
    this.source = new RegistryEvent.Source(nodeAddress, nodeName);
    this.publisher = new ClusterPublisher(vertx, nodeName);
  }

  /** Starts publishing on the cluster bus for subscribed consumers; completes once it listens for subscriptions. */
  public Future<Void> start() {
    return publisher.start().onSuccess(v -> journal.tapVisible(publisher));
  }

  /** Events recorded since start. */
  public long emitted() {
    return emitted.get();
  }

  /** Bus messages (batches of events) published since start. */
  public long publishedMessages() {
    return publisher.messages();
  }

  /** Whether an in-cluster consumer's subscription is live (events are published on the bus). */
  boolean subscribed() {
    return publisher.subscribed();
  }

  @Override
  public Future<Void> record(RequestContext ctx, Operation op) {
    if (ctx.isInternal()) {
      return Future.succeededFuture();
    }
    emitted.incrementAndGet();
    ReportedOperation reported = new ReportedOperation(ctx, op, System.currentTimeMillis(), source);
    if ("pull".equals(op.action())) { // not waited for: synced within the journal's window
      journal.appendUnobserved(reported);
      return Future.succeededFuture();
    }
    return onCallersContext(journal.append(reported, EventJournal.Durability.SYNC)).mapEmpty();
  }

  /**
   * The journal's future, completed back on the caller's context: the journal's writer thread only
   * writes and syncs, and the request goes on on its own event loop.
   */
  private Future<Long> onCallersContext(CompletableFuture<Long> written) {
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

  /** Whether an event's media type is a manifest's (blobs are reported as application/octet-stream). */
  static boolean isManifestType(String mediaType) {
    return mediaType != null && (mediaType.contains("manifest") || mediaType.contains("index"));
  }
}
