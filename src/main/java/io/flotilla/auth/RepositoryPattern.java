package io.flotilla.auth;

import java.util.regex.Pattern;

/**
 * A policy's repository glob: {@code *} matches any characters inside one path segment,
 * {@code **} matches across segments ({@code team/**} matches {@code team/a} and
 * {@code team/a/b}, not {@code team}). Patterns are matched against validated repository names
 * only, so {@code ..}, encoded slashes and upper case never reach them.
 */
public final class RepositoryPattern {
  private final String glob;
  private final Pattern regex;
  private final int literals;
  private final int doubleStars;
  private final int stars;

  public RepositoryPattern(String glob) {
    this.glob = glob;
    StringBuilder re = new StringBuilder();
    int lit = 0;
    int dbl = 0;
    int single = 0;
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*') {
        if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          i++;
          dbl++;
          // "a/**" also matches deeper paths; "**/b" any prefix; "**" alone everything
          if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
            i++;
            re.append("(?:.*/)?");
          } else {
            re.append(".*");
          }
        } else {
          single++;
          re.append("[^/]*");
        }
      } else {
        lit++;
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    this.regex = Pattern.compile(re.toString());
    this.literals = lit;
    this.doubleStars = dbl;
    this.stars = single;
  }

  public boolean matches(String repository) {
    return regex.matcher(repository).matches();
  }

  /**
   * Orders patterns from least to most specific: more literal characters first, then fewer
   * {@code **}, then fewer {@code *}. Equal specificity means the patterns' grants are combined.
   */
  public long specificity() {
    return (long) literals * 1_000_000 + (999 - Math.min(999, doubleStars)) * 1_000L + (999 - Math.min(999, stars));
  }

  public String glob() {
    return glob;
  }

  @Override
  public String toString() {
    return glob;
  }
}
