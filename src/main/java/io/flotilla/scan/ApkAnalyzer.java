package io.flotilla.scan;

import java.io.IOException;
import java.io.InputStream;

/**
 * apk's database: {@code lib/apk/db/installed} (and {@code usr/lib/apk/db/installed} of apk 3). Records
 * separated by blank lines, one {@code X:value} per line: {@code P} name, {@code V} version, {@code o}
 * origin (the source package), {@code A} architecture.
 */
final class ApkAnalyzer implements Analyzer {
  static final String INSTALLED = "lib/apk/db/installed";
  static final String USR_INSTALLED = "usr/lib/apk/db/installed";

  @Override
  public boolean essential() {
    return true;
  }

  @Override
  public boolean accepts(String path, String name, boolean executable) {
    return path.equals(INSTALLED) || path.equals(USR_INSTALLED);
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return limits.maxDatabaseFileBytes();
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    Streams.Lines lines = new Streams.Lines(in, 64 * 1024);
    String name = "";
    String version = "";
    String origin = "";
    String arch = "";
    for (String line = lines.next(); ; line = lines.next()) {
      if (line == null || line.isBlank()) {
        if (!name.isEmpty() && !version.isEmpty()) {
          out.add(new InstalledPackage(PackageType.APK, name, version, origin, version, arch, out.path()));
        }
        name = version = origin = arch = "";
        if (line == null) {
          return;
        }
        continue;
      }
      if (line.length() < 2 || line.charAt(1) != ':') {
        continue;
      }
      String value = line.substring(2).trim();
      switch (line.charAt(0)) {
        case 'P' -> name = value;
        case 'V' -> version = value;
        case 'o' -> origin = value;
        case 'A' -> arch = value;
        default -> { }
      }
    }
  }
}
