package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code flotilla task show|list|cancel}: the tasks syncs and pushes run as
 * ({@code /api/v1/tasks}); {@code show --wait} follows one until it ends.
 */
@Command(name = "task", description = "Show, list, follow and cancel tasks.")
public final class TaskCommands {
  @ParentCommand private FlotillaCli cli;

  @Command(name = "show", description = "Show a task; --wait follows it until it ends.")
  int show(@Parameters(paramLabel = "ID") String id,
      @Option(names = "--wait", description = "Follow the task's progress until it ends.") boolean wait)
      throws Exception {
    if (wait) {
      return cli.watcher().watch(id);
    }
    JsonNode task = cli.api().get(ApiClient.path("tasks", id));
    Output out = cli.output();
    if (out.json()) {
      out.document(task);
      return ExitCodes.OK;
    }
    ProgressView view = new ProgressView(out.color(), out.width());
    out.line(view.header(task));
    for (ProgressView.Row r : view.rows(task, System.nanoTime())) {
      out.line(r.text());
    }
    if (ExitCodes.isFinal(task.path("state").asText(""))) {
      view.summary(task).forEach(out::line);
      String error = ProgressView.error(task);
      if (error != null) {
        out.line("error: " + error);
      }
    }
    return ExitCodes.OK;
  }

  @Command(name = "list", description = "List tasks.")
  int list(@Option(names = "--state", paramLabel = "S", description = "waiting, running, completed, failed or canceled.") String state,
      @Option(names = "--repository", paramLabel = "R", description = "Only this repository's.") String repository)
      throws Exception {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("state", state);
    q.put("repository", repository);
    JsonNode answer = cli.api().get(ApiClient.query(ApiClient.path("tasks"), q));
    Output out = cli.output();
    if (out.json()) {
      out.document(answer);
      return ExitCodes.OK;
    }
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode t : answer.path("tasks")) {
      rows.add(List.of(t.path("id").asText(), t.path("name").asText("-"), t.path("repository").asText("-"),
          t.path("state").asText("-"), t.path("created").asText("-"), Output.text(t.path("node"))));
    }
    out.table(List.of("ID", "NAME", "REPOSITORY", "STATE", "CREATED", "NODE"), rows);
    return ExitCodes.OK;
  }

  @Command(name = "cancel", description = "Cancel a task that has not ended.")
  int cancel(@Parameters(paramLabel = "ID") String id) throws Exception {
    JsonNode task = cli.api().post(ApiClient.path("tasks", id, "cancel"), null);
    Output out = cli.output();
    if (out.json()) {
      out.document(task);
    } else {
      out.line("task " + id + ": " + task.path("state").asText("cancel requested"));
    }
    return ExitCodes.OK;
  }

  /**
   * What a command that started a task prints: the {@code {"id","task"}} answer (its id and href),
   * or with {@code wait} the task followed to its end; returns the exit code.
   */
  static int started(FlotillaCli cli, JsonNode answer, boolean wait) throws Exception {
    String id = answer.path("id").asText("");
    if (id.isEmpty()) {
      throw new ApiException(0, "", "the server's answer names no task: " + answer);
    }
    if (wait) {
      return cli.watcher().watch(id);
    }
    Output out = cli.output();
    if (out.json()) {
      out.document(answer);
    } else {
      out.line("task " + id + " started: " + answer.path("task").asText(ApiClient.path("tasks", id)));
      out.line("follow it with: flotilla task show " + id + " --wait");
    }
    return ExitCodes.OK;
  }
}
