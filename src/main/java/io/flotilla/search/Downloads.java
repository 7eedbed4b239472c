package io.flotilla.search;

/**
 * Manifest pull counts and last pull times, fed by pull events: what search reads for
 * {@code DownloadCount}, {@code LastPullTimestamp} and DOWNLOADS sorting.
 */
public interface Downloads {
  /** Pulls are not counted (events are off): counts are unknown, shown as null, and DOWNLOADS sorting is refused. */
  Downloads NONE = new Downloads() {
    @Override
    public boolean counted() {
      return false;
    }

    @Override
    public long count(String repository, String digest) {
      return 0;
    }

    @Override
    public long lastPullMillis(String repository, String digest) {
      return 0;
    }
  };

  /** Whether pulls are counted on this node. */
  boolean counted();

  /** Pulls of the manifest {@code digest} in {@code repository}. */
  long count(String repository, String digest);

  /** When it was last pulled, epoch millis; 0 if never. */
  long lastPullMillis(String repository, String digest);
}
