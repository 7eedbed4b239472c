package io.flotilla.content;

import io.flotilla.storage.EventSink;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.function.Consumer;

/**
 * Sits in front of the node's event sink and tells the task runner when a client changed a managed
 * repository (a manifest push or a delete), so that its next version is made. Syncs make their own
 * versions and are not passed on; neither are pulls, nor repositories without settings (one map read).
 */
public final class ContentEventTap implements EventSink {
  private final EventSink delegate;
  private final ContentIndex index;
  private volatile Consumer<String> changed = repository -> {};

  public ContentEventTap(EventSink delegate, ContentIndex index) {
    this.delegate = delegate;
    this.index = index;
  }

  /** Who hears of the changes (the task runner, once it started). */
  public void onChange(Consumer<String> listener) {
    this.changed = listener;
  }

  @Override
  public Future<Void> record(RequestContext ctx, Operation op) {
    Future<Void> recorded = delegate.record(ctx, op);
    if (!ctx.isInternal() && !"pull".equals(op.action()) && !"SYNC".equals(ctx.method()) && op.resource() == null
        && index.managed(op.repository()).isPresent() && (op.tag() != null || "delete".equals(op.action()))) {
      recorded.onSuccess(v -> changed.accept(op.repository()));
    }
    return recorded;
  }
}
