package io.flotilla.content;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One unit of content work and what became of it: its name ({@code sync}: sync, then a version, its
 * publication and distributions; {@code push}: a version of what clients pushed, then the same), the
 * repository, the node that runs it, its state, when it was created, started and finished, why it
 * failed, the objects it created (admin API paths), its progress reports, its parameters (JSON) and
 * who asked.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Task(String id, String name, String repository, String node, String state, long created, long started,
    long finished, String error, List<String> createdResources, List<ProgressReport> progressReports, String params,
    String identity) {
  public static final String KIND = "task";
  public static final String WAITING = "waiting";
  public static final String RUNNING = "running";
  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";
  public static final String CANCELED = "canceled";

  public Task {
    createdResources = createdResources == null ? List.of() : List.copyOf(createdResources);
    progressReports = progressReports == null ? List.of() : List.copyOf(progressReports);
  }

  /** Whether the task is over (completed, failed or canceled). */
  public boolean finalState() {
    return COMPLETED.equals(state) || FAILED.equals(state) || CANCELED.equals(state);
  }

  public Task running(long now) {
    return new Task(id, name, repository, node, RUNNING, created, now, 0, null, createdResources, progressReports,
        params, identity);
  }

  public Task progress(List<ProgressReport> reports, List<String> resources) {
    return new Task(id, name, repository, node, state, created, started, finished, error, resources, reports, params,
        identity);
  }

  public Task ended(String finalState, String why, long now) {
    return new Task(id, name, repository, node, finalState, created, started, now, why, createdResources,
        progressReports, params, identity);
  }
}
