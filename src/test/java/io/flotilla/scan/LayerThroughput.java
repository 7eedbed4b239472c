package io.flotilla.scan;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Not a test: measures first-scan throughput of {@link LayerInventory#read} on a generated gzip layer of
 * about 64 MiB (compressed), read from a file, against a bare {@code GZIPInputStream} drain of the same
 * file. The layer holds a dpkg status and either generated files or, when directories are named, this
 * machine's own files under them (closer to a real image). Run with the test class path:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) io.flotilla.scan.LayerThroughput [MiB [dir...]]}.
 */
public final class LayerThroughput {
  private LayerThroughput() {}

  public static void main(String[] args) throws Exception {
    long targetCompressed = (args.length > 0 ? Long.parseLong(args[0]) : 64) * 1024 * 1024;
    Path layer = Files.createTempFile("layer", ".tar.gz");
    try {
      List<Path> roots = new ArrayList<>();
      for (int i = 1; i < args.length; i++) {
        roots.add(Path.of(args[i]));
      }
      long uncompressed = generate(layer, targetCompressed, roots);
      long compressed = Files.size(layer);
      System.out.printf("layer: %.1f MiB gzip, %.1f MiB tar (ratio %.2f)%n", mib(compressed), mib(uncompressed),
          (double) uncompressed / compressed);
      ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
      List<Double> scan = new ArrayList<>();
      List<Double> bare = new ArrayList<>();
      List<Double> scanCpu = new ArrayList<>();
      List<Double> bareCpu = new ArrayList<>();
      LayerInventory last = null;
      for (int round = 0; round < 7; round++) {
        long c0 = cpu.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        try (InputStream in = Files.newInputStream(layer)) {
          last = LayerInventory.read(in, ScanLimits.DEFAULTS);
        }
        long t1 = System.nanoTime();
        long c1 = cpu.getCurrentThreadCpuTime();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(layer), 64 * 1024)) {
          byte[] buf = new byte[64 * 1024];
          while (in.read(buf) >= 0) {
            // drain
          }
        }
        long t2 = System.nanoTime();
        long c2 = cpu.getCurrentThreadCpuTime();
        scan.add((t1 - t0) / 1e9);
        bare.add((t2 - t1) / 1e9);
        scanCpu.add((c1 - c0) / 1e9);
        bareCpu.add((c2 - c1) / 1e9);
      }
      System.out.printf("scan: %d packages, %d entries, %d bytes read%n", last.allPackages().size(), last.entries(),
          last.bytesRead());
      report("LayerInventory.read", "wall", scan, compressed, uncompressed);
      report("LayerInventory.read", "cpu", scanCpu, compressed, uncompressed);
      report("bare GZIPInputStream", "wall", bare, compressed, uncompressed);
      report("bare GZIPInputStream", "cpu", bareCpu, compressed, uncompressed);
    } finally {
      Files.deleteIfExists(layer);
    }
  }

  private static void report(String what, String clock, List<Double> seconds, long compressed, long uncompressed) {
    List<Double> sorted = new ArrayList<>(seconds.subList(2, seconds.size())); // the first two warm up
    Collections.sort(sorted);
    double median = sorted.get(sorted.size() / 2);
    double best = sorted.get(0);
    System.out.printf("%-22s %-4s median %.3f s (best %.3f s): %.0f MB/s gzip data, %.0f MB/s uncompressed%n",
        what, clock, median, best, compressed / median / 1e6, uncompressed / median / 1e6);
  }

  private static double mib(long b) {
    return b / 1024.0 / 1024.0;
  }

  /** Files of mixed compressibility (text-like and binary-like), a dpkg status and a few jars. */
  private static long generate(Path file, long targetCompressed, List<Path> roots) throws IOException {
    Random r = new Random(42);
    String[] words = "the of and a to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part".split(" ");
    long written;
    try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
        CountingOut counted = new CountingOut(raw);
        GZIPOutputStream gz = new GZIPOutputStream(counted, 1 << 16);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gz, StandardCharsets.UTF_8.name())) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      StringBuilder status = new StringBuilder();
      for (int i = 0; i < 900; i++) {
        status.append("Package: pkg").append(i).append("\nStatus: install ok installed\nArchitecture: amd64\n")
            .append("Version: 1.").append(i).append("-1\nSource: src").append(i / 3)
            .append("\nDescription: generated\n some description text for the package\n\n");
      }
      put(tar, "var/lib/dpkg/status", status.toString().getBytes(StandardCharsets.UTF_8), 0644);
      put(tar, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n".getBytes(StandardCharsets.UTF_8), 0644);
      for (Path root : roots) {
        try (var files = Files.walk(root)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            if (counted.count >= targetCompressed) {
              break;
            }
            if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.isReadable(f)
                && Files.size(f) < 64L * 1024 * 1024) {
              put(tar, f.toString().substring(1), Files.readAllBytes(f), Files.isExecutable(f) ? 0755 : 0644);
            }
          }
        }
      }
      int n = 0;
      while (counted.count < targetCompressed) {
        int size = 1024 + r.nextInt(40 * 1024);
        byte[] content = new byte[size];
        if (r.nextInt(3) == 0) {
          r.nextBytes(content); // binary, incompressible
          for (int i = 0; i < size; i += 2) {
            content[i] = 0; // ... half of it
          }
        } else {
          int p = 0;
          while (p < size) {
            byte[] w = (words[r.nextInt(words.length)] + (r.nextInt(9) == 0 ? "\n" : " "))
                .getBytes(StandardCharsets.US_ASCII);
            int len = Math.min(w.length, size - p);
            System.arraycopy(w, 0, content, p, len);
            p += len;
          }
        }
        put(tar, "usr/share/gen/d" + (n % 97) + "/f" + n, content, (n % 10 == 0) ? 0755 : 0644);
        n++;
      }
      tar.finish();
      written = tar.getBytesWritten();
    }
    return written;
  }

  private static void put(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(content.length);
    e.setMode(mode);
    tar.putArchiveEntry(e);
    tar.write(content);
    tar.closeArchiveEntry();
  }

  private static final class CountingOut extends java.io.FilterOutputStream {
    long count;

    CountingOut(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count += len;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }
  }
}
