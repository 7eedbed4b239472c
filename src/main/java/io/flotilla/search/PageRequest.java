package io.flotilla.search;

import java.util.Map;

/**
 * A requested page ({@code PageInput}): {@code offset} counts skipped items, {@code limit} 0 means
 * every item from the offset on when the offset is 0 (and none otherwise), as zot pages.
 */
public record PageRequest(int limit, int offset, SortCriteria sort) {
  /** Results a page may ask for at most; a larger limit is refused. */
  public static final int MAX_LIMIT = 10_000;

  public PageRequest {
    if (limit < 0) {
      throw new SearchException("pagination limit has negative value");
    }
    if (offset < 0) {
      throw new SearchException("pagination offset has negative value");
    }
    if (limit > MAX_LIMIT) {
      throw new SearchException("pagination limit has excessive value");
    }
  }

  /** A {@code PageInput} argument (null, or a map with nullable {@code limit}, {@code offset}, {@code sortBy}). */
  public static PageRequest of(Map<String, Object> input, SortCriteria defaultSort) {
    if (input == null) {
      return new PageRequest(0, 0, defaultSort);
    }
    Object sort = input.get("sortBy");
    return new PageRequest(number(input.get("limit")), number(input.get("offset")),
        sort == null ? defaultSort : SortCriteria.valueOf(sort.toString()));
  }

  private static int number(Object v) {
    return v == null ? 0 : ((Number) v).intValue();
  }

  /** Hits a member must return so that the merged page is exact: the first {@code offset + limit}, or all. */
  public int wanted() {
    if (limit == 0) {
      return offset == 0 ? Integer.MAX_VALUE : 0;
    }
    return (int) Math.min(Integer.MAX_VALUE, (long) offset + limit);
  }
}
