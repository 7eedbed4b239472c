package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final UpstreamConfig config = UpstreamConfig.of("http://127.0.0.1:1")
      .withRetries(5, Duration.ofMillis(100), Duration.ofSeconds(2));

  @Test
  void retryAfterInSecondsOrAsAnHttpDate() {
    long now = Instant.parse("2025-03-01T10:00:00Z").toEpochMilli();
    assertEquals(7000, Backoff.retryAfterMillis("7", now));
    assertEquals(0, Backoff.retryAfterMillis(" 0 ", now));
    assertEquals(30_000, Backoff.retryAfterMillis("Sat, 01 Mar 2025 10:00:30 GMT", now));
    assertEquals(0, Backoff.retryAfterMillis("Sat, 01 Mar 2025 09:00:00 GMT", now)); // past: now
    String formatted = DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(now + 5000).atZone(ZoneOffset.UTC));
    assertEquals(5000, Backoff.retryAfterMillis(formatted, now));
    assertEquals(-1, Backoff.retryAfterMillis(null, now));
    assertEquals(-1, Backoff.retryAfterMillis("soon", now));
    assertEquals(-1, Backoff.retryAfterMillis("-3", now));
    assertTrue(Backoff.retryAfterMillis("99999999999999999999", now) > 1_000_000_000L);
  }

  @Test
  void retryAfterIsCappedAtMaxBackoff() {
    assertEquals(2000, Backoff.delayMillis(config, 1, 3_600_000));
    assertEquals(1500, Backoff.delayMillis(config, 3, 1500));
  }

  @Test
  void exponentialWithJitterAndCapped() {
    for (int i = 0; i < 50; i++) {
      long first = Backoff.delayMillis(config, 1, -1);
      assertTrue(first >= 87 && first <= 113, "first " + first);
      long third = Backoff.delayMillis(config, 3, -1);
      assertTrue(third >= 350 && third <= 450, "third " + third);
      long late = Backoff.delayMillis(config, 20, -1);
      assertTrue(late >= 1750 && late <= 2250, "late " + late);
    }
  }

  @Test
  void retryableStatuses() {
    for (int s : new int[] {429, 502, 503, 504}) {
      assertTrue(Backoff.retryable(s));
    }
    for (int s : new int[] {200, 401, 404, 500, 501}) {
      assertFalse(Backoff.retryable(s));
    }
  }
}
