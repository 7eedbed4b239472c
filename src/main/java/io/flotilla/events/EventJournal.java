package io.flotilla.events;

import io.flotilla.storage.Fs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The node's durable event log: every event this node emits, in order, each with a sequence number,
 * in append-only segment files ({@code <first seq>.log}, one {@code seq TAB json} line per event).
 * Callers hand over a small value that renders its JSON line ({@link #append(EventLine, Durability)}):
 * the JSON is built on the journal's writer thread, never on the caller's. Appends are
 * group-committed: the writer thread writes whatever is queued, and one fsync covers every event
 * written since the last one, so many concurrent writes share one fsync. An append with
 * {@link Durability#SYNC} completes only after the fsync that covers it (and makes the writer sync at
 * once); appends with {@link Durability#WINDOW} (pulls) neither wake the writer nor cause an fsync of
 * their own: they are synced by the next one, and at the latest about {@code window} after they were
 * appended (the writer takes them within half a window and syncs them within another half; later only
 * if the disk itself is slower), so a crash loses at most that window of them. A clean {@link #close}
 * syncs them. Readers (the delivery queues) only see what is durable. A line torn by a
 * crash is cut off when the journal is opened.
 *
 * <p>Segments are preallocated: a new segment is written full of zero bytes (and synced) before the
 * first event goes in, so an append overwrites blocks that already exist and its
 * {@code fdatasync} flushes only those data blocks, not the file system's metadata journal (which
 * every other fsync of the node's storage queues on). The end of the events in a segment is the first
 * zero byte (event lines are JSON text and never contain one); a segment is cut to its events' length
 * when the next one starts.
 *
 * <p>Every event is appended after its operation is durable. Journals left by earlier versions,
 * which wrote push events ahead of their operations, may hold events of operations that never
 * completed: those versions listed aborted events in {@code aborted} (readers skip them until their
 * segments are trimmed) and saved the readable end in {@code visible}; when such a journal is opened,
 * the events after that end are checked once against storage by a {@link Verifier}, the ones whose
 * operation did not happen are added to {@code aborted}, and {@code visible} is deleted.
 *
 * <p>Retention: segments every reader has passed are deleted ({@link #trimBefore}); when the journal
 * grows past its size limit the oldest segments are deleted anyway and the readers that had not
 * consumed them learn the lost range from {@link #read} (never silently: see {@link Batch#skipped}).
 */
public final class EventJournal implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(EventJournal.class.getName());

  /** Where a reader stands: after event {@code seq}, continuing at {@code offset} of segment {@code segment}. */
  public record Position(long seq, long segment, long offset) {
    public static final Position START = new Position(0, 1, 0);

    /**
     * A reader's saved position, or {@code ifMissing} (saved first) when it has none; blocking.
     * Readers save after every batch they delivered, so a restart resumes there.
     */
    public static Position load(Path file, Position ifMissing) throws IOException {
      if (!Files.exists(file)) {
        ifMissing.save(file);
        return ifMissing;
      }
      String[] p = Files.readString(file).trim().split(" ");
      return new Position(Long.parseLong(p[0]), Long.parseLong(p[1]), Long.parseLong(p[2]));
    }

    /** Saves this position atomically (temp file, fsync, rename); blocking. */
    public void save(Path file) {
      Fs.writeAtomic(file, (seq + " " + segment + " " + offset).getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** One event read back. */
  public record Entry(long seq, String json) {}

  /** When an append's future completes, and what a crash may lose. */
  public enum Durability {
    /** Synced at once (sharing the fsync with whatever else is queued): nothing acknowledged is lost. */
    SYNC,
    /** Synced by the next fsync, at the latest about the journal's window after the append: a crash loses at most that window. */
    WINDOW
  }

  /**
   * Told, in journal order and under the journal's lock, about events as they become readable;
   * must only queue them (no blocking, no I/O).
   */
  @FunctionalInterface
  public interface VisibleTap {
    void visible(List<Entry> entries);

    /**
     * Whether entries are wanted at all now; when not, the writer does not keep events' JSON until
     * their sync (events written meanwhile are not shown to the tap even if it wants them by then).
     */
    default boolean wanted() {
      return true;
    }
  }

  /** How often the writer takes queued {@link Durability#WINDOW} events while there are any (it writes them, the sync waits for the window). */
  private static final long DRAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /** How long events appended with {@link Durability#WINDOW} may stay unsynced by default. */
  public static final long DEFAULT_WINDOW_MILLIS = 200;

  /**
   * What a read returned: events in order, the position after them, and how many events between
   * the reader's position and the first entry were deleted before it read them (journal full).
   */
  public record Batch(List<Entry> entries, Position next, long skipped) {}

  private final Path dir;
  private final long segmentBytes;
  private final long maxBytes;
  private final long windowNanos;
  // events appended with SYNC (and close's WAKE_UP): each wakes the writer
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  // events appended with WINDOW: they do not wake the writer, which takes them at least every half window
  private final java.util.concurrent.ConcurrentLinkedQueue<Pending> windowQueue =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final Object enqueueLock = new Object();
  private final Thread writer;
  private final java.util.concurrent.atomic.AtomicLong syncs = new java.util.concurrent.atomic.AtomicLong();
  private volatile VisibleTap tap;
  private final Object lock = new Object();
  private volatile boolean closed;
  // the writer thread's (and, while it does not run, the opener's and closer's): no lock is held for I/O
  private FileChannel current;
  private volatile long currentSegment;
  private long currentSize;
  private long lastSeq;
  // guarded by lock: what readers see (every synced event)
  private Position visibleEnd;
  // read without the lock
  private final java.util.Set<Long> aborted = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final Verifier verifier;

  /**
   * An event's JSON line, made on the writer thread: as a string (kept for the tap) or written as
   * UTF-8 straight into the batch (the usual case: no string is made). Neither may contain a line break.
   */
  public interface EventLine {
    String json();

    default void writeJson(java.io.OutputStream out) throws IOException {
      out.write(json().getBytes(StandardCharsets.UTF_8));
    }
  }

  private record Pending(EventLine line, Durability durability, CompletableFuture<Long> done) {}

  /**
   * The shared, already completed future of events appended with {@link #appendUnobserved}: completing
   * it again does nothing, so such an event costs no future of its own.
   */
  private static final CompletableFuture<Long> UNOBSERVED = CompletableFuture.completedFuture(-1L);

  /** Events appended with {@link #appendUnobserved} that could not be written (since opened). */
  private final java.util.concurrent.atomic.AtomicLong lostUnobserved = new java.util.concurrent.atomic.AtomicLong();

  private void fail(Pending p, Throwable e) {
    if (p.done() == UNOBSERVED) {
      long lost = lostUnobserved.incrementAndGet();
      if (Long.bitCount(lost) == 1) { // the 1st, 2nd, 4th, 8th ... loss: logged, not flooded
        LOG.log(System.Logger.Level.WARNING, lost + " unobserved (pull) event(s) not journaled since start: " + e);
      }
    } else {
      p.done().completeExceptionally(e);
    }
  }

  /** An event written but not synced yet; {@code json} kept for the {@link VisibleTap} (null when it wanted none). */
  private record Written(Pending pending, long seq, String json) {}

  /** Stands in {@code unsynced} for a run of written unobserved events that the tap does not want. */
  private static final Written UNOBSERVED_WRITTEN = new Written(new Pending(() -> "", Durability.WINDOW, UNOBSERVED), -1, null);

  /** The writer's reusable batch buffer: lines are encoded into it and written from it without a copy. */
  private static final class LineBuffer extends java.io.ByteArrayOutputStream {
    LineBuffer() {
      super(64 * 1024);
    }

    void writeDecimal(long v) {
      String s = Long.toString(v);
      for (int i = 0; i < s.length(); i++) {
        write(s.charAt(i));
      }
    }

    ByteBuffer view() {
      return ByteBuffer.wrap(buf, 0, count);
    }

    /** Drops what was written from {@code mark} on (an event that failed to render). */
    void truncate(int mark) {
      count = mark;
    }

    /** Refuses a line break written from {@code mark} on: an event is one line. */
    void checkLineFrom(int mark) {
      for (int i = mark; i < count; i++) {
        if (buf[i] == '\n') {
          throw new IllegalArgumentException("an event must be one line of JSON");
        }
      }
    }

    /** Empties the buffer, and lets go of a very large one (a batch of huge events). */
    LineBuffer recycled() {
      if (buf.length > 4 << 20) {
        return new LineBuffer();
      }
      reset();
      return this;
    }
  }

  private LineBuffer lines = new LineBuffer();

  /** Written by the writer's close, to wake it up. */
  private static final Pending WAKE_UP = new Pending(() -> "", Durability.WINDOW, new CompletableFuture<>());

  /**
   * Decides, when a journal left by an earlier version (which wrote push events ahead of their
   * operations) is opened after a crash, whether an event's operation did happen (is durable in storage).
   */
  @FunctionalInterface
  public interface Verifier {
    /** Every event is taken as done (for journals without write-ahead events). */
    Verifier ALL_DONE = (json, later) -> true;

    /**
     * @param json the event
     * @param later the events written after it (a later delete can explain why a pushed thing is gone)
     */
    boolean happened(String json, List<String> later);
  }

  private EventJournal(Path dir, long segmentBytes, long maxBytes, long windowMillis, Verifier verifier) {
    this.dir = dir;
    this.windowNanos = TimeUnit.MILLISECONDS.toNanos(windowMillis);
    this.segmentBytes = segmentBytes;
    this.maxBytes = maxBytes;
    this.verifier = verifier;
    this.writer = new Thread(this::writeLoop, "flotilla-event-journal");
    this.writer.setDaemon(true);
  }

  /** Opens (or creates) the journal in {@code dir}, taking every event as done; blocking. */
  public static EventJournal open(Path dir, long segmentBytes, long maxBytes) throws IOException {
    return open(dir, segmentBytes, maxBytes, Verifier.ALL_DONE);
  }

  /**
   * Opens (or creates) the journal in {@code dir}; events an earlier version may have written ahead
   * of an operation that never became durable (a crash) are checked with {@code verifier}; blocking.
   */
  public static EventJournal open(Path dir, long segmentBytes, long maxBytes, Verifier verifier) throws IOException {
    return open(dir, segmentBytes, maxBytes, DEFAULT_WINDOW_MILLIS, verifier);
  }

  /**
   * As {@link #open(Path, long, long, Verifier)}, with events appended as {@link Durability#WINDOW}
   * synced at the latest about {@code windowMillis} after they were appended.
   */
  public static EventJournal open(Path dir, long segmentBytes, long maxBytes, long windowMillis, Verifier verifier)
      throws IOException {
    EventJournal j = new EventJournal(dir, segmentBytes, maxBytes, windowMillis, verifier);
    j.recover();
    j.verifyTail();
    j.writer.start();
    return j;
  }

  /** Called after events became readable (on the writer thread, after each sync); must not block. */
  public void onAppended(Runnable listener) {
    listeners.add(listener);
  }

  /**
   * Tells {@code tap} about every event that becomes readable from now on (one tap per journal: the
   * cluster publisher's).
   */
  public void tapVisible(VisibleTap tap) {
    this.tap = tap;
  }

  /** Appends one event and syncs it; the future completes with its sequence number once it is on disk. */
  public CompletableFuture<Long> append(String json) {
    checkLine(json);
    return enqueue(() -> json, Durability.SYNC);
  }

  /**
   * Appends one event whose JSON line {@code json} renders on the writer thread (it must not contain a
   * line break); the future completes with its sequence number once it is on disk: at once for
   * {@link Durability#SYNC}, within the window for {@link Durability#WINDOW}.
   */
  public CompletableFuture<Long> append(EventLine json, Durability durability) {
    return enqueue(json, durability);
  }

  /**
   * Appends an event with {@link Durability#WINDOW} that nobody waits for (a pull's): no future is
   * made for it; if it cannot be written it is counted in {@link #lostUnobserved()} and the failure logged.
   */
  public void appendUnobserved(EventLine line) {
    synchronized (enqueueLock) {
      if (closed) {
        lostUnobserved.incrementAndGet();
        return;
      }
      windowQueue.add(new Pending(line, Durability.WINDOW, UNOBSERVED));
    }
  }

  /** Events appended with {@link #appendUnobserved} that were lost (not written) since the journal was opened. */
  public long lostUnobserved() {
    return lostUnobserved.get();
  }

  /** How many times the writer synced the journal since it was opened (group commit: many events per sync). */
  public long syncCount() {
    return syncs.get();
  }

  private static void checkLine(String json) {
    if (json.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("an event must be one line of JSON");
    }
  }

  private CompletableFuture<Long> enqueue(EventLine json, Durability durability) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    synchronized (enqueueLock) { // against close(): nothing is queued after the writer's last drain
      if (closed) {
        done.completeExceptionally(new IllegalStateException("event journal is closed"));
        return done;
      }
      (durability == Durability.SYNC ? queue : windowQueue).add(new Pending(json, durability, done));
    }
    return done;
  }

  /** Records an aborted event durably (one line in {@code aborted}): only when checking an earlier version's journal. */
  private void saveAborted(long seq) {
    synchronized (aborted) {
      try (FileChannel ch = FileChannel.open(dir.resolve("aborted"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        ch.write(ByteBuffer.wrap((seq + "\n").getBytes(StandardCharsets.US_ASCII)));
        ch.force(false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      aborted.add(seq);
    }
  }

  /** The sequence number of the last readable event (0 when there is none). */
  public long lastSeq() {
    synchronized (lock) {
      return visibleEnd.seq();
    }
  }

  /** The position after the last readable event: where a reader starts that wants only new events. */
  public Position end() {
    synchronized (lock) {
      return visibleEnd;
    }
  }

  /** How many aborted events (of earlier versions' journals) readers are told to skip (for tests). */
  int abortedCount() {
    return aborted.size();
  }

  /** Total bytes of the segment files. */
  public long sizeBytes() {
    long total = 0;
    for (long s : segments()) {
      try {
        total += Files.size(segmentFile(s));
      } catch (IOException e) {
        // deleted meanwhile
      }
    }
    return total;
  }

  /** Reads up to {@code max} durable events after {@code from}; blocking (call on a worker). */
  public Batch read(Position from, int max) throws IOException {
    Position end = end();
    List<Long> segs = segments();
    long skipped = 0;
    Position at = from;
    if (!segs.isEmpty() && at.segment() < segs.get(0)) {
      long first = segs.get(0);
      skipped = Math.max(0, first - 1 - at.seq());
      at = new Position(first - 1, first, 0);
    }
    List<Entry> out = new ArrayList<>();
    while (out.size() < max && at.seq() < end.seq()) {
      Path file = segmentFile(at.segment());
      if (!Files.exists(file)) {
        break;
      }
      long limit = at.segment() == end.segment() ? end.offset() : Files.size(file);
      if (at.offset() >= limit) {
        long next = nextSegment(segs, at.segment());
        if (next < 0) {
          break;
        }
        at = new Position(at.seq(), next, 0);
        continue;
      }
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        int toRead = (int) Math.min(limit - at.offset(), 4L * 1024 * 1024);
        ByteBuffer buf = ByteBuffer.allocate(toRead);
        ch.read(buf, at.offset());
        byte[] bytes = buf.array();
        int lineStart = 0;
        long offset = at.offset();
        long seq = at.seq();
        for (int i = 0; i < buf.position() && out.size() < max; i++) {
          if (bytes[i] == '\n') {
            String line = new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8);
            int tab = line.indexOf('\t');
            seq = Long.parseLong(line.substring(0, tab));
            if (!aborted.contains(seq)) {
              out.add(new Entry(seq, line.substring(tab + 1)));
            }
            offset = at.offset() + i + 1;
            lineStart = i + 1;
          }
        }
        if (offset == at.offset()) {
          throw new IOException("event journal line longer than 4 MiB in " + file);
        }
        at = new Position(seq, at.segment(), offset);
      }
    }
    return new Batch(out, at, skipped);
  }

  /** Deletes segments that lie wholly before {@code position} (every reader is past them). */
  public void trimBefore(Position position) {
    for (long s : segments()) {
      if (s < position.segment() && s != currentSegmentSafe()) {
        Fs.deleteDurably(segmentFile(s));
      }
    }
    forgetTrimmedAborts();
  }

  /**
   * Forgets the aborts of events whose segments are gone (no reader can meet them again), in
   * memory and in the {@code aborted} file (rewritten atomically), so neither grows without bound.
   */
  private void forgetTrimmedAborts() {
    List<Long> segs = segments();
    if (segs.isEmpty()) {
      return;
    }
    long first = segs.get(0);
    synchronized (aborted) {
      if (!aborted.removeIf(seq -> seq < first)) {
        return;
      }
      StringBuilder kept = new StringBuilder();
      aborted.stream().sorted().forEach(seq -> kept.append(seq).append('\n'));
      Fs.writeAtomic(dir.resolve("aborted"), kept.toString().getBytes(StandardCharsets.US_ASCII));
    }
  }

  /** Stops the writer after it wrote and synced everything queued (pull events included), then closes the segment; blocking. */
  @Override
  public void close() {
    synchronized (enqueueLock) {
      closed = true;
      queue.add(WAKE_UP);
    }
    try {
      writer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      current.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "closing the event journal", e);
    }
  }

  // ------------------------------------------------------------------ writing

  /**
   * The writer: waits for a {@link Durability#SYNC} event (which wakes it) or half a window, takes
   * every queued event of both kinds, writes them, and syncs when one of them must be synced now or
   * the oldest written event has waited half a window. A {@link Durability#WINDOW} event is so taken
   * within half a window of its append and synced within half a window of being written.
   */
  private void writeLoop() {
    long halfWindow = Math.max(1, windowNanos / 2);
    List<Pending> batch = new ArrayList<>();
    List<Written> unsynced = new ArrayList<>();
    long oldestUnsynced = 0; // System.nanoTime() when the first event of unsynced was written
    boolean urgent = false; // unsynced holds an event appended with SYNC
    boolean stopping = false;
    while (!stopping) {
      try {
        long wait = unsynced.isEmpty() ? halfWindow : Math.max(0, oldestUnsynced + halfWindow - System.nanoTime());
        if (!windowQueue.isEmpty()) {
          // queued window events are written (not synced) every few milliseconds: held as objects for a
          // whole half window, a stream of pulls kept megabytes alive across every young collection
          wait = Math.min(wait, DRAIN_NANOS);
        }
        Pending first = queue.poll(wait, TimeUnit.NANOSECONDS);
        // read before draining: close() sets it under enqueueLock after the last append, so the drains see everything
        boolean closing = closed;
        Pending lazy;
        while ((lazy = windowQueue.poll()) != null) { // the window's events first: most of them are older
          batch.add(lazy);
        }
        if (first != null) {
          batch.add(first);
        }
        queue.drainTo(batch, 4096);
        batch.remove(WAKE_UP);
        stopping = closing && queue.isEmpty(); // the last round: close() appends nothing after WAKE_UP
        if (!batch.isEmpty()) {
          if (unsynced.isEmpty()) {
            oldestUnsynced = System.nanoTime();
          }
          for (Pending b : batch) {
            urgent |= b.durability() == Durability.SYNC;
          }
          write(batch, unsynced);
        }
        if (!unsynced.isEmpty() && (urgent || stopping || System.nanoTime() - oldestUnsynced >= halfWindow)) {
          sync(unsynced);
          urgent = false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopping = true;
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "event journal write failed", e);
        for (Pending p : batch) {
          fail(p, e);
        }
        for (Written w : unsynced) {
          fail(w.pending(), e);
        }
        unsynced.clear();
        urgent = false;
      }
      batch.clear();
    }
    Pending p;
    while ((p = queue.poll()) != null || (p = windowQueue.poll()) != null) {
      fail(p, new IllegalStateException("event journal is closed"));
    }
  }

  /**
   * Renders and writes a batch after the events already written (no sync); the written events join
   * {@code unsynced}. An event whose JSON cannot be rendered fails alone.
   */
  private void write(List<Pending> batch, List<Written> unsynced) throws IOException {
    if (currentSize >= segmentBytes) {
      roll(); // syncs the closed segment: what was unsynced in it is durable, its positions stay valid
    }
    LineBuffer out = lines = lines.recycled();
    VisibleTap t = tap;
    boolean keepJson = t != null && t.wanted();
    List<Written> written = new ArrayList<>(Math.min(batch.size(), 256));
    int count = 0;
    for (Pending p : batch) {
      long seq = lastSeq + count + 1;
      int mark = out.size();
      String json = null;
      try {
        out.writeDecimal(seq);
        out.write('\t');
        if (keepJson) {
          json = p.line().json();
          checkLine(json);
          out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        } else {
          p.line().writeJson(out);
          out.checkLineFrom(mark);
        }
        out.write('\n');
      } catch (IOException | RuntimeException e) {
        out.truncate(mark);
        fail(p, e);
        continue;
      }
      count++;
      if (json != null || p.done() != UNOBSERVED) {
        written.add(new Written(p, seq, json));
      } else if (written.isEmpty() || written.get(written.size() - 1) != UNOBSERVED_WRITTEN) {
        // nothing to complete or show for it: one marker stands for a run of them, and the event's
        // objects are garbage at once instead of living until the sync
        written.add(UNOBSERVED_WRITTEN);
      }
    }
    ByteBuffer bytes = out.view();
    int length = bytes.remaining();
    while (bytes.hasRemaining()) {
      current.write(bytes, currentSize + bytes.position());
    }
    // written without the lock: readers (on event loops) never wait for I/O
    lastSeq += count;
    currentSize += length;
    unsynced.addAll(written);
  }

  /** One fsync for every event written since the last: they become durable and readable, their appends complete. */
  private void sync(List<Written> unsynced) throws IOException {
    current.force(false);
    syncs.incrementAndGet();
    VisibleTap t = tap;
    synchronized (lock) {
      visibleEnd = new Position(lastSeq, currentSegment, currentSize);
      if (t != null) { // under the lock: the tap sees batches in journal order
        List<Entry> shown = new ArrayList<>(unsynced.size());
        for (Written w : unsynced) {
          if (w.json() != null) {
            shown.add(new Entry(w.seq(), w.json()));
          }
        }
        if (!shown.isEmpty()) {
          t.visible(shown);
        }
      }
    }
    for (Written w : unsynced) {
      w.pending().done().complete(w.seq());
    }
    unsynced.clear();
    for (Runnable r : listeners) {
      r.run();
    }
  }

  private void roll() throws IOException {
    current.truncate(currentSize); // closed segments end exactly after their last event
    current.force(true);
    current.close();
    currentSegment = lastSeq + 1;
    current = createSegment(segmentFile(currentSegment));
    currentSize = 0;
    enforceLimit();
  }

  /** A new segment, preallocated with zeros and synced (data and directory entry). */
  private FileChannel createSegment(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    zeroFill(ch, 0, segmentBytes);
    Fs.fsyncDir(dir);
    return ch;
  }

  /** Writes zeros over [from, to) and syncs the file, so later appends there overwrite allocated blocks. */
  private static void zeroFill(FileChannel ch, long from, long to) throws IOException {
    ByteBuffer zeros = ByteBuffer.allocate(1024 * 1024);
    for (long at = from; at < to; ) {
      zeros.clear().limit((int) Math.min(zeros.capacity(), to - at));
      while (zeros.hasRemaining()) {
        at += ch.write(zeros, at);
      }
    }
    ch.force(true);
  }

  /** Deletes the oldest closed segments while the journal is over its size limit. */
  private void enforceLimit() {
    List<Long> segs = segments();
    long total = sizeBytes();
    for (int i = 0; i < segs.size() - 1 && total > maxBytes; i++) {
      Path f = segmentFile(segs.get(i));
      try {
        long size = Files.size(f);
        Fs.deleteDurably(f);
        total -= size;
        LOG.log(System.Logger.Level.WARNING, "event journal over " + maxBytes + " bytes: deleted segment " + f
            + "; endpoints that had not delivered it record the lost events");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    // their aborts are forgotten by the next trimBefore, not here: a reader may be inside one of them
  }

  // ------------------------------------------------------------------ recovery

  private void recover() throws IOException {
    Files.createDirectories(dir);
    List<Long> segs = segments();
    if (segs.isEmpty()) {
      currentSegment = 1;
      current = createSegment(segmentFile(1));
      currentSize = 0;
      lastSeq = 0;
    } else {
      currentSegment = segs.get(segs.size() - 1);
      Path file = segmentFile(currentSegment);
      byte[] bytes = Files.readAllBytes(file);
      int written = 0;
      while (written < bytes.length && bytes[written] != 0) {
        written++; // the events end at the preallocated zeros
      }
      int end = written;
      while (end > 0 && bytes[end - 1] != '\n') {
        end--; // a line torn by a crash: never acknowledged, cut it
      }
      lastSeq = currentSegment - 1;
      int lineStart = 0;
      for (int i = 0; i < end; i++) {
        if (bytes[i] == '\n') {
          String line = new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8);
          lastSeq = Long.parseLong(line.substring(0, line.indexOf('\t')));
          lineStart = i + 1;
        }
      }
      current = FileChannel.open(file, StandardOpenOption.WRITE);
      int dirty = end;
      while (dirty < bytes.length && bytes[dirty] != 0) {
        dirty++;
      }
      // zero the torn line's bytes, so a shorter append after it cannot leave a fragment behind,
      // and make sure the segment is preallocated to its full length (segments of older versions were not)
      if (dirty > end || bytes.length < segmentBytes) {
        zeroFill(current, end, Math.max(dirty, Math.max(bytes.length, segmentBytes)));
      }
      currentSize = end;
    }
    visibleEnd = new Position(lastSeq, currentSegment, currentSize);
  }

  /**
   * Journals of earlier versions: loads their aborted events (readers skip them), and, if such a
   * version saved a readable end ({@code visible}), checks every event after it with the verifier
   * (it may have been written ahead of an operation that a crash cut short), records the ones that
   * did not happen as aborted, and deletes {@code visible}: from then on every event on disk stands.
   * Blocking; runs before the writer starts.
   */
  private void verifyTail() throws IOException {
    Path abortedFile = dir.resolve("aborted");
    if (Files.exists(abortedFile)) {
      for (String line : Files.readAllLines(abortedFile, StandardCharsets.US_ASCII)) {
        if (!line.isBlank()) {
          aborted.add(Long.parseLong(line.trim()));
        }
      }
      forgetTrimmedAborts();
    }
    Path visibleFile = dir.resolve("visible");
    if (!Files.exists(visibleFile)) {
      return;
    }
    Position end = end();
    Position from = Position.load(visibleFile, end);
    if (from.seq() < end.seq()) {
      List<Entry> tail = read(from, Integer.MAX_VALUE).entries();
      int dropped = 0;
      for (int i = 0; i < tail.size(); i++) {
        List<String> later = tail.subList(i + 1, tail.size()).stream().map(Entry::json).toList();
        if (!verifier.happened(tail.get(i).json(), later)) {
          saveAborted(tail.get(i).seq());
          dropped++;
        }
      }
      LOG.log(System.Logger.Level.INFO, "event journal of an earlier version: checked " + tail.size() + " events "
          + "written after its last saved readable end, " + dropped + " of operations that did not complete were dropped");
    }
    Fs.deleteDurably(visibleFile);
  }

  private long currentSegmentSafe() {
    return currentSegment;
  }

  private static long nextSegment(List<Long> segs, long segment) {
    for (long s : segs) {
      if (s > segment) {
        return s;
      }
    }
    return -1;
  }

  private List<Long> segments() {
    List<Long> out = new ArrayList<>();
    try (var files = Files.list(dir)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log"))
          .forEach(n -> out.add(Long.parseLong(n.substring(0, n.length() - 4))));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.sort(null);
    return out;
  }

  private Path segmentFile(long firstSeq) {
    return dir.resolve(String.format("%020d.log", firstSeq));
  }
}
