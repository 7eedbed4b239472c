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
    List<String> excludeTags, boolean mirror, List<String> mountFrom) {

  public SyncSpec {
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(local, "local");
    includeTags = includeTags == null ? List.of() : List.copyOf(includeTags);
    excludeTags = excludeTags == null ? List.of() : List.copyOf(excludeTags);
    mountFrom = mountFrom == null ? List.of() : List.copyOf(mountFrom);
  }

  public SyncSpec(RepositoryName upstream, RepositoryName local, List<String> includeTags, List<String> excludeTags,
      boolean mirror) {
    this(upstream, local, includeTags, excludeTags, mirror, List.of());
  }

  /**
   * This sync, mounting a blob the local repository lacks from the first of {@code repositories}
   * that holds it (on whichever node: the cluster copies it over its data channel) before it is
   * downloaded from upstream.
   */
  public SyncSpec mountingFrom(List<String> repositories) {
    return new SyncSpec(upstream, local, includeTags, excludeTags, mirror, repositories);
  }

  /** Every tag of {@code upstream} into {@code local}, additively. */
  public static SyncSpec of(RepositoryName upstream, RepositoryName local) {
    return new SyncSpec(upstream, local, List.of(), List.of(), false);
  }

  public SyncSpec including(String... globs) {
    return new SyncSpec(upstream, local, List.of(globs), excludeTags, mirror, mountFrom);
  }

  public SyncSpec excluding(String... globs) {
    return new SyncSpec(upstream, local, includeTags, List.of(globs), mirror, mountFrom);
  }

  public SyncSpec mirroring(boolean on) {
    return new SyncSpec(upstream, local, includeTags, excludeTags, on, mountFrom);
  }

  /** The tag filter these globs make. */
  public TagFilter filter() {
    return new TagFilter(includeTags, excludeTags);
  }
}
