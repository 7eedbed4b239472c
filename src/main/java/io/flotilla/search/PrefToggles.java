package io.flotilla.search;

import io.vertx.core.Future;

/**
 * What the HTTP layer changes of the preferences ({@code PUT /v2/_zot/ext/userprefs}): one toggle
 * of a user's star or bookmark on a repository, applied durably on this node and passed on to the
 * others before the future completes. The caller has checked the user and the repository.
 */
public interface PrefToggles {
  /** The two preferences zot keeps per user and repository. */
  enum Kind {
    STAR("toggleStar"),
    BOOKMARK("toggleBookmark");

    private final String action;

    Kind(String action) {
      this.action = action;
    }

    /** zot's {@code action=} parameter. */
    public String action() {
      return action;
    }

    /** The kind of zot's {@code action=} value, or null for any other value. */
    public static Kind ofAction(String action) {
      for (Kind k : values()) {
        if (k.action.equals(action)) {
          return k;
        }
      }
      return null;
    }
  }

  /**
   * Flips {@code user}'s {@code kind} on {@code repository}.
   *
   * @return whether it is set now (starred, bookmarked); fails when it could not be saved here
   */
  Future<Boolean> toggle(String user, String repository, Kind kind);
}
