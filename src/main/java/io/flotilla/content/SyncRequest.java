package io.flotilla.content;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A sync's one-time choices ({@code POST .../sync}): the remote and flags the request overrides
 * (null: the repository's setting), and after {@link #over} the effective ones the task runs with.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SyncRequest(String remote, Boolean mirror, Boolean autoPublish, Boolean autoDistribute) {

  /** The request's choices over the repository's settings (null: none), with {@code remote} resolved. */
  public SyncRequest over(RepoSettings s, String remoteName) {
    return new SyncRequest(remoteName,
        mirror != null ? mirror : s != null && s.mirror(),
        autoPublish != null ? autoPublish : s != null && s.autoPublish(),
        autoDistribute != null ? autoDistribute : s != null && s.autoDistribute());
  }

  public boolean mirrors() {
    return Boolean.TRUE.equals(mirror);
  }

  public boolean publishes() {
    return Boolean.TRUE.equals(autoPublish);
  }

  public boolean distributes() {
    return Boolean.TRUE.equals(autoDistribute);
  }
}
