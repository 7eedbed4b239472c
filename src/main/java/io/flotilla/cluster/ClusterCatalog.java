package io.flotilla.cluster;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.ListCatalog;
import io.flotilla.oci.OciError;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.CatalogPage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code /v2/_catalog} across the cluster: asks every member of the current view for its own page
 * (names after {@code last}, at most {@code n}) over the event bus, in parallel, and merges them
 * with {@link CatalogMerge}, so pages are globally sorted, de-duplicated across replicas and
 * correctly continued by {@code last}. A member that fails or does not answer within the address
 * timeout is reported in the page's {@code unavailable} list whenever its absence could hide names
 * (see {@link CatalogMerge#complete}). So is a member that left the view without handing off (it
 * crashed) and has not come back: with R=1 its repositories are missing, not gone; with R>1 they
 * count against the replicas like any silent member. A member that drained before it left (a
 * graceful leave) handed everything off and is not counted.
 * Runs on the caller's event loop; never fails for a missing member, only when no member answers.
 */
public final class ClusterCatalog {
  private final Vertx vertx;
  private final Membership membership;
  private final String localNode;
  private final int replicationFactor;

  private final java.util.Set<String> departed = ConcurrentHashMap.newKeySet();
  private volatile ClusterView previous;
  private volatile java.util.Set<String> previousDraining = java.util.Set.of();

  public ClusterCatalog(Vertx vertx, Membership membership, String localNode, int replicationFactor) {
    this.vertx = vertx;
    this.membership = membership;
    this.localNode = localNode;
    this.replicationFactor = replicationFactor;
    this.previous = membership.current();
    membership.subscribe(Runnable::run, this::viewChanged);
  }

  /** Remembers members that left; forgets them when they are back. Called one view at a time. */
  private void viewChanged(ClusterView view) {
    for (String node : previous.nodeNames()) {
      if (!view.contains(node) && !previousDraining.contains(node)) {
        departed.add(node);
      }
    }
    departed.removeAll(view.nodeNames());
    previous = view;
    previousDraining = membership.draining();
  }

  /** Members that left the view and have not come back. */
  public java.util.Set<String> departed() {
    return java.util.Set.copyOf(departed);
  }

  public Future<CatalogPage> page(RequestContext ctx, int n, String last) {
    ClusterView view = membership.current();
    List<String> nodes = view.isEmpty() ? List.of(localNode) : view.nodeNames();
    Map<String, CatalogPage> pages = new ConcurrentHashMap<>();
    List<String> missing = java.util.Collections.synchronizedList(new ArrayList<>());
    for (String gone : departed) {
      if (!view.contains(gone)) {
        missing.add(gone);
      }
    }
    List<Future<?>> calls = new ArrayList<>();
    ListCatalog request = new ListCatalog(ctx, n, last);
    for (String node : nodes) {
      calls.add(Bus.request(vertx, Addresses.CATALOG_LIST, node, node.equals(localNode), request)
          .onSuccess(page -> pages.put(node, page))
          .onFailure(err -> missing.add(node))
          .otherwiseEmpty());
    }
    return Future.join(calls).transform(ignored -> {
      if (pages.isEmpty()) {
        return Future.failedFuture(OciError.UNAVAILABLE.with("no node answered the catalog request"));
      }
      CatalogMerge.Result merged = CatalogMerge.merge(n, last, pages, List.copyOf(missing));
      return Future.succeededFuture(merged.toCatalogPage(view, replicationFactor));
    });
  }
}
