package io.flotilla.scan;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * One streaming pass over one layer: detects the compression, walks the tar with commons-compress, hands
 * each regular file that an analyzer wants to that analyzer (bounded), records whiteouts and opaque
 * directories, and enforces {@link ScanLimits}. Single use, single thread.
 */
final class LayerReader {
  static final String WHITEOUT_PREFIX = ".wh.";
  static final String OPAQUE = ".wh..wh..opq";
  private static final int BUFFER = 64 * 1024;
  private static final List<Analyzer> ANALYZERS = List.of(new OsReleaseAnalyzer(), new DpkgAnalyzer(),
      new ApkAnalyzer(), new NpmAnalyzer(), new PythonAnalyzer(), new JavaArchiveAnalyzer(),
      new GoBinaryAnalyzer());

  private final ScanLimits limits;
  private final TreeMap<String, List<InstalledPackage>> packages = new TreeMap<>();
  private final TreeMap<String, OsRelease> osFiles = new TreeMap<>();
  private final TreeSet<String> whiteouts = new TreeSet<>();
  private final TreeSet<String> opaqueDirs = new TreeSet<>();
  private final List<ScanNote> notes = new ArrayList<>();
  private long droppedNotes;
  private int packageCount;
  private long entries;

  LayerReader(ScanLimits limits) {
    this.limits = limits;
  }

  LayerInventory read(InputStream raw) throws ScanException {
    Streams.Counting source = new Streams.Counting(raw, Long.MAX_VALUE);
    Streams.Counting tarBytes = null;
    try {
      BufferedInputStream buffered = new BufferedInputStream(source, BUFFER);
      InputStream decompressed = decompress(buffered);
      tarBytes = new Streams.Counting(decompressed, limits.maxLayerBytes());
      TarArchiveInputStream tar = new TarArchiveInputStream(tarBytes, StandardCharsets.UTF_8.name());
      for (TarArchiveEntry e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        entry(tar, e, tarBytes);
      }
      tarBytes.drain(); // the rest of the blob: tar padding, and the gzip trailer, whose checksum is verified
    } catch (Streams.LimitExceeded e) {
      throw new ScanException(e.reason, e.getMessage(), e);
    } catch (Findings.TooManyPackages e) {
      throw new ScanException(ScanException.Reason.TOO_MANY_PACKAGES, e.getMessage(), e);
    } catch (IOException e) {
      if (source.failure() != null) {
        throw new ScanException(ScanException.Reason.IO_ERROR, "reading the layer failed: " + e.getMessage(), e);
      }
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      if (e instanceof EOFException || (tarBytes != null && tarBytes.ended()) || m.contains("truncated")
          || m.contains("premature end") || m.contains("unexpected end")) {
        throw new ScanException(ScanException.Reason.TRUNCATED, "layer ends early: " + e.getMessage(), e);
      }
      throw new ScanException(ScanException.Reason.CORRUPT, "layer is not a valid tar: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new ScanException(ScanException.Reason.CORRUPT, "layer is not a valid tar: " + e, e);
    }
    if (droppedNotes > 0) {
      notes.add(new ScanNote("", droppedNotes + " more notes left out"));
    }
    return new LayerInventory(packages, osFiles, whiteouts, opaqueDirs, notes, entries, source.count(),
        tarBytes.count());
  }

  /** gzip by its magic bytes; plain tar otherwise; zstd, bzip2 and xz are recognized and refused. */
  private static InputStream decompress(BufferedInputStream in) throws IOException, ScanException {
    in.mark(8);
    byte[] head = in.readNBytes(6);
    in.reset();
    if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      // inflate in large blocks even when the tar reader asks for a 512-byte header
      return new BufferedInputStream(new GZIPInputStream(in, BUFFER), BUFFER);
    }
    if (head.length >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
        && (head[3] & 0xff) == 0xfd) {
      throw new ScanException(ScanException.Reason.UNSUPPORTED_COMPRESSION, "zstd layers are not read yet");
    }
    if (head.length >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') {
      throw new ScanException(ScanException.Reason.UNSUPPORTED_COMPRESSION, "bzip2 layers are not read");
    }
    if (head.length >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X'
        && head[4] == 'Z' && head[5] == 0) {
      throw new ScanException(ScanException.Reason.UNSUPPORTED_COMPRESSION, "xz layers are not read");
    }
    return in;
  }

