package io.flotilla.scan;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The input streams a layer scan is built from: counting, bounding, and telling source failures apart. */
final class Streams {
  private Streams() {}

  /** A layer-wide limit was reached while reading; unwrapped into a {@link ScanException}. */
  static final class LimitExceeded extends IOException {
    private static final long serialVersionUID = 1L;
    final ScanException.Reason reason;

    LimitExceeded(ScanException.Reason reason, String message) {
      super(message);
      this.reason = reason;
    }
  }

  /** A per-file bound was reached: the analyzer's file is skipped, the layer goes on. */
  static final class FileTooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    FileTooLarge(long limit) {
      super("larger than " + limit + " bytes");
    }
  }

  /**
   * Counts the bytes that pass (read or skipped) and fails with {@link LimitExceeded} past a limit.
   * Remembers an exception of the underlying stream, so that a failing source can be told from bad data.
   */
  static final class Counting extends FilterInputStream {
    private final long limit;
    private long count;
    private byte[] skipBuffer;
    private IOException failure;
    private boolean ended;

    Counting(InputStream in, long limit) {
      super(in);
      this.limit = limit;
    }

    long count() {
      return count;
    }

    /** The exception the underlying stream threw, if any. */
    IOException failure() {
      return failure;
    }

    /** Whether the underlying stream has reported its end. */
    boolean ended() {
      return ended;
    }

    private void add(long n) throws LimitExceeded {
      if (n > 0) {
        count += n;
        if (count > limit) {
          throw new LimitExceeded(ScanException.Reason.TOO_LARGE, "more than " + limit + " uncompressed bytes");
        }
      }
    }

    @Override
    public int read() throws IOException {
      int b;
      try {
        b = in.read();
      } catch (IOException e) {
        failure = e;
        throw e;
      }
      if (b >= 0) {
        add(1);
      } else {
        ended = true;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n;
      try {
        n = in.read(b, off, len);
      } catch (IOException e) {
        failure = e;
        throw e;
      }
      if (n < 0) {
        ended = true;
      }
      add(n);
      return n;
    }

    /** Skips by reading in large blocks (a decompressor's own skip inflates 512 bytes at a time). */
    @Override
    public long skip(long n) throws IOException {
      if (n <= 0) {
        return 0;
      }
      if (skipBuffer == null) {
        skipBuffer = new byte[64 * 1024];
      }
      long left = n;
      while (left > 0) {
        int r = read(skipBuffer, 0, (int) Math.min(skipBuffer.length, left));
        if (r < 0) {
          break;
        }
        left -= r;
      }
      return n - left;
    }

    /** Reads to the end of the stream (bounded by the limit), returning the bytes read. */
    long drain() throws IOException {
      long before = count;
      while (skip(Long.MAX_VALUE) > 0) {
        // skip reads until the end
      }
      return count - before;
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    @Override
    public void close() {
      // the caller owns the source
    }
  }

  /**
   * Reads at most {@code limit} bytes of a file and throws {@link FileTooLarge} on an attempt to read
   * more, so an analyzer never sees a silently cut file. Records any failure of the underlying stream,
   * so that the reader can tell a broken layer (rethrown) from a broken file (noted and skipped).
   */
  static final class Bounded extends InputStream {
    private final InputStream in;
    private final long limit;
    private long remaining;
    private IOException sourceFailure;

    Bounded(InputStream in, long limit) {
      this.in = in;
      this.limit = limit;
      this.remaining = limit;
    }

    /** The exception the underlying stream threw, if any. */
    IOException sourceFailure() {
      return sourceFailure;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (remaining <= 0) {
        int probe = source(() -> in.read());
        if (probe < 0) {
          return -1;
        }
        throw new FileTooLarge(limit);
      }
      int n = source(() -> in.read(b, off, (int) Math.min(len, remaining)));
      if (n > 0) {
        remaining -= n;
      }
      return n;
    }

    @Override
    public void close() {
      // the tar stream moves on to the next entry by itself
    }

    private interface Read {
      int run() throws IOException;
    }

    private int source(Read r) throws IOException {
      try {
        return r.run();
      } catch (IOException e) {
        if (!(e instanceof FileTooLarge)) {
          sourceFailure = e;
        }
        throw e;
      }
    }
  }

  /**
   * Reads lines of UTF-8 text (LF or CRLF) with a bound on the line length: longer lines are cut, so
   * one line without a newline cannot take memory beyond the bound. Malformed UTF-8 is replaced.
   */
  static final class Lines {
    private final InputStream in;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int end;
    private final byte[] line;
    private boolean eof;

    Lines(InputStream in, int maxLine) {
      this.in = in;
      this.line = new byte[maxLine];
    }

    /** The next line without its terminator, or {@code null} at the end. */
    String next() throws IOException {
      int len = 0;
      boolean any = false;
      while (true) {
        if (pos == end) {
          if (eof) {
            break;
          }
          end = in.read(buf, 0, buf.length);
          pos = 0;
          if (end <= 0) {
            end = 0;
            eof = true;
            break;
          }
        }
        any = true;
        byte b = buf[pos++];
        if (b == '\n') {
          break;
        }
        if (len < line.length) {
          line[len++] = b;
        }
      }
      if (!any) {
        return null;
      }
      if (len > 0 && line[len - 1] == '\r') {
        len--;
      }
      return new String(line, 0, len, StandardCharsets.UTF_8);
    }
  }
}
