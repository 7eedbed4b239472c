package io.flotilla.auth;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Limits failed logins per client address and per user name: after {@code limit} failures within
 * a minute, further attempts from that address (or for that user) are refused until the minute is
 * over, without checking the password. Per node; memory is bounded (the table is cleared when it
 * grows past its cap, which errs towards letting attempts through, never towards locking out).
 */
public final class LoginThrottle {
  private static final long WINDOW_MILLIS = 60_000;
  private static final int MAX_ENTRIES = 100_000;

  private final int limit;
  private final Clock clock;
  private final Map<String, Window> windows = new ConcurrentHashMap<>();

  private record Window(long startMillis, int failures) {}

  public LoginThrottle(int limit, Clock clock) {
    this.limit = limit;
    this.clock = clock;
  }

  /** Seconds to wait before trying again, or 0 when an attempt may be made now. */
  public long retryAfterSeconds(String address, String user) {
    return Math.max(wait("a:" + address), user == null ? 0 : wait("u:" + user));
  }

  public void failed(String address, String user) {
    if (windows.size() >= MAX_ENTRIES) {
      windows.clear();
    }
    bump("a:" + address);
    if (user != null && !user.isEmpty()) {
      bump("u:" + user);
    }
  }

  private void bump(String key) {
    long now = clock.millis();
    windows.compute(key, (k, w) -> w == null || now - w.startMillis() >= WINDOW_MILLIS
        ? new Window(now, 1) : new Window(w.startMillis(), w.failures() + 1));
  }

  private long wait(String key) {
    Window w = windows.get(key);
    if (w == null || w.failures() < limit) {
      return 0;
    }
    long left = WINDOW_MILLIS - (clock.millis() - w.startMillis());
    if (left <= 0) {
      windows.remove(key, w);
      return 0;
    }
    return (left + 999) / 1000;
  }
}
