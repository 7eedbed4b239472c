package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.bus.Messages.SearchHit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Merging members' top lists gives exactly the page of the sorted union, for every order and page. */
class PagingTest {
  private static List<SearchHit> hits(Random rnd, int n) {
    List<SearchHit> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      // few distinct values, so ties are common and the tie-breaks matter
      out.add(new SearchHit("repo-" + rnd.nextInt(n), "t" + rnd.nextInt(3), "sha256:" + i, rnd.nextInt(4),
          rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(5), 0, rnd.nextInt(3), Map.of()));
    }
    return out;
  }

  @Test
  void mergedPagesEqualPagesOfTheSortedUnion() {
    Random rnd = new Random(42);
    for (int round = 0; round < 300; round++) {
      List<SearchHit> all = hits(rnd, rnd.nextInt(40));
      SortCriteria.Kind kind = rnd.nextBoolean() ? SortCriteria.Kind.REPOS : SortCriteria.Kind.IMAGES;
      SortCriteria sort = List.of(SortCriteria.RELEVANCE, SortCriteria.UPDATE_TIME, SortCriteria.ALPHABETIC_ASC,
          SortCriteria.ALPHABETIC_DSC).get(rnd.nextInt(4));
      Comparator<SearchHit> order = sort.order(kind);
      PageRequest page = new PageRequest(rnd.nextInt(6), rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(45), sort);
      int members = 1 + rnd.nextInt(4);
      List<List<SearchHit>> parts = new ArrayList<>();
      for (int m = 0; m < members; m++) {
        parts.add(new ArrayList<>());
      }
      for (SearchHit h : all) {
        parts.get(rnd.nextInt(members)).add(h);
      }
      List<List<SearchHit>> tops = new ArrayList<>();
      for (List<SearchHit> p : parts) {
        tops.add(Paging.top(p, order, page));
      }
      Paging.Page merged = Paging.merge(tops, all.size(), order, page);

      List<SearchHit> sorted = new ArrayList<>(all);
      sorted.sort(order);
      List<SearchHit> expected;
      if (page.limit() == 0) {
        expected = page.offset() == 0 ? sorted : List.of();
      } else {
        int from = Math.min(page.offset(), sorted.size());
        expected = sorted.subList(from, Math.min(sorted.size(), page.offset() + page.limit()));
      }
      assertEquals(expected, merged.items(), "round " + round + " " + sort + " " + kind + " " + page);
      assertEquals(all.size(), merged.total());
    }
  }

  @Test
  void ordersAreTotalAndUnknownTimesComeLast() {
    SearchHit old = new SearchHit("a", "1", "sha256:1", 0, 5, 0, 0, Map.of());
    SearchHit unknown = new SearchHit("a", "2", "sha256:2", 0, 0, 0, 0, Map.of());
    SearchHit fresh = new SearchHit("b", "1", "sha256:3", 0, 9, 0, 0, Map.of());
    List<SearchHit> l = new ArrayList<>(List.of(unknown, old, fresh));
    l.sort(SortCriteria.UPDATE_TIME.order(SortCriteria.Kind.IMAGES));
    assertEquals(List.of(fresh, old, unknown), l);
    SearchHit sameTagOtherDigest = new SearchHit("a", "1", "sha256:0", 0, 5, 0, 0, Map.of());
    l = new ArrayList<>(List.of(old, sameTagOtherDigest));
    l.sort(SortCriteria.ALPHABETIC_ASC.order(SortCriteria.Kind.IMAGES));
    assertEquals(List.of(sameTagOtherDigest, old), l, "ties end at the digest");
  }

  @Test
  void refusedSortsAndPages() {
    assertThrows(SearchException.class, () -> SortCriteria.SEVERITY.order(SortCriteria.Kind.REPOS));
    assertThrows(SearchException.class, () -> SortCriteria.STARS.order(SortCriteria.Kind.IMAGES));
    assertThrows(SearchException.class, () -> new PageRequest(-1, 0, SortCriteria.RELEVANCE));
    assertThrows(SearchException.class, () -> new PageRequest(1, -1, SortCriteria.RELEVANCE));
  }
}
