package io.flotilla.oci;

import java.util.regex.Pattern;

/**
 * Globs over OCI names (repositories in event endpoint filters, tags in sync filters): {@code *}
 * matches within a path segment, {@code **} across segments; everything else matches itself.
 */
public final class Glob {
  private Glob() {}

  public static Pattern toPattern(String glob) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          re.append(".*");
          i++;
        } else {
          re.append("[^/]*");
        }
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString());
  }
}
