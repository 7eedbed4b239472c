package io.flotilla.http;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * SIGHUP listeners: one process-wide signal handler (installed on first use) that runs every
 * registered listener. Where the platform has no SIGHUP (or {@code sun.misc.Signal} is missing)
 * nothing is installed and {@link #listen} says so; files are then still watched. Installing the
 * handler replaces the JVM's default for SIGHUP (running the shutdown hooks): a node reloads its
 * certificate on SIGHUP and keeps running.
 */
public final class Hangup {
  private static final System.Logger LOG = System.getLogger(Hangup.class.getName());
  private static final List<Runnable> LISTENERS = new CopyOnWriteArrayList<>();
  private static Boolean installed;

  private Hangup() {}

  /** Adds a listener; returns false when SIGHUP cannot be handled on this platform. */
  public static synchronized boolean listen(Runnable listener) {
    if (installed == null) {
      installed = install();
    }
    if (installed) {
      LISTENERS.add(listener);
    }
    return installed;
  }

  /** Removes a listener added by {@link #listen}. */
  public static void remove(Runnable listener) {
    LISTENERS.remove(listener);
  }

  private static boolean install() {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> LISTENERS.forEach(Hangup::run));
      return true;
    } catch (Throwable e) { // IllegalArgumentException (no such signal) or LinkageError (no sun.misc)
      LOG.log(System.Logger.Level.WARNING, "SIGHUP cannot be handled here (" + e + "); TLS files are still watched");
      return false;
    }
  }

  private static void run(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "SIGHUP listener failed", e);
    }
  }
}