  private void entry(TarArchiveInputStream tar, TarArchiveEntry e, Streams.Counting tarBytes) throws IOException {
    if (++entries > limits.maxEntries()) {
      throw new Streams.LimitExceeded(ScanException.Reason.TOO_MANY_ENTRIES,
          "more than " + limits.maxEntries() + " entries");
    }
    long size = e.getSize();
    if (size > limits.maxLayerBytes() - tarBytes.count()) {
      throw new Streams.LimitExceeded(ScanException.Reason.TOO_LARGE,
          "entry " + e.getName() + " declares " + size + " bytes, beyond the layer limit " + limits.maxLayerBytes());
    }
    String raw = e.getName();
    String path = normalize(raw);
    if (path == null) {
      note(raw, "unsafe path ignored");
      return;
    }
    if (path.isEmpty()) {
      return;
    }
    int slash = path.lastIndexOf('/');
    String name = path.substring(slash + 1);
    String parent = slash < 0 ? "" : path.substring(0, slash);
    if (name.startsWith(WHITEOUT_PREFIX)) {
      whiteout(raw, parent, name);
      return;
    }
    if (e.isDirectory()) {
      return;
    }
    byte flag = e.getLinkFlag();
    boolean regular = flag == TarArchiveEntry.LF_NORMAL || flag == TarArchiveEntry.LF_OLDNORM
        || flag == TarArchiveEntry.LF_CONTIG;
    boolean executable = (e.getMode() & 0111) != 0;
    Analyzer analyzer = null;
    for (Analyzer a : ANALYZERS) {
      if (a.accepts(path, name, executable && regular)) {
        analyzer = a;
        break;
      }
    }
    forget(path);
    if (analyzer == null) {
      return;
    }
    if (!regular) {
      record(analyzer, path, null); // a link or device where a file was: it still hides a lower file
      return;
    }
    long max = analyzer.maxBytes(path, limits);
    if (analyzer.readsWhole() && size > max && analyzer.essential()) {
      throw new Streams.LimitExceeded(ScanException.Reason.TOO_LARGE, path + " is " + size
          + " bytes, more than the limit of " + max + " for a package database");
    }
    if (analyzer.readsWhole() && size > max) {
      note(path, "skipped: " + size + " bytes, more than the limit of " + max);
      record(analyzer, path, null);
      return;
    }
    Streams.Bounded content = new Streams.Bounded(tar, max);
    Findings found = new Findings(path, limits, packageCount);
    try {
      analyzer.analyze(found, content);
    } catch (IOException | RuntimeException ex) {
      if (content.sourceFailure() != null) {
        throw content.sourceFailure();
      }
      if (ex instanceof Findings.TooManyPackages) {
        throw ex;
      }
      note(path, "skipped: " + describe(ex));
      found = null;
    }
    if (content.sourceFailure() != null) {
      throw content.sourceFailure(); // an analyzer that swallowed the layer's own failure
    }
    if (found != null) {
      found.notes().forEach(n -> note(n.path(), n.message()));
    }
    record(analyzer, path, found);
  }

  private void whiteout(String raw, String parent, String name) {
    if (name.equals(OPAQUE)) {
      opaqueDirs.add(parent);
      return;
    }
    if (name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
      return; // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs): not a deletion
    }
    String target = normalize(parent.isEmpty() ? name.substring(WHITEOUT_PREFIX.length())
        : parent + "/" + name.substring(WHITEOUT_PREFIX.length()));
    if (target == null || target.isEmpty()) {
      note(raw, "unsafe whiteout ignored");
      return;
    }
    whiteouts.add(target);
  }

  /** A later entry of the same path in the same tar replaces an earlier one. */
  private void forget(String path) {
    List<InstalledPackage> old = packages.remove(path);
    if (old != null) {
      packageCount -= old.size();
    }
    osFiles.remove(path);
  }

  private void record(Analyzer analyzer, String path, Findings found) {
    if (analyzer instanceof OsReleaseAnalyzer) {
      OsRelease os = found == null ? OsRelease.UNKNOWN : found.os();
      osFiles.put(path, os.known() ? os : new OsRelease("", "", "", path));
      return;
    }
    List<InstalledPackage> list = found == null ? List.of() : found.packages();
    if (list.isEmpty() && !analyzer.recordsEmpty()) {
      return;
    }
    packages.put(path, list);
    packageCount += list.size();
  }

  private void note(String path, String message) {
    if (notes.size() < limits.maxNotes()) {
      notes.add(new ScanNote(path, message));
    } else {
      droppedNotes++;
    }
  }

  private static String describe(Exception e) {
    if (e instanceof Streams.FileTooLarge) {
      return e.getMessage();
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  /**
   * The path of a tar entry relative to the image root, without empty or {@code .} segments and without a
   * trailing slash; {@code null} for an absolute path or one with a {@code ..} segment, which is never
   * resolved (the entry is ignored).
   */
  static String normalize(String raw) {
    if (raw.startsWith("/")) {
      return null;
    }
    StringBuilder sb = new StringBuilder(raw.length());
    int start = 0;
    while (start <= raw.length()) {
      int end = raw.indexOf('/', start);
      if (end < 0) {
        end = raw.length();
      }
      String seg = raw.substring(start, end);
      start = end + 1;
      if (seg.isEmpty() || seg.equals(".")) {
        continue;
      }
      if (seg.equals("..")) {
        return null;
      }
      if (sb.length() > 0) {
        sb.append('/');
      }
      sb.append(seg);
    }
    return sb.toString();
  }
}
