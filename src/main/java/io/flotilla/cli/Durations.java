package io.flotilla.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;

/**
 * Durations on the command line, in whole seconds: {@code 30s}, {@code 10m}, {@code 1h},
 * {@code 1d}, combinations such as {@code 1h30m}, or a bare number of seconds. Stateless.
 */
public final class Durations {
  private static final Pattern WHOLE = Pattern.compile("(?:\\d+[dhms])+");
  private static final Pattern PART = Pattern.compile("(\\d+)([dhms])");
  private static final long MAX = Integer.MAX_VALUE;

  private Durations() {}

  /** Parses a positive duration into seconds; throws {@link IllegalArgumentException} otherwise. */
  public static long parseSeconds(String text) {
    String s = text.trim().toLowerCase(java.util.Locale.ROOT);
    long seconds;
    try {
      if (s.matches("\\d+")) {
        seconds = Long.parseLong(s);
      } else if (WHOLE.matcher(s).matches()) {
        seconds = 0;
        Matcher m = PART.matcher(s);
        while (m.find()) {
          seconds = Math.addExact(seconds, Math.multiplyExact(Long.parseLong(m.group(1)), unit(m.group(2))));
        }
      } else {
        throw new IllegalArgumentException("'" + text + "' is not a duration (examples: 30s, 10m, 1h, 1h30m)");
      }
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too long a duration");
    }
    if (seconds <= 0) {
      throw new IllegalArgumentException("'" + text + "' is not a positive duration");
    }
    if (seconds > MAX) {
      throw new IllegalArgumentException("'" + text + "' is too long a duration");
    }
    return seconds;
  }

  /** Seconds written the way {@link #parseSeconds} reads them: 600 as {@code 10m}, 5400 as {@code 1h30m}. */
  public static String format(long seconds) {
    if (seconds <= 0) {
      return "0s";
    }
    StringBuilder b = new StringBuilder();
    long rest = seconds;
    for (String u : new String[] {"d", "h", "m", "s"}) {
      long n = rest / unit(u);
      if (n > 0) {
        b.append(n).append(u);
        rest -= n * unit(u);
      }
    }
    return b.toString();
  }

  private static long unit(String u) {
    return switch (u) {
      case "d" -> 86_400;
      case "h" -> 3_600;
      case "m" -> 60;
      default -> 1;
    };
  }

  /** The picocli converter of an option given as a duration: its value in seconds. */
  public static final class Converter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parseSeconds(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
