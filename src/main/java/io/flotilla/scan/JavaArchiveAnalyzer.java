package io.flotilla.scan;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Java archives ({@code *.jar}, {@code *.war}, {@code *.ear}), streamed with the JDK's
 * {@link ZipInputStream} straight from the tar entry: each {@code META-INF/maven/<g>/<a>/pom.properties}
 * is a package {@code groupId:artifactId}; without any, {@code META-INF/MANIFEST.MF}'s
 * {@code Implementation-Title}/{@code Implementation-Version} names one. Archives nested one level deep
 * ({@code WEB-INF/lib/*.jar}, {@code BOOT-INF/lib/*.jar}, a war in an ear) are read from the outer stream
 * the same way, bounded by {@link ScanLimits#maxNestedArchiveBytes()}; deeper ones are not opened. An
 * archive counts only if it reads to its end: a corrupted or oversized one (outer or nested) contributes no
 * package and leaves a note, and the rest of the layer (or of the outer archive) is read on. Inflated bytes of one archive tree are bounded by
 * {@link ScanLimits#maxArchiveInflatedBytes()} (zip bombs).
 */
final class JavaArchiveAnalyzer implements Analyzer {
  @Override
  public boolean accepts(String path, String name, boolean executable) {
    return isArchive(name);
  }

  static boolean isArchive(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".jar") || n.endsWith(".war") || n.endsWith(".ear");
  }

  @Override
  public long maxBytes(String path, ScanLimits limits) {
    return limits.maxArchiveBytes();
  }

  @Override
  public void analyze(Findings out, InputStream in) throws IOException {
    long[] inflated = {0};
    List<InstalledPackage> found;
    try {
      found = scan(new CountingZip(in, inflated, out.limits().maxArchiveInflatedBytes()), out.path(), true, out);
    } catch (IOException | IllegalArgumentException e) {
      if (e instanceof Streams.LimitExceeded || (in instanceof Streams.Bounded b && b.sourceFailure() != null)) {
        throw e;
      }
      out.note(out.path(), "archive skipped: " + describe(e));
      return;
    }
    found.forEach(out::add);
  }

  /** The packages of one archive (and, if {@code outer}, of the archives in it), all or nothing. */
  private static List<InstalledPackage> scan(CountingZip zip, String archive, boolean outer, Findings out)
      throws IOException {
    ScanLimits limits = out.limits();
    List<InstalledPackage> found = new ArrayList<>();
    List<InstalledPackage> nested = new ArrayList<>();
    boolean pom = false;
    String title = "";
    String version = "";
    for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
      if (e.isDirectory()) {
        continue;
      }
      String name = e.getName();
      if (isPomProperties(name)) {
        Properties props = new Properties();
        props.load(new Streams.Bounded(zip, limits.maxMetadataFileBytes()));
        String[] ga = name.split("/");
        String g = props.getProperty("groupId", ga[2]).trim();
        String a = props.getProperty("artifactId", ga[3]).trim();
        String v = props.getProperty("version", "").trim();
        if (!v.isEmpty()) {
          found.add(InstalledPackage.of(PackageType.MAVEN, g + ":" + a, v, archive));
          pom = true;
        }
      } else if (name.equals("META-INF/MANIFEST.MF")) {
        Attributes main = new Manifest(new Streams.Bounded(zip, limits.maxMetadataFileBytes())).getMainAttributes();
        title = value(main, "Implementation-Title");
        version = value(main, "Implementation-Version");
      } else if (outer && isArchive(name)) {
        nested.addAll(nested(zip, archive + "!/" + name, out));
      }
    }
    if (!pom && !title.isEmpty() && !version.isEmpty()) {
      found.add(InstalledPackage.of(PackageType.MAVEN, title, version, archive));
    }
    found.addAll(nested);
    return found;
  }

  private static List<InstalledPackage> nested(CountingZip outerZip, String archive, Findings out)
      throws IOException {
    Streams.Bounded bounded = new Streams.Bounded(outerZip, out.limits().maxNestedArchiveBytes());
    try {
      return scan(new CountingZip(bounded, outerZip.inflated, outerZip.limit), archive, false, out);
    } catch (IOException | IllegalArgumentException e) {
      if (e instanceof Streams.LimitExceeded || bounded.sourceFailure() != null) {
        throw e; // the outer archive (or the layer) is broken, not just this one
      }
      out.note(archive, "nested archive skipped: " + describe(e));
      return List.of();
    }
  }

  /** {@code META-INF/maven/<groupId>/<artifactId>/pom.properties}. */
  static boolean isPomProperties(String name) {
    if (!name.startsWith("META-INF/maven/") || !name.endsWith("/pom.properties")) {
      return false;
    }
    String[] parts = name.split("/");
    return parts.length == 5 && !parts[2].isEmpty() && !parts[3].isEmpty();
  }

  private static String value(Attributes a, String key) {
    String v = a.getValue(key);
    return v == null ? "" : v.trim();
  }

  private static String describe(Exception e) {
    if (e instanceof Streams.FileTooLarge) {
      return e.getMessage();
    }
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /**
   * A {@link ZipInputStream} that counts the bytes it inflates, including those it inflates to skip an
   * entry ({@code closeEntry} reads through {@link #read(byte[], int, int)}), against one budget shared
   * by an archive and the archives nested in it.
   */
  private static final class CountingZip extends ZipInputStream {
    private final long[] inflated;
    private final long limit;

    CountingZip(InputStream in, long[] inflated, long limit) {
      super(in);
      this.inflated = inflated;
      this.limit = limit;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        inflated[0] += n;
        if (inflated[0] > limit) {
          throw new Streams.FileTooLarge(limit);
        }
      }
      return n;
    }
  }
}
