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
 * Appends are group-committed: one writer thread writes whatever is queued and fsyncs once, then
 * completes every append of the batch, so an acknowledged event survives a crash and many
 * concurrent writes share one fsync. Readers (the delivery queues) only see what is durable. A line
 * torn by a crash is cut off when the journal is opened.
 *
 * <p>Segments are preallocated: a new segment is written full of zero bytes (and synced) before the
 * first event goes in, so an append overwrites blocks that already exist and its
 * {@code fdatasync} flushes only those data blocks, not the file system's metadata journal (which
 * every other fsync of the node's storage queues on). The end of the events in a segment is the first
 * zero byte (event lines are JSON text and never contain one); a segment is cut to its events' length
 * when the next one starts.
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

  /**
   * What a read returned: events in order, the position after them, and how many events between
   * the reader's position and the first entry were deleted before it read them (journal full).
   */
  public record Batch(List<Entry> entries, Position next, long skipped) {}

  private final Path dir;
  private final long segmentBytes;
  private final long maxBytes;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final Object lock = new Object();
  private volatile boolean closed;
  // guarded by lock
  private FileChannel current;
  private long currentSegment;
  private long currentSize;
  private long lastSeq;
  private Position durableEnd;
  private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  private record Pending(String json, CompletableFuture<Long> done) {}

  private EventJournal(Path dir, long segmentBytes, long maxBytes) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.maxBytes = maxBytes;
    this.writer = new Thread(this::writeLoop, "flotilla-event-journal");
    this.writer.setDaemon(true);
  }

  /** Opens (or creates) the journal in {@code dir}; blocking. */
  public static EventJournal open(Path dir, long segmentBytes, long maxBytes) throws IOException {
    EventJournal j = new EventJournal(dir, segmentBytes, maxBytes);
    j.recover();
    j.writer.start();
    return j;
  }

  /** Called (on the writer thread) after each durable batch; must not block. */
  public void onAppended(Runnable listener) {
    listeners.add(listener);
  }

  /** Appends one event; the future completes with its sequence number once it is on disk. */
  public CompletableFuture<Long> append(String json) {
    if (json.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("an event must be one line of JSON");
    }
    CompletableFuture<Long> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new IllegalStateException("event journal is closed"));
      return done;
    }
    queue.add(new Pending(json, done));
    return done;
  }

  /** The sequence number of the last durable event (0 when there is none). */
  public long lastSeq() {
    synchronized (lock) {
      return durableEnd.seq();
    }
  }

  /** The position after the last durable event: where a reader starts that wants only new events. */
  public Position end() {
    synchronized (lock) {
      return durableEnd;
    }
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
            out.add(new Entry(seq, line.substring(tab + 1)));
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
  }

  @Override
  public void close() {
    closed = true;
    writer.interrupt();
    try {
      writer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lock) {
      try {
        current.close();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "closing the event journal", e);
      }
    }
  }

  // ------------------------------------------------------------------ writing

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>();
    while (!closed) {
      try {
        Pending first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, 4096);
        writeBatch(batch);
      } catch (InterruptedException e) {
        break;
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, "event journal write failed", e);
        for (Pending p : batch) {
          p.done().completeExceptionally(e);
        }
      }
      batch.clear();
      for (Runnable r : listeners) {
        r.run();
      }
    }
    Pending p;
    while ((p = queue.poll()) != null) {
      p.done().completeExceptionally(new IllegalStateException("event journal is closed"));
    }
  }

  private void writeBatch(List<Pending> batch) throws IOException {
    long[] seqs = new long[batch.size()];
    synchronized (lock) {
      if (currentSize >= segmentBytes) {
        roll();
      }
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < batch.size(); i++) {
        seqs[i] = ++lastSeq;
        sb.append(seqs[i]).append('\t').append(batch.get(i).json()).append('\n');
      }
      ByteBuffer bytes = ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        current.write(bytes, currentSize + bytes.position());
      }
      currentSize += bytes.capacity();
      current.force(false);
      durableEnd = new Position(lastSeq, currentSegment, currentSize);
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).done().complete(seqs[i]);
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
    durableEnd = new Position(lastSeq, currentSegment, currentSize);
  }

  private long currentSegmentSafe() {
    synchronized (lock) {
      return currentSegment;
    }
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
