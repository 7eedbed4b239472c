package io.flotilla.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ExitCodesTest {
  @Test
  void theDocumentedNumbers() {
    assertEquals(0, ExitCodes.OK);
    assertEquals(1, ExitCodes.TASK_FAILED);
    assertEquals(2, ExitCodes.USAGE);
    assertEquals(3, ExitCodes.REFUSED);
    assertEquals(4, ExitCodes.SERVER);
    assertEquals(5, ExitCodes.CANCELED);
  }

  @Test
  void statuses() {
    for (int s : new int[] {400, 401, 403, 404, 409, 422, 499}) {
      assertEquals(ExitCodes.REFUSED, ExitCodes.forStatus(s), "status " + s);
    }
    for (int s : new int[] {0, 500, 502, 503, 504, 399}) {
      assertEquals(ExitCodes.SERVER, ExitCodes.forStatus(s), "status " + s);
    }
  }

  @Test
  void taskStates() {
    assertEquals(ExitCodes.OK, ExitCodes.forTaskState("completed"));
    assertEquals(ExitCodes.TASK_FAILED, ExitCodes.forTaskState("failed"));
    assertEquals(ExitCodes.CANCELED, ExitCodes.forTaskState("canceled"));
    assertTrue(ExitCodes.isFinal("completed"));
    assertTrue(ExitCodes.isFinal("failed"));
    assertTrue(ExitCodes.isFinal("canceled"));
    assertFalse(ExitCodes.isFinal("running"));
    assertFalse(ExitCodes.isFinal("waiting"));
  }

  @Test
  void exceptions() {
    assertEquals(ExitCodes.REFUSED, ExitCodes.forException(new ApiException(404, "NAME_UNKNOWN", "no such remote")));
    assertEquals(ExitCodes.SERVER, ExitCodes.forException(new ApiException(0, "", "connection refused")));
    assertEquals(ExitCodes.SERVER, ExitCodes.forException(new ApiException(503, "", "unavailable")));
    assertEquals(ExitCodes.USAGE, ExitCodes.forException(
        new CommandLine.ParameterException(new CommandLine(CommandLine.Model.CommandSpec.create()), "bad")));
    assertEquals(ExitCodes.TASK_FAILED, ExitCodes.forException(new IllegalStateException("bug")));
  }
}
