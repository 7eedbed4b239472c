package io.flotilla.search;

/**
 * Stars and bookmarks: per user, durable, the same on every node. What search reads of them
 * ({@code IsStarred}, {@code IsBookmarked}, {@code StarCount}, the filters, STARS sorting).
 */
public interface UserPrefs {
  /** No preferences recorded: nothing is starred or bookmarked. */
  UserPrefs NONE = new UserPrefs() {
    @Override
    public boolean starred(String user, String repository) {
      return false;
    }

    @Override
    public boolean bookmarked(String user, String repository) {
      return false;
    }

    @Override
    public int stars(String repository) {
      return 0;
    }
  };

  boolean starred(String user, String repository);

  boolean bookmarked(String user, String repository);

  /** How many users starred the repository. */
  int stars(String repository);
}
