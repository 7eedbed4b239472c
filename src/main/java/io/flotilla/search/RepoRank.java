package io.flotilla.search;

/**
 * How well a repository name matches a GlobalSearch text; lower is better, -1 is no match. The
 * rules are zot's, so that results come in the order zot's UI expects.
 */
public final class RepoRank {
  private RepoRank() {}

  /** The rank of {@code repo} for the (trimmed, lowercased) {@code query}; the empty query matches everything with 1. */
  public static int rank(String query, String repo) {
    String[] q = query.split("/", -1);
    String[] r = repo.split("/", -1);
    if (q.length > r.length) {
      return -1;
    }
    if (query.equals(repo)) {
      return 0;
    }
    String last = r[r.length - 1];
    if (q.length == 1) {
      int at = last.indexOf(query);
      if (at >= 0) {
        return at + 1;
      }
      at = r[0].indexOf(query);
      if (at >= 0) {
        return (at + 1) * 10;
      }
    } else {
      boolean leading = true;
      for (int i = 0; i < q.length - 1 && leading; i++) {
        leading = q[i].equals(r[i]);
      }
      int at = last.indexOf(q[q.length - 1]);
      if (leading && at >= 0) {
        return at + 1;
      }
    }
    if (repo.startsWith(query)) {
      return 10;
    }
    int at = repo.indexOf(query);
    return at >= 0 ? (at + 1) * 100 : -1;
  }
}
