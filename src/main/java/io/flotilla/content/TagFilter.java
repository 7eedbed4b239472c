package io.flotilla.content;

import io.flotilla.oci.Glob;
import io.flotilla.oci.Tag;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Selects tags by globs ({@link Glob}; tags have no {@code /}, so {@code *} matches any run of
 * characters): a tag is selected when it matches an include glob (or there are none) and no exclude
 * glob. Immutable.
 */
public final class TagFilter {
  private final List<Pattern> include;
  private final List<Pattern> exclude;

  public TagFilter(List<String> include, List<String> exclude) {
    this.include = include.stream().map(Glob::toPattern).toList();
    this.exclude = exclude.stream().map(Glob::toPattern).toList();
  }

  public boolean selects(Tag tag) {
    String t = tag.value();
    return (include.isEmpty() || include.stream().anyMatch(p -> p.matcher(t).matches()))
        && exclude.stream().noneMatch(p -> p.matcher(t).matches());
  }
}
