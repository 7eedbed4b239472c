package io.flotilla.search;

import io.flotilla.bus.Messages.SearchHit;
import java.util.Comparator;

/**
 * The sort orders of paginated search results, with zot's names. Every order is total: ties are
 * broken by repository name, then tag, then digest, so a page is the same whichever node answers.
 */
public enum SortCriteria {
  RELEVANCE, UPDATE_TIME, ALPHABETIC_ASC, ALPHABETIC_DSC, SEVERITY, STARS, DOWNLOADS;

  /** Whether results are repositories or images (the orders differ, and some are refused for one of them). */
  public enum Kind { REPOS, IMAGES }

  private static final Comparator<SearchHit> NAME = Comparator.comparing(SearchHit::repo)
      .thenComparing(SearchHit::tag).thenComparing(SearchHit::digest);
  /** Newest first; an unknown time (0) last. */
  private static final Comparator<SearchHit> NEWEST = (a, b) -> {
    if (a.updated() == b.updated()) {
      return 0;
    }
    if (a.updated() == 0 || b.updated() == 0) {
      return a.updated() == 0 ? 1 : -1;
    }
    return Long.compare(b.updated(), a.updated());
  };

  /**
   * The order of this criterion for {@code kind}.
   *
   * @throws SearchException for a criterion that does not apply to {@code kind}
   */
  public Comparator<SearchHit> order(Kind kind) {
    return switch (this) {
      case ALPHABETIC_ASC -> NAME;
      case ALPHABETIC_DSC -> NAME.reversed();
      case RELEVANCE -> kind == Kind.REPOS ? Comparator.comparingLong(SearchHit::rank).thenComparing(NAME) : NAME;
      case UPDATE_TIME -> NEWEST.thenComparing(NAME);
      case STARS -> {
        if (kind != Kind.REPOS) {
          throw unsupported();
        }
        yield Comparator.comparingLong(SearchHit::stars).reversed().thenComparing(NAME);
      }
      // the receiving node refuses DOWNLOADS where pulls are not counted (SearchQueries)
      case DOWNLOADS -> Comparator.comparingLong(SearchHit::downloads).reversed().thenComparing(NAME);
      // repositories and images have no severity, as in zot (CVE lists sort by it: CveList.order)
      case SEVERITY -> throw unsupported();
    };
  }

  private SearchException unsupported() {
    return new SearchException("sorting repos by '" + name() + "' is not supported the pagination sort criteria is not supported");
  }
}
