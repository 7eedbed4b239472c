package io.flotilla.scan;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;

/**
 * dpkg's database: {@code var/lib/dpkg/status} and distroless {@code var/lib/dpkg/status.d/<name>} (one or
 * more stanzas per file; {@code *.md5sums} beside them are not stanzas). RFC 822 stanzas separated by
 * blank lines; field names are case-insensitive; continuation lines (leading space or tab) are ignored.
 * A stanza without Package or Version, or whose Status wants {@code deinstall}/{@code purge} or is
 * {@code not-installed}/{@code config-files}, is dropped. {@code Source: name (version)} gives the source
 * package; without a version the source version is the binary version.
 */
final class DpkgAnalyzer implements Analyzer {
  static final String STATUS = "var/lib/dpkg/status";
  static final String STATUS_D = "var/lib/dpkg/status.d/";

  @Override
  public boolean essential() {
    return true;
  }

  @Override
  public boolean accepts(String path, String name, boolean executable) {
    if (path.equals(STATUS)) {
      return true;
    }
    return path.startsWith(STATUS_D) && path.indexOf('/', STATUS_D.length()) < 0
        && !name.endsWith(".md5sums") && !name.startsWith(".");
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return limits.maxDatabaseFileBytes();
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    Streams.Lines lines = new Streams.Lines(in, 64 * 1024);
    Stanza s = new Stanza();
    for (String line = lines.next(); ; line = lines.next()) {
      if (line == null || line.isBlank()) {
        s.emit(out);
        s = new Stanza();
        if (line == null) {
          return;
        }
        continue;
      }
      char first = line.charAt(0);
      if (first == ' ' || first == '\t' || first == '#') {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        continue;
      }
      String value = line.substring(colon + 1).trim();
      switch (line.substring(0, colon).toLowerCase(Locale.ROOT)) {
        case "package" -> s.name = value;
        case "version" -> s.version = value;
        case "source" -> s.source = value;
        case "status" -> s.status = value;
        case "architecture" -> s.arch = value;
        default -> { }
      }
    }
  }

  private static final class Stanza {
    String name = "";
    String version = "";
    String source = "";
    String status = "";
    String arch = "";

    void emit(Findings out) {
      if (name.isEmpty() || version.isEmpty() || !installed(status)) {
        return;
      }
      String sourceName = source;
      String sourceVersion = "";
      int paren = source.indexOf('(');
      if (paren >= 0) {
        sourceName = source.substring(0, paren).trim();
        int close = source.indexOf(')', paren);
        sourceVersion = source.substring(paren + 1, close < 0 ? source.length() : close).trim();
      }
      out.add(new InstalledPackage(PackageType.DEB, name, version, sourceName, sourceVersion, arch, out.path()));
    }
  }

  /** "want error status"; no Status field (status.d, available) counts as installed. */
  static boolean installed(String status) {
    if (status.isEmpty()) {
      return true;
    }
    String[] words = status.trim().split("\\s+");
    for (String w : words) {
      if (w.equals("deinstall") || w.equals("purge") || w.equals("not-installed") || w.equals("config-files")) {
        return false;
      }
    }
    return true;
  }
}
