package io.flotilla.http;

import io.flotilla.config.TlsFiles;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ServerSSLOptions;
import java.util.function.Function;

/**
 * Serves a new client certificate without a restart: every {@code intervalMillis} it compares the
 * PEM files' modification time and size with those last loaded, and on a change (or on SIGHUP,
 * which reloads unconditionally) reads and checks them on a worker thread and hands the new
 * options to {@code apply} (which updates the listeners: new handshakes get the new certificate,
 * open connections keep theirs). A pair that does not load (bad PEM, key not matching, a file
 * half written) is logged and the old certificate stays; it is tried again when the files change
 * again. Runs on the context it was started on.
 */
public final class TlsReloader {
  private static final System.Logger LOG = System.getLogger(TlsReloader.class.getName());

  private final Vertx vertx;
  private final TlsFiles files;
  private final Function<ServerSSLOptions, Future<?>> apply;
  private final long intervalMillis;
  private final Runnable onHangup = this::reloadNow;
  private Context context;
  private ServerTls.Stamp last;
  private boolean busy;
  private long timer = -1;
  private volatile long reloads;
  private volatile long failures;

  /**
   * @param loaded what the listeners serve now
   * @param apply installs new options on every listener
   */
  public TlsReloader(Vertx vertx, TlsFiles files, ServerTls.Loaded loaded, Function<ServerSSLOptions, Future<?>> apply,
      long intervalMillis) {
    this.vertx = vertx;
    this.files = files;
    this.apply = apply;
    this.intervalMillis = intervalMillis;
    this.last = loaded.stamp();
  }

  /** Starts watching the files and listening to SIGHUP. */
  public void start() {
    context = vertx.getOrCreateContext();
    context.runOnContext(v -> timer = vertx.setPeriodic(intervalMillis, t -> check(false)));
    Hangup.listen(onHangup);
  }

  /** Stops watching. */
  public void stop() {
    Hangup.remove(onHangup);
    if (context != null) {
      context.runOnContext(v -> {
        if (timer >= 0) {
          vertx.cancelTimer(timer);
        }
      });
    }
  }

  /** How many times new options were installed (for tests and logs). */
  public long reloads() {
    return reloads;
  }

  /** How many loads failed (the previous certificate was kept). */
  public long failures() {
    return failures;
  }

  /** Reloads the files whether or not they look changed (SIGHUP); any thread. */
  public void reloadNow() {
    LOG.log(System.Logger.Level.INFO, "SIGHUP: reloading the TLS certificate " + files.cert());
    context.runOnContext(v -> check(true));
  }

  private void check(boolean force) {
    if (busy) {
      return;
    }
    busy = true;
    ServerTls.Stamp before = last;
    vertx.executeBlocking(() -> {
      ServerTls.Stamp now = ServerTls.Stamp.of(files);
      return !force && now.equals(before) ? null : ServerTls.load(vertx, files);
    }, false).compose(loaded -> {
      if (loaded == null) {
        return Future.succeededFuture();
      }
      last = loaded.stamp();
      return apply.apply(loaded.options()).onSuccess(x -> {
        reloads++;
        LOG.log(System.Logger.Level.INFO, "TLS certificate reloaded: now serving " + loaded.subject()
            + " from " + files.cert());
      });
    }).onComplete(ar -> {
      busy = false;
      if (ar.failed()) {
        failures++;
        rememberFailed();
        LOG.log(System.Logger.Level.WARNING, "TLS certificate not reloaded, the previous one is still served: "
            + ar.cause().getMessage());
      }
    });
  }

  /** After a failed load, waits for the next change of the files instead of warning every interval. */
  private void rememberFailed() {
    vertx.executeBlocking(() -> ServerTls.Stamp.of(files), false).onSuccess(s -> last = s);
  }
}
