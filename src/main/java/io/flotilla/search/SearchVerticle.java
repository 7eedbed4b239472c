package io.flotilla.search;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * The search verticle of a node: builds the node's {@link SearchIndex} at start, then answers its
 * part of every search query ({@link Addresses#SEARCH_QUERY}) with {@link LocalSearch} on a worker
 * thread, since the index may read manifests from disk; the CVE operations that may scan then
 * wait for the scans on the event loop.
 */
public final class SearchVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(SearchVerticle.class.getName());

  private final String nodeId;
  private final SearchIndex index;
  private final LocalSearch search;
  /** How often changed repositories are indexed ahead of queries. */
  static final long REFRESH_MILLIS = 200;
  private long timer = -1;
  private boolean refreshing;

  public SearchVerticle(String nodeId, SearchIndex index, LocalSearch search) {
    this.nodeId = nodeId;
    this.index = index;
    this.search = search;
  }

  @Override
  public Future<?> start() {
    return vertx.executeBlocking(() -> {
      long t0 = System.nanoTime();
      int listed = index.rebuild();
      LOG.log(System.Logger.Level.INFO, "search index built: {0} repositories with images in {1} ms",
          listed, (System.nanoTime() - t0) / 1_000_000);
      return null;
    }).compose(v -> Bus.serve(vertx, Addresses.SEARCH_QUERY, nodeId,
        q -> LocalSearch.scanning(q.operation())
            ? vertx.executeBlocking(() -> search.repository(q), false).compose(r -> search.answerScanning(q, r))
            : vertx.executeBlocking(() -> search.answer(q), false))).onSuccess(c -> {
          timer = vertx.setPeriodic(REFRESH_MILLIS, t -> refresh());
        });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** Indexes changed repositories on a worker, one batch at a time. */
  private void refresh() {
    if (refreshing || !index.hasStale()) {
      return;
    }
    refreshing = true;
    vertx.executeBlocking(() -> index.refresh(500), false).onComplete(ar -> {
      refreshing = false;
      if (ar.failed()) {
        LOG.log(System.Logger.Level.WARNING, "indexing changed repositories failed", ar.cause());
      }
    });
  }
}
