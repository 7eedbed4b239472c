package io.flotilla.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DurationsTest {
  @Test
  void readsUnitsAndCombinations() {
    assertEquals(30, Durations.parseSeconds("30s"));
    assertEquals(600, Durations.parseSeconds("10m"));
    assertEquals(3600, Durations.parseSeconds("1h"));
    assertEquals(86_400, Durations.parseSeconds("1d"));
    assertEquals(5400, Durations.parseSeconds("1h30m"));
    assertEquals(3661, Durations.parseSeconds("1h1m1s"));
    assertEquals(45, Durations.parseSeconds("45"));
    assertEquals(120, Durations.parseSeconds(" 2M "));
  }

  @Test
  void refusesWhatIsNotAPositiveDuration() {
    for (String bad : new String[] {"", "m", "10x", "1.5h", "-5m", "0s", "0", "h1", "10 m", "99999999999999999999s",
        "100000d"}) {
      assertThrows(IllegalArgumentException.class, () -> Durations.parseSeconds(bad), bad);
    }
  }

  @Test
  void formatsWhatItReads() {
    assertEquals("10m", Durations.format(600));
    assertEquals("1h30m", Durations.format(5400));
    assertEquals("1d1h1m1s", Durations.format(90_061));
    assertEquals("30s", Durations.format(30));
    assertEquals("0s", Durations.format(0));
    for (long s : new long[] {1, 59, 60, 61, 3599, 3600, 86_399, 86_401, 1_000_000}) {
      assertEquals(s, Durations.parseSeconds(Durations.format(s)));
    }
  }

  @Test
  void converterGivesPicocliAReadableError() {
    var e = assertThrows(CommandLine.TypeConversionException.class, () -> new Durations.Converter().convert("5x"));
    assertEquals("'5x' is not a duration (examples: 30s, 10m, 1h, 1h30m)", e.getMessage());
  }
}
