package io.flotilla.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Follows a task until its state is final ({@code --wait}): polls {@code GET /api/v1/tasks/{id}}
 * and draws its progress through a {@link ProgressView}. On a terminal the rows are redrawn in
 * place (ANSI cursor-up); otherwise a row is printed again only when its state or done/total
 * changes, without escape codes. With {@code --output json} it draws nothing and prints the final
 * task alone. A few consecutive failed polls (5xx, no answer) are tolerated; more, or any 4xx, end
 * the wait with that {@link ApiException}. Runs on the command's thread and blocks it.
 */
public final class TaskWatcher {
  /** Consecutive failed polls tolerated before giving up. */
  static final int TOLERATED_FAILURES = 5;

  private final ApiClient api;
  private final Output output;
  private final Duration interval;

  public TaskWatcher(ApiClient api, Output output, Duration interval) {
    this.api = api;
    this.output = output;
    this.interval = interval;
  }

  /** Waits for the task to end, prints its outcome and returns the exit code for it. */
  public int watch(String id) throws ApiException {
    String path = ApiClient.path("tasks", id);
    ProgressView view = new ProgressView(output.color(), output.width());
    Map<String, String> printed = new HashMap<>();
    String printedHeader = null;
    int drawn = 0;
    int failures = 0;
    JsonNode task;
    while (true) {
      try {
        task = api.get(path);
        failures = 0;
      } catch (ApiException e) {
        if (e.status() >= 400 && e.status() < 500 || ++failures > TOLERATED_FAILURES) {
          throw e;
        }
        sleep();
        continue;
      }
      String state = task.path("state").asText("");
      boolean over = ExitCodes.isFinal(state);
      if (!output.json()) {
        String header = view.header(task);
        List<ProgressView.Row> rows = view.rows(task, System.nanoTime());
        if (output.tty()) {
          drawn = redraw(drawn, header, rows);
        } else {
          if (!header.equals(printedHeader)) {
            output.line(header);
            printedHeader = header;
          }
          for (ProgressView.Row r : rows) {
            if (!r.signature().equals(printed.put(r.key(), r.signature()))) {
              output.line(r.text());
            }
          }
        }
      }
      if (over) {
        break;
      }
      sleep();
    }
    finish(task);
    return ExitCodes.forTaskState(task.path("state").asText(""));
  }

  /** Prints a task's outcome: the JSON, or the summary (and the error on stderr). */
  void finish(JsonNode task) {
    if (output.json()) {
      output.document(task);
      return;
    }
    for (String line : new ProgressView(output.color(), output.width()).summary(task)) {
      output.line(line);
    }
    String error = ProgressView.error(task);
    if (error != null) {
      output.error("task " + task.path("state").asText("") + ": " + error);
    }
  }

  private int redraw(int drawn, String header, List<ProgressView.Row> rows) {
    PrintWriter out = output.out();
    StringBuilder b = new StringBuilder();
    if (drawn > 0) {
      b.append("\033[").append(drawn).append("A\r\033[J");
    }
    b.append(header).append('\n');
    for (ProgressView.Row r : rows) {
      b.append(r.text()).append('\n');
    }
    out.print(b);
    out.flush();
    return rows.size() + 1;
  }

  private void sleep() throws ApiException {
    try {
      Thread.sleep(interval.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(0, "", "interrupted");
    }
  }
}
