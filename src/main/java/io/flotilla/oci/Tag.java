package io.flotilla.oci;

import java.util.regex.Pattern;

/** A validated tag: {@code [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}}, safe as a file name. */
public record Tag(String value) implements Comparable<Tag> {
  private static final Pattern PATTERN = Pattern.compile("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}");

  public Tag {
    if (value == null || !PATTERN.matcher(value).matches()) {
      throw OciError.TAG_INVALID.with("invalid tag: " + (value == null ? "(none)"
          : value.length() > 140 ? value.substring(0, 140) + "..." : value));
    }
  }

  public static boolean isValid(String value) {
    return value != null && PATTERN.matcher(value).matches();
  }

  @Override
  public String toString() {
    return value;
  }

  @Override
  public int compareTo(Tag o) {
    return value.compareTo(o.value);
  }
}
