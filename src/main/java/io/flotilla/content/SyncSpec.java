package io.flotilla.content;

import io.flotilla.oci.RepositoryName;
import java.util.List;
import java.util.Objects;

/**
 * What one sync copies: the tags of the {@code upstream} repository that {@code includeTags} select
 * (every tag when empty) and {@code excludeTags} do not, into the {@code local} repository. Filters
 * are globs ({@code *} matches any run of characters within a tag, e.g. {@code v1.*}). With
 * {@code mirror}, local tags that are not selected upstream (upstream dropped them, or the filters
 * exclude them) are removed after the copy; without it the sync only adds and moves tags.
 */
public record SyncSpec(RepositoryName upstream, RepositoryName local, List<String> includeTags,
    List<String> excludeTags, boolean mirror) {

  public SyncSpec {
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(local, "local");
    includeTags = includeTags == null ? List.of() : List.copyOf(includeTags);
    excludeTags = excludeTags == null ? List.of() : List.copyOf(excludeTags);
  }

  /** Every tag of {@code upstream} into {@code local}, additively. */
  public static SyncSpec of(RepositoryName upstream, RepositoryName local) {
    return new SyncSpec(upstream, local, List.of(), List.of(), false);
  }

  public SyncSpec including(String... globs) {
    return new SyncSpec(upstream, local, List.of(globs), excludeTags, mirror);
  }

  public SyncSpec excluding(String... globs) {
    return new SyncSpec(upstream, local, includeTags, List.of(globs), mirror);
  }

  public SyncSpec mirroring(boolean on) {
    return new SyncSpec(upstream, local, includeTags, excludeTags, on);
  }

  /** The tag filter these globs make. */
  public TagFilter filter() {
    return new TagFilter(includeTags, excludeTags);
  }
}
