package io.flotilla.events;

import io.flotilla.oci.Reference;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.ForwardingStorage;
import io.flotilla.storage.EventSink.Operation;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.vertx.core.Future;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * This node's storage with events: wraps the node's own storage (the node that performs an
 * operation is the one that reports it, so a request routed through another node is reported once)
 * and reports manifest pulls and deletes, tag deletes, repository deletes, blob mounts and deletes once they are
 * durable. Writes are acknowledged only after their event is durable; pulls do not wait for it. Pushes are
 * reported by the local storage itself, once the pushed content is durable.
 */
public final class EventingStorage extends ForwardingStorage {
  private final RegistryStorage local;
  private final EventSink events;
  private final ToLongFunction<String> orderOf;

  /**
   * @param orderOf a repository's order on this node, from memory (-1 when not known); see
   *     {@link io.flotilla.storage.MetadataStore#cachedOrder}
   */
  public EventingStorage(RegistryStorage local, EventSink events, ToLongFunction<String> orderOf) {
    super(local);
    this.local = local;
    this.events = events;
    this.orderOf = orderOf;
  }

  /** {@code op} with the repository's order after it (manifest, tag and repository events; blob events have none). */
  private Operation ordered(Operation op) {
    return op.withOrder(orderOf.applyAsLong(op.repository()));
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return local.getManifest(ctx, repository, reference).onSuccess(m -> events.record(ctx, ordered(new Operation("pull",
        repository, m.digest(), m.mediaType(), m.body().length, tagOf(reference), null, List.of()))));
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return local.putManifest(ctx, request); // reported by the local storage once the manifest is durable
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference,
      boolean presentElsewhere) {
    Reference ref = Reference.parse(reference);
    return local.deleteManifest(ctx, repository, reference, presentElsewhere).compose(v -> events.record(ctx, ordered(new Operation("delete",
        repository, ref.isDigest() ? ref.digest().toString() : null, null, -1, tagOf(reference), null, List.of()))));
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return local.deleteBlob(ctx, repository, digest).compose(v -> events.record(ctx, new Operation("delete",
        repository, digest, null, -1, null, null, List.of())));
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return local.mountBlob(ctx, repository, digest, from).compose(mounted -> !mounted ? Future.succeededFuture(false)
        : local.statBlob(ctx, repository, digest).compose(info -> events.record(ctx, new Operation("mount",
            repository, digest, "application/octet-stream", info.size(), null, from, List.of()))).map(true));
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    return local.deleteRepository(ctx, repository, presentElsewhere).compose(v -> events.record(ctx, ordered(new Operation("delete",
        repository, null, null, -1, null, null, List.of()))));
  }

  private static String tagOf(String reference) {
    Reference ref = Reference.parse(reference);
    return ref.isDigest() ? null : ref.tag().value();
  }
}
