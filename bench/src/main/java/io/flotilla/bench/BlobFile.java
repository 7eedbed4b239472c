package io.flotilla.bench;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * Large random blobs without holding them in memory.
 *
 * <p>One random file of {@code size - TAIL} bytes is written once to a temp dir. Blob number k is
 * that file followed by a 16-byte tail (a per-run nonce and k), so every blob has its own sha256
 * digest, and the digest costs only one pass over the file: the SHA-256 state after the common
 * prefix is cloned and finished with each tail.
 */
final class BlobFile implements AutoCloseable {

  static final int TAIL = 16;

  final long size;
  private final long prefixLen;
  private final Path path;
  private final FileChannel channel;
  private final MessageDigest prefixDigest;
  private final long nonce = new SecureRandom().nextLong();

  BlobFile(Path dir, long size) throws IOException {
    if (size <= TAIL) throw new IllegalArgumentException("blob size too small: " + size);
    this.size = size;
    this.prefixLen = size - TAIL;
    Files.createDirectories(dir);
    this.path = Files.createTempFile(dir, "flotilla-bench-blob-", ".bin");
    this.path.toFile().deleteOnExit();
    this.prefixDigest = sha256();
    SplittableRandom rnd = new SplittableRandom(System.nanoTime() ^ nonce);
    byte[] buf = new byte[1 << 20];
    ByteBuffer bb = ByteBuffer.wrap(buf);
    try (FileChannel out = FileChannel.open(path, StandardOpenOption.WRITE)) {
      long written = 0;
      while (written < prefixLen) {
        int n = (int) Math.min(buf.length, prefixLen - written);
        for (int i = 0; i + 8 <= buf.length; i += 8) bb.putLong(i, rnd.nextLong());
        prefixDigest.update(buf, 0, n);
        ByteBuffer w = ByteBuffer.wrap(buf, 0, n);
        while (w.hasRemaining()) out.write(w, written + w.position());
        written += n;
      }
      out.force(false);
    }
    this.channel = FileChannel.open(path, StandardOpenOption.READ);
  }

  /** Blob number k: content, size and digest. */
  Blob blob(int k) {
    byte[] tail = ByteBuffer.allocate(TAIL).putLong(nonce).putLong(k).array();
    MessageDigest md;
    try {
      md = (MessageDigest) prefixDigest.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
    md.update(tail);
    return new Blob(tail, "sha256:" + HexFormat.of().formatHex(md.digest()));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String digestOf(byte[] data) {
    return "sha256:" + HexFormat.of().formatHex(sha256().digest(data));
  }

  /** Wraps a byte[] without copying it. */
  static Buffer wrap(byte[] b) {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(b));
  }

  @Override
  public void close() throws IOException {
    channel.close();
    Files.deleteIfExists(path);
  }

  final class Blob {
    final byte[] tail;
    final String digest;

    Blob(byte[] tail, String digest) {
      this.tail = tail;
      this.digest = digest;
    }

    long size() {
      return size;
    }

    /** Up to max bytes at offset pos; never crosses the prefix/tail boundary. */
    Buffer read(long pos, int max) throws IOException {
      if (pos < prefixLen) {
        int n = (int) Math.min(max, prefixLen - pos);
        byte[] b = new byte[n];
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (bb.hasRemaining()) {
          int r = channel.read(bb, pos + bb.position());
          if (r < 0) throw new EOFException("blob file shorter than expected");
        }
        return wrap(b);
      }
      int off = (int) (pos - prefixLen);
      int n = Math.min(max, TAIL - off);
      byte[] b = new byte[n];
      System.arraycopy(tail, off, b, 0, n);
      return wrap(b);
    }
  }
}
