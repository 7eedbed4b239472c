package io.flotilla.scan;

import java.io.IOException;
import java.io.InputStream;

/**
 * Installed Python distributions: {@code *.dist-info/METADATA}, {@code *.egg-info/PKG-INFO},
 * {@code EGG-INFO/PKG-INFO} and single-file {@code *.egg-info}. Only the header block is read (up to
 * the first blank line, bounded by {@link ScanLimits#maxMetadataFileBytes()}): {@code Name} and
 * {@code Version}.
 */
final class PythonAnalyzer implements Analyzer {
  @Override
  public boolean accepts(String path, String name, boolean executable) {
    return path.endsWith(".dist-info/METADATA") || path.endsWith(".egg-info/PKG-INFO")
        || path.endsWith("EGG-INFO/PKG-INFO") || name.endsWith(".egg-info");
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return limits.maxMetadataFileBytes();
  }

  @Override
  public boolean readsWhole() {
    return false;
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    Streams.Lines lines = new Streams.Lines(in, 16 * 1024);
    String name = "";
    String version = "";
    for (String line = lines.next(); line != null && !line.isEmpty(); line = lines.next()) {
      if (line.startsWith("Name:")) {
        name = line.substring(5).trim();
      } else if (line.startsWith("Version:")) {
        version = line.substring(8).trim();
      }
      if (!name.isEmpty() && !version.isEmpty()) {
        break;
      }
    }
    if (!name.isEmpty() && !version.isEmpty()) {
      out.add(InstalledPackage.of(PackageType.PYPI, name, version, out.path()));
    }
  }
}
