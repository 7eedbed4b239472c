package io.flotilla.oci;

import java.util.regex.Pattern;

/**
 * A validated repository name: path components of lower-case alphanumerics joined by {@code .},
 * {@code _}, {@code __} or dashes, separated by {@code /}, as the distribution specification
 * requires. Since no component may start with {@code _} or {@code .}, a name can never escape the
 * storage root nor collide with the store's own {@code _}-prefixed folders.
 */
public record RepositoryName(String value) implements Comparable<RepositoryName> {
  /** Longest accepted name; the specification lets registries cap it, distribution uses 255. */
  public static final int MAX_LENGTH = 255;

  private static final Pattern PATTERN =
      Pattern.compile("[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*)*");

  public RepositoryName {
    if (value == null || value.isEmpty() || value.length() > MAX_LENGTH || !PATTERN.matcher(value).matches()) {
      throw OciError.NAME_INVALID.with("invalid repository name: " + abbreviate(value));
    }
  }

  public static RepositoryName of(String value) {
    return new RepositoryName(value);
  }

  @Override
  public String toString() {
    return value;
  }

  @Override
  public int compareTo(RepositoryName o) {
    return value.compareTo(o.value);
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "(none)";
    }
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
