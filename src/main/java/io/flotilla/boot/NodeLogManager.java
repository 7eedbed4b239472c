package io.flotilla.boot;

import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * The node's {@link LogManager}: the JDK's own closes every handler from a shutdown hook of its own
 * when the JVM begins to exit, in parallel with Flotilla's graceful stop, so everything the stop
 * logged after a SIGTERM (the hand-off's progress and outcome, the leave) was lost. Once {@link
 * #holdUntilStopped} is called, a reset only flushes the handlers; {@link #release} (at the end of
 * the stop) resets for real. Installed by {@link Main} through {@code java.util.logging.manager}
 * unless the operator chose another manager.
 */
public final class NodeLogManager extends LogManager {
  private volatile boolean held;

  /** Keeps the handlers open through the JVM's shutdown until {@link #release}. */
  static void holdUntilStopped() {
    if (LogManager.getLogManager() instanceof NodeLogManager m) {
      m.held = true;
    }
  }

  /** Flushes and closes the handlers (the reset the JVM's shutdown asked for). */
  static void release() {
    if (LogManager.getLogManager() instanceof NodeLogManager m) {
      m.held = false;
      m.reset();
    }
  }

  @Override
  public void reset() {
    if (!held) {
      super.reset();
      return;
    }
    for (Handler h : Logger.getLogger("").getHandlers()) {
      h.flush();
    }
  }
}
