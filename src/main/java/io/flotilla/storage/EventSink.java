package io.flotilla.storage;

import io.vertx.core.Future;

/**
 * Where the node that performs a registry operation reports it, once the operation is durable.
 * Implemented by the events package; storage only calls it. Work a node does on its own behalf
 * ({@link RequestContext#isInternal}: replication, rebalancing, GC) is not reported.
 */
public interface EventSink {
  /** A sink that drops everything (single-purpose tools, unit tests). */
  EventSink NONE = new EventSink() {
    @Override
    public Future<Void> record(RequestContext ctx, Operation event) {
      return Future.succeededFuture();
    }

    @Override
    public Intent prepare(RequestContext ctx, Operation event) {
      return Intent.NONE;
    }
  };

  /**
   * Writes an operation's event ahead, while the operation's own writes are being made durable
   * (so the two syncs overlap instead of following each other). The caller must wait for
   * {@link Intent#written} before it acknowledges the operation, and then commit or abort it:
   * {@link Intent#around} does all of that.
   */
  Intent prepare(RequestContext ctx, Operation event);

  /** An event written ahead of its operation; see {@link #prepare}. */
  interface Intent {
    /** Nothing to write (internal work, events off). */
    Intent NONE = new Intent() {
      @Override
      public Future<Void> written() {
        return Future.succeededFuture();
      }

      @Override
      public void commit() {}

      @Override
      public void abort() {}
    };

    /** Completes when the event is durable. */
    Future<Void> written();

    /** The operation is durable: the event may be delivered. */
    void commit();

    /** The operation failed: the event is dropped. */
    void abort();

    /**
     * Ties the event to its operation: {@code operation}'s result once both are durable (the event
     * committed), or its failure (the event aborted). If the event cannot be written the operation
     * stands but the caller gets the error, as with {@link EventSink#record}.
     */
    default <T> Future<T> around(Future<T> operation) {
      return operation.transform(done -> {
        if (done.failed()) {
          abort();
          return Future.failedFuture(done.cause());
        }
        return written().transform(w -> {
          if (w.failed()) {
            abort();
            return Future.failedFuture(w.cause());
          }
          commit();
          return Future.succeededFuture(done.result());
        });
      });
    }
  }

  /**
   * Records one operation. The future completes when the event is durable on this node (writes
   * wait for it before they are acknowledged; reads need not).
   */
  Future<Void> record(RequestContext ctx, Operation event);

  /**
   * One operation, before the envelope (id, time, request, source) is added.
   *
   * @param action {@code push}, {@code pull}, {@code mount} or {@code delete}
   * @param digest null for a tag or repository delete
   * @param mediaType may be null (blobs are stored without one)
   * @param size -1 when unknown
   * @param tag may be null
   * @param fromRepository set for mounts only
   * @param references digests a pushed manifest references (may be empty)
   */
  record Operation(String action, String repository, String digest, String mediaType, long size, String tag,
      String fromRepository, java.util.List<String> references) {
    public Operation {
      references = references == null ? java.util.List.of() : java.util.List.copyOf(references);
    }
  }
}
