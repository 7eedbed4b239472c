package io.flotilla.search;

import io.flotilla.bus.Messages.SearchHit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Pages over many members: each member sorts its own matches and keeps the best
 * {@link PageRequest#wanted()} ({@link #top}); the node that received the query merges those
 * lists under the same total order and cuts {@code [offset, offset + limit)} ({@link #merge}). As
 * every repository is answered by exactly one member, the result equals sorting and slicing the
 * union, whatever the number of members.
 */
public final class Paging {
  private Paging() {}

  /** One page of results and the number of matches in all. */
  public record Page(List<SearchHit> items, int total) {}

  /** The best {@code page.wanted()} of {@code hits} in {@code order}, best first. */
  public static List<SearchHit> top(List<SearchHit> hits, Comparator<SearchHit> order, PageRequest page) {
    int k = page.wanted();
    if (k == 0) {
      return List.of();
    }
    if (k >= hits.size() / 4) {
      List<SearchHit> sorted = new ArrayList<>(hits);
      sorted.sort(order);
      return sorted.size() <= k ? sorted : List.copyOf(sorted.subList(0, k));
    }
    // a small page of many matches: keep the best k in a heap whose head is the worst kept
    PriorityQueue<SearchHit> kept = new PriorityQueue<>(k + 1, order.reversed());
    for (SearchHit h : hits) {
      if (kept.size() < k) {
        kept.add(h);
      } else if (order.compare(h, kept.peek()) < 0) {
        kept.poll();
        kept.add(h);
      }
    }
    List<SearchHit> out = new ArrayList<>(kept);
    out.sort(order);
    return out;
  }

  /** Merges members' sorted lists (k-way) and slices the page; {@code total} is the sum of the members' counts. */
  public static Page merge(List<List<SearchHit>> lists, int total, Comparator<SearchHit> order, PageRequest page) {
    int want = page.wanted();
    record Head(SearchHit hit, int list, int index) {}
    PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> order.compare(a.hit(), b.hit()));
    for (int i = 0; i < lists.size(); i++) {
      if (!lists.get(i).isEmpty()) {
        heads.add(new Head(lists.get(i).get(0), i, 0));
      }
    }
    List<SearchHit> out = new ArrayList<>();
    int seen = 0;
    while (!heads.isEmpty() && seen < want) {
      Head h = heads.poll();
      if (seen >= page.offset()) {
        out.add(h.hit());
      }
      seen++;
      List<SearchHit> from = lists.get(h.list());
      if (h.index() + 1 < from.size()) {
        heads.add(new Head(from.get(h.index() + 1), h.list(), h.index() + 1));
      }
    }
    return new Page(out, total);
  }
}
