package io.flotilla.content;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.TreeMap;

/**
 * One immutable state of a repository: its number, the version it was made from ({@code 0} for the
 * first), every tag and the manifest digest it named, how many tags were added, removed and are
 * present compared with the base, when, why ({@code sync}, {@code push}, {@code api}) and by which task.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RepoVersion(String repository, int number, int base, Map<String, String> tags, int added, int removed,
    int present, long created, String cause, String task) {
  public static final String KIND = "version";

  public RepoVersion {
    tags = tags == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(tags));
  }

  /** The store key of version {@code number} of {@code repository}. */
  public static String key(String repository, int number) {
    return repository + "@" + number;
  }

  /** The version after {@code base} (null: none yet) that holds {@code tags}. */
  public static RepoVersion next(String repository, RepoVersion base, Map<String, String> tags, long now, String cause,
      String task) {
    Map<String, String> before = base == null ? Map.of() : base.tags();
    int added = 0;
    int removed = 0;
    for (Map.Entry<String, String> e : tags.entrySet()) {
      if (!e.getValue().equals(before.get(e.getKey()))) {
        added++;
      }
    }
    for (Map.Entry<String, String> e : before.entrySet()) {
      if (!e.getValue().equals(tags.get(e.getKey()))) {
        removed++;
      }
    }
    return new RepoVersion(repository, base == null ? 1 : base.number() + 1, base == null ? 0 : base.number(), tags,
        added, removed, tags.size(), now, cause, task);
  }
}
