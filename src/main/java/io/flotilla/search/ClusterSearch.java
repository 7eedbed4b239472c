package io.flotilla.search;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.SearchHit;
import io.flotilla.bus.Messages.SearchReply;
import io.flotilla.bus.Messages.SearchRequest;
import io.flotilla.cluster.ClusterView;
import io.flotilla.cluster.Membership;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * A search query across the cluster, from the node that received it: lists go to every member of
 * the current view in parallel ({@link Addresses#SEARCH_QUERY}), each answering for the
 * repositories it is the answering owner of ({@link LocalSearch#answeringMember}), and the
 * members' best hits are merged into the exact page ({@link Paging#merge}); single-repository
 * operations go to that repository's answering member first. Members that fail or do not answer
 * in time are named in the result, never hidden. Runs on the caller's event loop.
 */
public final class ClusterSearch {
  private final Vertx vertx;
  private final java.util.function.Supplier<ClusterView> view;
  private final Predicate<String> catchingUp;
  private final String localNode;
  private final int replicas;

  /** A merged page and the members whose part is missing from it. */
  public record Result(Paging.Page page, List<String> unanswered) {}

  public ClusterSearch(Vertx vertx, Membership membership, Predicate<String> catchingUp, String localNode, int replicas) {
    this(vertx, membership::current, catchingUp, localNode, replicas);
  }

  /** Over any source of the current view (a single node with no cluster: {@link ClusterView#empty}). */
  public ClusterSearch(Vertx vertx, java.util.function.Supplier<ClusterView> view, Predicate<String> catchingUp,
      String localNode, int replicas) {
    this.vertx = vertx;
    this.view = view;
    this.catchingUp = catchingUp;
    this.localNode = localNode;
    this.replicas = replicas;
  }

  /** A request for {@code operation} in the current view (everything but the view comes from the caller). */
  public SearchRequest request(RequestContext ctx, String operation, String text, String repository,
      List<List<String>> baseLayers, List<String> baseDigests, Map<String, List<String>> filter, PageRequest page) {
    ClusterView current = view.get();
    List<String> members = current.isEmpty() ? List.of(localNode) : current.nodeNames();
    List<String> behind = members.stream().filter(catchingUp).toList();
    return new SearchRequest(ctx, operation, text, repository, baseLayers, baseDigests, filter, page.limit(),
        page.offset(), page.sort().name(), members, behind, replicas, false, List.of());
  }

  /**
   * Pages from this offset on take two rounds: members first send the sort keys of their best
   * {@code offset + limit} hits (small), then the members that hold the page's hits send those in
   * full. A shallow page takes one round with full hits.
   */
  static final int DEEP_OFFSET = 50;

  /** Every member's part of {@code q}, merged into the requested page. */
  public Future<Result> list(SearchRequest q, SortCriteria.Kind kind) {
    var order = SortCriteria.valueOf(q.sort()).order(kind); // refuses an unsupported sort before any call
    PageRequest page = new PageRequest(q.limit(), q.offset(), SortCriteria.valueOf(q.sort()));
    boolean deep = q.offset() >= DEEP_OFFSET;
    SearchRequest first = deep ? q.round(true, List.of(), q.limit(), q.offset()) : q;
    return fanOut(first, q.members()).compose(replies -> {
      List<List<SearchHit>> lists = new ArrayList<>();
      Map<String, String> holder = new java.util.HashMap<>();
      int total = 0;
      for (String node : q.members()) { // a fixed order: the merge is deterministic anyway
        SearchReply r = replies.answers().get(node);
        if (r != null) {
          lists.add(r.hits());
          total += r.total();
          for (SearchHit h : r.hits()) {
            holder.put(h.repo(), node);
          }
        }
      }
      Paging.Page merged = Paging.merge(lists, total, order, page);
      if (!deep || merged.items().isEmpty()) {
        return Future.succeededFuture(new Result(merged, replies.unanswered()));
      }
      return fillIn(q, merged, holder).map(page2 -> {
        List<String> unanswered = new ArrayList<>(replies.unanswered());
        unanswered.addAll(page2.unanswered());
        java.util.Collections.sort(unanswered);
        return new Result(page2.page(), List.copyOf(new java.util.LinkedHashSet<>(unanswered)));
      });
    });
  }

  private record Replies(Map<String, SearchReply> answers, List<String> unanswered) {}

  private Future<Replies> fanOut(SearchRequest q, List<String> nodes) {
    Map<String, SearchReply> replies = new ConcurrentHashMap<>();
    List<String> missing = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> calls = new ArrayList<>();
    for (String node : nodes) {
      calls.add(call(node, q).onSuccess(r -> replies.put(node, r)).onFailure(err -> missing.add(node)).otherwiseEmpty());
    }
    return Future.join(calls).map(ignored -> {
      List<String> unanswered = new ArrayList<>(missing);
      java.util.Collections.sort(unanswered);
      return new Replies(replies, List.copyOf(unanswered));
    });
  }

  /** The second round of a deep page: the page's hits in full, each from the member that listed it. */
  private Future<Result> fillIn(SearchRequest q, Paging.Page keys, Map<String, String> holder) {
    Map<String, List<String>> byNode = new java.util.TreeMap<>();
    for (SearchHit h : keys.items()) {
      List<String> repos = byNode.computeIfAbsent(holder.get(h.repo()), n -> new ArrayList<>());
      if (!repos.contains(h.repo())) {
        repos.add(h.repo());
      }
    }
    Map<String, SearchReply> replies = new ConcurrentHashMap<>();
    List<String> missing = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> calls = new ArrayList<>();
    byNode.forEach((node, repos) -> calls.add(call(node, q.round(false, repos, 0, 0))
        .onSuccess(r -> replies.put(node, r)).onFailure(err -> missing.add(node)).otherwiseEmpty()));
    return Future.join(calls).map(ignored -> {
      Map<String, SearchHit> full = new java.util.HashMap<>();
      replies.values().forEach(r -> r.hits().forEach(h -> full.put(key(h), h)));
      List<SearchHit> items = new ArrayList<>();
      for (SearchHit h : keys.items()) {
        SearchHit f = full.get(key(h));
        if (f != null) { // gone between the rounds (deleted): the page is one shorter
          items.add(f);
        }
      }
      List<String> unanswered = new ArrayList<>(missing);
      java.util.Collections.sort(unanswered);
      return new Result(new Paging.Page(items, keys.total()), List.copyOf(unanswered));
    });
  }

  private static String key(SearchHit h) {
    return h.repo() + '\u0000' + h.tag() + '\u0000' + h.digest();
  }

  /**
   * A single-repository operation: asks the repository's answering member, then (when it fails or
   * does not hold the repository) every other member, and takes the answer of the first member in
   * owner order that has one. Empty when no member holds it.
   */
  public Future<Result> one(SearchRequest q) {
    String first = LocalSearch.answeringMember(q.repository(), q.members(), q.catchingUp(), q.replicas());
    return call(first, q).transform(ar -> {
      if (ar.succeeded() && ar.result().total() > 0) {
        return Future.succeededFuture(new Result(new Paging.Page(ar.result().hits(), ar.result().total()), List.of()));
      }
      List<String> others = q.members().stream().filter(n -> !n.equals(first)).toList();
      Map<String, SearchReply> replies = new ConcurrentHashMap<>();
      List<String> missing = java.util.Collections.synchronizedList(new ArrayList<>());
      if (ar.failed()) {
        missing.add(first);
      }
      List<Future<?>> calls = new ArrayList<>();
      for (String node : others) {
        calls.add(call(node, q).onSuccess(r -> replies.put(node, r)).onFailure(err -> missing.add(node)).otherwiseEmpty());
      }
      return Future.join(calls).map(ignored -> {
        List<String> ranked = new ArrayList<>(others);
        ranked.sort((a, b) -> Long.compareUnsigned(io.flotilla.cluster.Placement.score(b, q.repository()),
            io.flotilla.cluster.Placement.score(a, q.repository())));
        for (String node : ranked) {
          SearchReply r = replies.get(node);
          if (r != null && r.total() > 0) {
            return new Result(new Paging.Page(r.hits(), r.total()), List.of());
          }
        }
        List<String> unanswered = new ArrayList<>(missing);
        java.util.Collections.sort(unanswered);
        return new Result(new Paging.Page(List.of(), 0), List.copyOf(unanswered));
      });
    });
  }

  private Future<SearchReply> call(String node, SearchRequest q) {
    return Bus.request(vertx, Addresses.SEARCH_QUERY, node, node.equals(localNode), q);
  }
}
