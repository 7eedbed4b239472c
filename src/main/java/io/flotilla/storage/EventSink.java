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
  };

  /**
   * Records one operation, once it is durable. The future completes when the event is durable on
   * this node (writes wait for it before they are acknowledged; reads need not, and a pull's future
   * may complete before its event is synced).
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
   * @param resource for content lifecycle events, the admin API path of the object (null otherwise)
   * @param order the repository's order on the reporting node after the operation (the stamp of its
   *     newest write there, see {@link MetadataStore#order}); -1 when not known
   */
  record Operation(String action, String repository, String digest, String mediaType, long size, String tag,
      String fromRepository, java.util.List<String> references, long order, String resource) {
    public Operation {
      references = references == null ? java.util.List.of() : java.util.List.copyOf(references);
    }

    /** A registry operation (no admin API resource). */
    public Operation(String action, String repository, String digest, String mediaType, long size, String tag,
        String fromRepository, java.util.List<String> references, long order) {
      this(action, repository, digest, mediaType, size, tag, fromRepository, references, order, null);
    }

    /**
     * A change of a content lifecycle object (a task, a repository version, a distribution):
     * {@code action} such as {@code task.completed}, the repository it concerns, the object's media
     * type, and its admin API path ({@code /api/v1/tasks/<id>}), which becomes the event's URL.
     */
    public static Operation content(String action, String repository, String mediaType, String resource) {
      return new Operation(action, repository, null, mediaType, -1, null, null, null, -1, resource);
    }

    /** An operation without an order (blobs, mounts, conflicts). */
    public Operation(String action, String repository, String digest, String mediaType, long size, String tag,
        String fromRepository, java.util.List<String> references) {
      this(action, repository, digest, mediaType, size, tag, fromRepository, references, -1);
    }

    /** This operation with {@code order} (-1: none). */
    public Operation withOrder(long order) {
      return new Operation(action, repository, digest, mediaType, size, tag, fromRepository, references, order, resource);
    }
  }
}
