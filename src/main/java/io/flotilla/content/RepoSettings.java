package io.flotilla.content;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * How a repository is managed: the remote its syncs copy from, whether a sync mirrors (removes what
 * upstream removed), whether a new version is published and distributed by itself, how many
 * versions are kept ({@code 0}: all), and when it last synced (for periodic syncs).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RepoSettings(String name, String remote, boolean mirror, boolean autoPublish, boolean autoDistribute,
    int retainVersions, long lastSync, long updated) {
  public static final String KIND = "settings";

  public RepoSettings withLastSync(long millis) {
    return new RepoSettings(name, remote, mirror, autoPublish, autoDistribute, retainVersions, millis, updated);
  }
}
