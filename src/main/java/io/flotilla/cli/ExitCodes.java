package io.flotilla.cli;

import picocli.CommandLine;

/**
 * The one table of the client's exit codes, and the mapping of everything that ends a command to
 * one of them: HTTP statuses, task states and exceptions. Stateless.
 */
public final class ExitCodes {
  /** The request succeeded; with {@code --wait}, the task completed. */
  public static final int OK = 0;
  /** The task failed (also: the client itself failed unexpectedly). */
  public static final int TASK_FAILED = 1;
  /** The command line was wrong (unknown option, missing argument, unreadable local file). */
  public static final int USAGE = 2;
  /** The server refused the request: a 4xx answer (400, 401, 403, 404, 409...). */
  public static final int REFUSED = 3;
  /** The server failed (5xx, an answer that is not the API's) or could not be reached. */
  public static final int SERVER = 4;
  /** The task was canceled. */
  public static final int CANCELED = 5;

  private ExitCodes() {}

  /** The exit code for an HTTP status that is not a success; 0 stands for "no answer at all". */
  public static int forStatus(int status) {
    return status >= 400 && status < 500 ? REFUSED : SERVER;
  }

  /** The exit code for a task's state once it is final; a state not final yet counts as success. */
  public static int forTaskState(String state) {
    return switch (state) {
      case "failed" -> TASK_FAILED;
      case "canceled" -> CANCELED;
      default -> OK;
    };
  }

  /** Whether a task in this state will not change any more. */
  public static boolean isFinal(String state) {
    return state.equals("completed") || state.equals("failed") || state.equals("canceled");
  }

  /** The exit code for an exception that ended a command. */
  public static int forException(Throwable e) {
    if (e instanceof ApiException api) {
      return forStatus(api.status());
    }
    if (e instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    return TASK_FAILED;
  }
}
