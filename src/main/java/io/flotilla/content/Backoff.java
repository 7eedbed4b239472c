package io.flotilla.content;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When to try a failed GET again: which statuses are worth another attempt, exponential backoff with
 * jitter, and the upstream's {@code Retry-After} (seconds or an HTTP date), capped. Stateless.
 */
final class Backoff {
  /** Statuses that say "not now" rather than "no". */
  static final Set<Integer> RETRYABLE = Set.of(429, 502, 503, 504);

  private Backoff() {}

  static boolean retryable(int status) {
    return RETRYABLE.contains(status);
  }

  /**
   * The wait before attempt {@code attempt + 1}: the upstream's {@code Retry-After} when it gave one
   * (at most {@code maxBackoff}), else {@code initialBackoff * 2^(attempt-1)} capped at {@code maxBackoff},
   * +-12.5% jitter.
   *
   * @param retryAfterMillis what the upstream asked for, or -1
   */
  static long delayMillis(UpstreamConfig c, int attempt, long retryAfterMillis) {
    long max = c.maxBackoff().toMillis();
    if (retryAfterMillis >= 0) {
      return Math.max(1, Math.min(retryAfterMillis, max));
    }
    double exp = c.initialBackoff().toMillis() * Math.pow(2, Math.min(30, attempt - 1));
    long capped = (long) Math.min(exp, max);
    long jitter = ThreadLocalRandom.current().nextLong(capped / 4 + 1);
    return Math.max(1, capped - capped / 8 + jitter);
  }

  /**
   * Parses a {@code Retry-After} value: delay-seconds or an HTTP date (IMF-fixdate, as RFC 9110 requires
   * senders to use). Returns milliseconds from {@code nowMillis} (0 for a date in the past), or -1 when
   * absent or unreadable.
   */
  static long retryAfterMillis(String value, long nowMillis) {
    if (value == null || value.isBlank()) {
      return -1;
    }
    String v = value.trim();
    if (v.chars().allMatch(Character::isDigit)) {
      if (v.length() > 9) {
        return Long.MAX_VALUE / 2; // absurdly long: the cap applies
      }
      return Long.parseLong(v) * 1000;
    }
    try {
      long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
      return Math.max(0, at - nowMillis);
    } catch (DateTimeParseException e) {
      return -1;
    }
  }
}
