package io.flotilla.storage;

import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.RepositoryName;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One resumable blob upload: a data file that grows by appends, the acknowledged offset, and the
 * running SHA-256 of the bytes. File work runs on the session's write lane and hash work on its
 * hash lane, so writing and hashing a block proceed in parallel; each lane sees the blocks in
 * order. Only {@link #offset()} and the busy flag are read from other threads. After a restart
 * the hash is rebuilt lazily from the data file (the JDK cannot persist a hash state).
 */
public final class UploadSession {
  static final String DATA = "data";
  static final String STATE = "state.json";

  private final String id;
  private final RepositoryName repository;
  private final Path dir;
  private final SerialLane lane;
  private final SerialLane hashLane;
  private final boolean persistent;
  private final long createdMillis;
  private final AtomicBoolean busy = new AtomicBoolean();
  private volatile long offset;
  private volatile long lastActivityMillis;
  private FileChannel channel;
  private boolean broken;
  private boolean folderDurable;
  private MessageDigest sha256;

  UploadSession(String id, RepositoryName repository, Path dir, java.util.concurrent.Executor pool, boolean persistent,
      long offset, long createdMillis) {
    this.id = id;
    this.repository = repository;
    this.dir = dir;
    this.lane = new SerialLane(pool);
    this.hashLane = new SerialLane(pool);
    this.persistent = persistent;
    this.offset = offset;
    this.createdMillis = createdMillis;
    this.lastActivityMillis = System.currentTimeMillis();
  }

  public String id() {
    return id;
  }

  public RepositoryName repository() {
    return repository;
  }

  /** Bytes acknowledged so far. */
  public long offset() {
    return offset;
  }

  public long createdMillis() {
    return createdMillis;
  }

  public long lastActivityMillis() {
    return lastActivityMillis;
  }

  /** The lane of file work. */
  SerialLane lane() {
    return lane;
  }

  /** The lane of hash work. */
  SerialLane hashLane() {
    return hashLane;
  }

  Path dir() {
    return dir;
  }

  Path dataFile() {
    return dir.resolve(DATA);
  }

  boolean persistent() {
    return persistent;
  }

  /** Claims the session for one request; false if another request is writing to it. */
  boolean tryAcquire() {
    return busy.compareAndSet(false, true);
  }

  void release() {
    lastActivityMillis = System.currentTimeMillis();
    busy.set(false);
  }

  // ---- write lane ----

  /** Opens the data file for appending, cut back to the acknowledged offset. */
  void prepareFile() throws IOException {
    if (channel == null) {
      channel = FileChannel.open(dataFile(), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      if (channel.size() != offset) {
        channel.truncate(offset);
      }
      channel.position(offset);
    }
  }

  /** Appends bytes; after a failure the session refuses to acknowledge until rolled back. */
  void write(ByteBuffer bytes) throws IOException {
    if (broken) {
      return;
    }
    try {
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
    } catch (IOException | RuntimeException e) {
      broken = true;
      throw e;
    }
  }

  /**
   * Makes everything written so far durable and acknowledges it. {@code recordOffset} is false when
   * the session is about to be committed, so the state file it would update is about to go anyway.
   */
  void acknowledge(boolean recordOffset) throws IOException {
    if (broken) {
      throw new IOException("a write to the upload failed");
    }
    channel.force(false);
    offset = channel.position();
    lastActivityMillis = System.currentTimeMillis();
    if (persistent && recordOffset) {
      writeState(true);
      if (!folderDurable) {
        // The session folder was created without a sync (most sessions end in a commit to blobs/
        // and never need it); the first durable acknowledgement makes its entry durable.
        Fs.fsyncDir(dir.getParent());
        folderDurable = true;
      }
    }
  }

  /** Drops everything written since the last acknowledgement (a failed or aborted request). */
  void rollbackFile() throws IOException {
    broken = false;
    if (channel != null && channel.position() != offset) {
      channel.truncate(offset);
      channel.position(offset);
    }
  }

  // ---- hash lane ----

  /**
   * Makes sure the running hash exists, rebuilding it from the first {@code acknowledged} bytes of
   * the file if needed. The caller passes the offset it saw before streaming began: the write lane
   * may already have moved {@link #offset()} on by the time this runs.
   */
  void prepareHash(long acknowledged) throws IOException {
    if (sha256 == null) {
      sha256 = rehash(DigestAlgorithm.SHA256, acknowledged);
    }
  }

  void hash(ByteBuffer bytes) {
    sha256.update(bytes);
  }

  /** Forgets the running hash after a rollback; the next use rebuilds it from the file. */
  void resetHash() {
    sha256 = null;
  }

  /** Current hash state, cloned; the session's own hash keeps running. */
  MessageDigest sha256Snapshot() throws IOException {
    prepareHash(offset);
    try {
      return (MessageDigest) sha256.clone();
    } catch (CloneNotSupportedException e) {
      return rehash(DigestAlgorithm.SHA256, offset);
    }
  }

  /** Hashes the first {@code length} bytes of the data file with any algorithm. */
  MessageDigest rehash(DigestAlgorithm algorithm, long length) throws IOException {
    MessageDigest md = algorithm.newHasher();
    Path data = dataFile();
    if (length == 0 || !Files.exists(data)) {
      return md;
    }
    try (FileChannel in = FileChannel.open(data, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
      long remaining = length;
      while (remaining > 0) {
        buf.clear();
        if (remaining < buf.capacity()) {
          buf.limit((int) remaining);
        }
        int n = in.read(buf);
        if (n < 0) {
          throw new IOException("upload data shorter than its acknowledged offset");
        }
        buf.flip();
        md.update(buf);
        remaining -= n;
      }
    }
    return md;
  }

  /**
   * Records the session and its acknowledged offset, atomically. {@code durable} adds the fsyncs;
   * a new, empty session skips them: it survives a process crash (the page cache does) and after a
   * power loss the client gets BLOB_UPLOAD_UNKNOWN and starts over, having sent nothing yet.
   */
  void writeState(boolean durable) {
    String json = "{\"repository\":\"" + repository.value() + "\",\"offset\":" + offset
        + ",\"created\":" + createdMillis + "}";
    byte[] bytes = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (durable) {
      Fs.writeAtomic(dir.resolve(STATE), bytes);
    } else {
      Fs.writeAtomicNoSync(dir.resolve(STATE), bytes);
    }
  }

  void close() {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing a file we are about to move or delete
      }
      channel = null;
    }
  }
}
