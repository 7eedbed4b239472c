package io.flotilla.scan;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Go modules compiled into an executable (a regular file with an execute bit, starting like an ELF,
 * Mach-O or PE file, no larger than {@link ScanLimits#maxExecutableBytes()}). The file is streamed once
 * and searched at 16-byte-aligned offsets for the build-information header of Go's
 * {@code debug/buildinfo} format: 32 bytes starting with {@code "\xff Go buildinf:"}, then the pointer
 * size and a flags byte. From Go 1.18 on (flag bit 2) the Go version and the module information follow
 * the header inline, each as a uvarint length and bytes; the module information is framed by 16-byte
 * sentinels and holds tab-separated lines {@code path}, {@code mod}, {@code dep} and {@code =>} (a
 * replacement of the line before). Earlier formats (pointers into the data segment) are noted, not read.
 * Reports {@code stdlib} at the toolchain's version, the main module unless {@code (devel)}, and each
 * dependency (its replacement when it has a version; a local-directory replacement is left out).
 */
final class GoBinaryAnalyzer implements Analyzer {
  static final byte[] MAGIC = "\u00ff Go buildinf:".getBytes(StandardCharsets.ISO_8859_1);
  static final int HEADER = 32;
  static final int ALIGN = 16;
  private static final int CHUNK = 64 * 1024;
  /** Bytes wanted in the buffer after a candidate header before it is checked. */
  private static final int LOOKAHEAD = 512;
  private static final int MAX_VERSION = 256;
  private static final int MAX_MODINFO = 8 * 1024 * 1024;

  @Override
  public boolean accepts(String path, String name, boolean executable) {
    return executable;
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return limits.maxExecutableBytes();
  }

  @Override
  public boolean recordsEmpty() {
    return false;
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    byte[] head = in.readNBytes(4);
    if (head.length < 4 || !executableFormat(head)) {
      return;
    }
    byte[] buf = new byte[CHUNK];
    System.arraycopy(head, 0, buf, 0, 4);
    int n = 4;
    boolean eof = false;
    while (true) {
      if (!eof) {
        int want = buf.length - n;
        int got = in.readNBytes(buf, n, want);
        n += got;
        eof = got < want;
      }
      int i = 0;
      for (; i + HEADER <= n; i += ALIGN) {
        if (buf[i] != (byte) 0xff || !magicAt(buf, i)) {
          continue;
        }
        if (!eof && i + LOOKAHEAD > n) {
          break; // move the candidate to the front and read more behind it
        }
        int verdict = candidate(buf, i, n);
        if (verdict == OLD_FORMAT) {
          out.note(out.path(), "Go build information before Go 1.18 is not read");
          return;
        }
        if (verdict == INLINE) {
          read(new SequenceInputStream(new ByteArrayInputStream(buf, i + HEADER, n - i - HEADER), in), out);
          return;
        }
      }
      if (eof) {
        return;
      }
      System.arraycopy(buf, i, buf, 0, n - i); // i is aligned, so buf[0] stays at an aligned offset
      n -= i;
    }
  }

  private static final int NO = 0;
  private static final int OLD_FORMAT = 1;
  private static final int INLINE = 2;

  /** Checks a header and, for the inline format, that a plausible Go version follows it. */
  private static int candidate(byte[] buf, int i, int n) {
    int ptrSize = buf[i + 14];
    int flags = buf[i + 15];
    if (ptrSize != 4 && ptrSize != 8) {
      return NO;
    }
    if ((flags & 2) == 0) {
      return OLD_FORMAT;
    }
    int p = i + HEADER;
    long len = 0;
    for (int shift = 0; p < n && shift < 35; shift += 7) {
      byte b = buf[p++];
      len |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        if (len < 2 || len > MAX_VERSION || p + len > n) {
          return NO;
        }
        String v = new String(buf, p, (int) len, StandardCharsets.ISO_8859_1);
        return v.startsWith("go") || v.startsWith("devel") ? INLINE : NO;
      }
    }
    return NO;
  }

  private static void read(InputStream in, Findings out) throws IOException {
    String version = new String(string(in, MAX_VERSION), StandardCharsets.UTF_8);
    byte[] mod = string(in, MAX_MODINFO);
    String modinfo = "";
    if (mod.length >= 33 && mod[mod.length - 17] == '\n') {
      modinfo = new String(mod, 16, mod.length - 32, StandardCharsets.UTF_8);
    }
    for (InstalledPackage p : packages(version, modinfo, out.path())) {
      out.add(p);
    }
  }

  /** The packages of one binary from its Go version and module information text. */
  static List<InstalledPackage> packages(String goVersion, String modinfo, String path) {
    List<InstalledPackage> found = new ArrayList<>();
    String toolchain = goVersion.trim().split("\\s+")[0];
    if (toolchain.startsWith("go") && toolchain.length() > 2) {
      found.add(InstalledPackage.of(PackageType.GO, "stdlib", "v" + toolchain.substring(2), path));
    }
    List<String[]> modules = new ArrayList<>(); // {path, version, kind}; a replacement overwrites in place
    for (String line : modinfo.split("\n")) {
      String[] f = line.split("\t", -1);
      if (f.length < 2) {
        continue;
      }
      switch (f[0]) {
        case "mod", "dep" -> modules.add(new String[] {f[1], f.length > 2 ? f[2] : "", f[0]});
        case "=>" -> {
          if (!modules.isEmpty()) {
            String[] last = modules.get(modules.size() - 1);
            last[0] = f[1];
            last[1] = f.length > 2 ? f[2] : ""; // empty: a local directory, no module version
          }
        }
        default -> { }
      }
    }
    for (String[] m : modules) {
      if (!m[0].isEmpty() && !m[1].isEmpty() && !m[1].equals("(devel)")) {
        found.add(InstalledPackage.of(PackageType.GO, m[0], m[1], path));
      }
    }
    return found;
  }

  private static byte[] string(InputStream in, int max) throws IOException {
    long len = 0;
    for (int shift = 0; ; shift += 7) {
      int b = in.read();
      if (b < 0 || shift > 28) {
        throw new IOException("bad Go build information");
      }
      len |= (long) (b & 0x7f) << shift;
      if (b < 0x80) {
        break;
      }
    }
    if (len > max) {
      throw new IOException("Go module information longer than " + max + " bytes");
    }
    byte[] s = in.readNBytes((int) len);
    if (s.length != len) {
      throw new IOException("Go build information cut short");
    }
    return s;
  }

  static boolean magicAt(byte[] buf, int i) {
    for (int k = 0; k < MAGIC.length; k++) {
      if (buf[i + k] != MAGIC[k]) {
        return false;
      }
    }
    return true;
  }

  /** ELF, Mach-O (32/64-bit, either byte order) or PE. */
  static boolean executableFormat(byte[] b) {
    int m = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    return m == 0x7f454c46 || m == 0xfeedface || m == 0xfeedfacf || m == 0xcefaedfe || m == 0xcffaedfe
        || (b[0] == 'M' && b[1] == 'Z');
  }
}
