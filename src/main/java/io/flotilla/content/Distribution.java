package io.flotilla.content;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Where clients pull a published repository version: {@code basePath} is the OCI repository name they
 * use. It serves {@code publication} when set, otherwise the latest publication of {@code repository}.
 * Moving {@code publication} is a promotion or a rollback: one record write, so a pull resolves its
 * tag in the old version or the new one, never a mix.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Distribution(String name, String basePath, String repository, String publication, long created,
    long updated) {
  public static final String KIND = "distribution";

  public Distribution withPublication(String id, long now) {
    return new Distribution(name, basePath, repository, id, created, now);
  }
}
