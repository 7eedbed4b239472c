package io.flotilla.events;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes this node's events on the cluster bus ({@link EventHub#ADDRESS}) in batches, as they
 * become readable in the journal, and only while an in-cluster consumer holds a subscription: a
 * consumer publishes any message on {@link EventHub#SUBSCRIBE_ADDRESS} when it starts and at least
 * every {@link #RENEW_MILLIS}; a node publishes while it heard such a message within the last
 * {@link #LEASE_MILLIS}. With no subscription, events cost nothing here (not even queueing).
 *
 * <p>One bus message carries every event that became readable since the last one (at most
 * {@link #MAX_BATCH}): the body is distribution's envelope {@code {"events":[...]}}, the headers
 * {@code node}, {@code firstSeq} and {@code lastSeq} (the node's journal sequence numbers).
 */
final class ClusterPublisher implements EventJournal.VisibleTap {
  /** How often a consumer must renew its subscription. */
  static final long RENEW_MILLIS = 10_000;
  /** How long a node keeps publishing after the last subscription message it heard. */
  static final long LEASE_MILLIS = 30_000;
  /** Most events in one bus message. */
  static final int MAX_BATCH = 500;

  private final Vertx vertx;
  private final String nodeName;
  private final ConcurrentLinkedQueue<EventJournal.Entry> queued = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final AtomicLong messages = new AtomicLong();
  private volatile long leaseUntilNanos = System.nanoTime() - 1;
  private Context context;

  ClusterPublisher(Vertx vertx, String nodeName) {
    this.vertx = vertx;
    this.nodeName = nodeName;
  }

  /** Listens for subscriptions; completes once the listener is registered (on this node's view of the cluster). */
  Future<Void> start() {
    context = vertx.getOrCreateContext();
    return vertx.eventBus().consumer(EventHub.SUBSCRIBE_ADDRESS, m -> {
      leaseUntilNanos = System.nanoTime() + LEASE_MILLIS * 1_000_000L;
    }).completion();
  }

  /** Bus messages published since start (for tests and metrics). */
  long messages() {
    return messages.get();
  }

  /** Whether a consumer's subscription is live. */
  boolean subscribed() {
    return System.nanoTime() - leaseUntilNanos < 0;
  }

  @Override
  public boolean wanted() {
    return subscribed();
  }

  @Override
  public void visible(List<EventJournal.Entry> entries) {
    if (!subscribed()) {
      return;
    }
    queued.addAll(entries);
    if (scheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> flush());
    }
  }

  /** Publishes what is queued, in order, {@link #MAX_BATCH} events per message; on the publisher's context. */
  private void flush() {
    scheduled.set(false);
    while (!queued.isEmpty()) {
      StringBuilder body = new StringBuilder(MAX_BATCH * 64).append("{\"events\":[");
      long first = -1;
      long last = -1;
      EventJournal.Entry e;
      for (int n = 0; n < MAX_BATCH && (e = queued.poll()) != null; n++) {
        if (first < 0) {
          first = e.seq();
        } else {
          body.append(',');
        }
        body.append(e.json());
        last = e.seq();
      }
      body.append("]}");
      messages.incrementAndGet();
      vertx.eventBus().publish(EventHub.ADDRESS, body.toString(), new DeliveryOptions().addHeader("node", nodeName)
          .addHeader("firstSeq", Long.toString(first)).addHeader("lastSeq", Long.toString(last)));
    }
  }
}
