package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class TimesTest {
  @Test
  void formatsLikeGosRfc3339Nano() {
    long t = Times.parse("2024-05-06T07:08:09.120000000Z");
    assertEquals("2024-05-06T07:08:09.12Z", Times.format(t), "trailing zeros of the fraction go");
    assertEquals("2024-05-06T07:08:09Z", Times.format(Times.parse("2024-05-06T07:08:09Z")), "no fraction, no dot");
    assertEquals("2024-05-06T05:08:09.000000001Z", Times.format(Times.parse("2024-05-06T07:08:09.000000001+02:00")),
        "offsets become UTC, nanoseconds kept");
    assertEquals("1970-01-01T00:00:01.5Z", Times.format(Times.ofMillis(1500)));
  }

  @Test
  void unknownTimesAreNull() {
    assertEquals(0, Times.parse("0001-01-01T00:00:00Z"), "Go's zero time");
    assertEquals(0, Times.parse("yesterday"));
    assertEquals(0, Times.parse(null));
    assertNull(Times.format(0));
  }
}
