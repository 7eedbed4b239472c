package io.flotilla.events;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Event timestamps in RFC 3339 UTC with milliseconds ({@code 2026-11-30T12:05:03.123Z}), cheaply:
 * the part up to the second is formatted once per second and reused.
 */
final class Timestamps {
  private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss")
      .withZone(ZoneOffset.UTC);

  private record Cached(long second, String text) {}

  private static volatile Cached cached = new Cached(Long.MIN_VALUE, "");

  private Timestamps() {}

  static String now() {
    return format(System.currentTimeMillis());
  }

  static String format(long epochMillis) {
    long second = Math.floorDiv(epochMillis, 1000);
    Cached c = cached;
    if (c.second() != second) {
      c = new Cached(second, SECOND.format(Instant.ofEpochSecond(second)));
      cached = c;
    }
    int millis = (int) Math.floorMod(epochMillis, 1000);
    StringBuilder sb = new StringBuilder(24).append(c.text()).append('.');
    if (millis < 100) {
      sb.append('0');
    }
    if (millis < 10) {
      sb.append('0');
    }
    return sb.append(millis).append('Z').toString();
  }
}
