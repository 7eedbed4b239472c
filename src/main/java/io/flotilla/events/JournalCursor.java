package io.flotilla.events;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where one reader of the {@link EventJournal} stands (a webhook endpoint, the Kafka sink): moved
 * forward in memory after every delivered batch and saved to its file (atomic write) at most once
 * per {@link #SAVE_INTERVAL_MS} and when the reader stops, so delivering a batch costs no fsync of
 * its own (they would queue behind the storage's). After a crash the reader resumes at the last
 * saved position: up to an interval of events is delivered again (at least once; receivers
 * de-duplicate by event id), none is lost. Trimming the journal must use {@link #saved}, never
 * {@link #position}. Used on the reader's context.
 */
final class JournalCursor {
  /** Longest time a delivered position stays unsaved. */
  static final long SAVE_INTERVAL_MS = 1000;
  private static final System.Logger LOG = System.getLogger(JournalCursor.class.getName());

  private final Vertx vertx;
  private final Path file;
  private volatile EventJournal.Position position;
  private volatile EventJournal.Position saved;
  private long timer = -1;
  private boolean closed;

  private JournalCursor(Vertx vertx, Path file, EventJournal.Position position) {
    this.vertx = vertx;
    this.file = file;
    this.position = position;
    this.saved = position;
  }

  /** The saved position in {@code file}, or {@code ifMissing} (saved first); blocking. */
  static JournalCursor load(Vertx vertx, Path file, EventJournal.Position ifMissing) throws IOException {
    return new JournalCursor(vertx, file, EventJournal.Position.load(file, ifMissing));
  }

  /** Where the reader goes on from. */
  EventJournal.Position position() {
    return position;
  }

  /** The position a restart would resume at: everything before it may be trimmed. */
  EventJournal.Position saved() {
    return saved;
  }

  /** The reader delivered everything before {@code next}; saved within the interval. */
  void advance(EventJournal.Position next) {
    position = next;
    if (timer < 0 && !closed) {
      timer = vertx.setTimer(SAVE_INTERVAL_MS, t -> {
        timer = -1;
        save();
      });
    }
  }

  /** Saves now if the position moved, and stops saving; for a reader that stops. */
  Future<Void> close() {
    closed = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    return save();
  }

  /** Stops saving without saving (the reader and its files are being removed). */
  void discard() {
    closed = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private Future<Void> save() {
    EventJournal.Position p = position;
    if (p.equals(saved)) {
      return Future.succeededFuture();
    }
    // ordered: two saves of one file never run at once, and the newer one lands last
    return vertx.<Void>executeBlocking(() -> {
      p.save(file);
      return null;
    }, true).onSuccess(v -> {
      if (p.seq() >= saved.seq()) {
        saved = p;
      }
    }).onFailure(e -> LOG.log(System.Logger.Level.WARNING, "could not save the journal position in " + file, e));
  }
}
