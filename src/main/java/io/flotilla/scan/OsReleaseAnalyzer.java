package io.flotilla.scan;

import java.io.IOException;
import java.io.InputStream;

/**
 * The OS of a layer: {@code etc/os-release} and {@code usr/lib/os-release} ({@code ID},
 * {@code VERSION_ID}, {@code VERSION_CODENAME}), and as fallbacks {@code etc/debian_version} and
 * {@code etc/alpine-release} (one line: the version).
 */
final class OsReleaseAnalyzer implements Analyzer {
  static final String ETC_OS_RELEASE = "etc/os-release";
  static final String USR_OS_RELEASE = "usr/lib/os-release";
  static final String DEBIAN_VERSION = "etc/debian_version";
  static final String ALPINE_RELEASE = "etc/alpine-release";

  /** Lower is preferred: os-release files before the distribution-specific fallbacks. */
  static int rank(String path) {
    return switch (path) {
      case ETC_OS_RELEASE -> 0;
      case USR_OS_RELEASE -> 1;
      case ALPINE_RELEASE -> 2;
      case DEBIAN_VERSION -> 3;
      default -> 4;
    };
  }

  /** Whether the file is an os-release file (as opposed to a fallback). */
  static boolean isOsRelease(String path) {
    return rank(path) <= 1;
  }

  @Override
  public boolean accepts(String path, String name, boolean executable) {
    return rank(path) < 4;
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return limits.maxMetadataFileBytes();
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    Streams.Lines lines = new Streams.Lines(in, 4096);
    String path = out.path();
    if (isOsRelease(path)) {
      String id = "";
      String versionId = "";
      String codename = "";
      for (String line = lines.next(); line != null; line = lines.next()) {
        int eq = line.indexOf('=');
        if (eq <= 0 || line.startsWith("#")) {
          continue;
        }
        String key = line.substring(0, eq).trim();
        String value = unquote(line.substring(eq + 1).trim());
        switch (key) {
          case "ID" -> id = value;
          case "VERSION_ID" -> versionId = value;
          case "VERSION_CODENAME" -> codename = value;
          default -> { }
        }
      }
      if (!id.isEmpty()) {
        out.os(new OsRelease(id, versionId, codename, path));
      }
    } else {
      String line = lines.next();
      String version = line == null ? "" : line.trim();
      if (!version.isEmpty()) {
        out.os(new OsRelease(path.equals(ALPINE_RELEASE) ? "alpine" : "debian", version, "", path));
      }
    }
  }

  /** A shell-style value: double quotes with backslash escapes, single quotes literal, else as is. */
  static String unquote(String v) {
    if (v.length() >= 2 && v.charAt(0) == '\'' && v.charAt(v.length() - 1) == '\'') {
      return v.substring(1, v.length() - 1);
    }
    if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
      StringBuilder sb = new StringBuilder(v.length());
      for (int i = 1; i < v.length() - 1; i++) {
        char c = v.charAt(i);
        if (c == '\\' && i + 1 < v.length() - 1) {
          c = v.charAt(++i);
        }
        sb.append(c);
      }
      return sb.toString();
    }
    return v;
  }
}
