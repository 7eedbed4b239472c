package io.flotilla.search;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The search API's {@code Time} values: RFC 3339 with as many fraction digits as needed (Go's RFC3339Nano), in UTC. */
public final class Times {
  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  private Times() {}

  /** Epoch nanoseconds of an RFC 3339 string; 0 for null, unparsable or Go's zero time (year 1). */
  public static long parse(String text) {
    if (text == null || text.isEmpty()) {
      return 0;
    }
    try {
      Instant i = OffsetDateTime.parse(text).toInstant();
      if (i.getEpochSecond() <= 0) {
        return 0;
      }
      return Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L) + i.getNano();
    } catch (RuntimeException e) {
      return 0;
    }
  }

  /** Epoch nanoseconds of epoch milliseconds (0 stays 0). */
  public static long ofMillis(long millis) {
    return millis <= 0 ? 0 : millis * 1_000_000L;
  }

  /** The string of epoch nanoseconds; null for 0 (unknown), as zot serialises a zero time. */
  public static String format(long nanos) {
    if (nanos == 0) {
      return null;
    }
    long seconds = Math.floorDiv(nanos, 1_000_000_000L);
    int nano = (int) Math.floorMod(nanos, 1_000_000_000L);
    StringBuilder b = new StringBuilder(SECONDS.format(OffsetDateTime.ofInstant(Instant.ofEpochSecond(seconds), ZoneOffset.UTC)));
    if (nano != 0) {
      String f = String.format("%09d", nano);
      int end = f.length();
      while (f.charAt(end - 1) == '0') {
        end--;
      }
      b.append('.').append(f, 0, end);
    }
    return b.append('Z').toString();
  }
}
