package io.flotilla.search;

/**
 * A query the search API refuses or cannot answer, with the message the caller sees in the GraphQL
 * {@code errors} array (HTTP 200, {@code data} null), as zot words it where zot has the case.
 */
public final class SearchException extends RuntimeException {
  public SearchException(String message) {
    super(message, null, false, false);
  }
}
