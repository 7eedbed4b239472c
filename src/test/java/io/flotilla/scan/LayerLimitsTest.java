package io.flotilla.scan;

import static io.flotilla.scan.LayerBuilder.jar;
import static io.flotilla.scan.LayerBuilder.layer;
import static io.flotilla.scan.LayerBuilder.pom;
import static io.flotilla.scan.LayerBuilder.pomPath;
import static io.flotilla.scan.LayerInventoryTest.DPKG_STATUS;
import static io.flotilla.scan.LayerInventoryTest.names;
import static io.flotilla.scan.LayerInventoryTest.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;

/** Hostile and broken layers: each is a clean {@link ScanException} or a noted skip, in bounded time. */
class LayerLimitsTest {
  private static final long MIB = 1024 * 1024;

  private static ScanException fails(byte[] layer, ScanLimits limits) {
    return fails(new ByteArrayInputStream(layer), limits);
  }

  private static ScanException fails(InputStream layer, ScanLimits limits) {
    return assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> assertThrows(ScanException.class, () -> LayerInventory.read(layer, limits)));
  }

  @Test
  void tooManyEntries() {
    LayerBuilder b = layer();
    for (int i = 0; i < 1500; i++) {
      b.file("f/" + i, "");
    }
    ScanException e = fails(b.gzip(), ScanLimits.DEFAULTS.withMaxEntries(1000));
    assertEquals(ScanException.Reason.TOO_MANY_ENTRIES, e.reason());
  }

  /** A tar header that declares 7 GiB, followed by a little data only. */
  private static byte[] hugeDeclaredEntry() throws IOException {
    TarArchiveEntry e = new TarArchiveEntry("var/lib/dpkg/status");
    e.setSize(7L << 30);
    byte[] header = new byte[512];
    e.writeEntryHeader(header);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(header);
    out.write(DPKG_STATUS.getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  @Test
  void hugeDeclaredSizeIsRefusedBeforeReading() throws Exception {
    ScanException e = fails(hugeDeclaredEntry(), ScanLimits.DEFAULTS.withMaxLayerBytes(1L << 30));
    assertEquals(ScanException.Reason.TOO_LARGE, e.reason());
    // within the layer limit, the missing bytes make it a truncated layer
    assertEquals(ScanException.Reason.TRUNCATED, fails(hugeDeclaredEntry(), ScanLimits.DEFAULTS
        .withMaxDatabaseFileBytes(8L << 30)).reason());
  }

  @Test
  void decompressionBombStopsAtTheUncompressedLimit() throws Exception {
    byte[] zeros = new byte[(int) MIB];
    ByteArrayOutputStream bomb = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bomb)) {
      gz.write(layer().file("etc/os-release", "ID=debian\n").tar());
      for (int i = 0; i < 64; i++) {
        gz.write(zeros); // after the end of the tar: still read (and counted) to reach the gzip trailer
      }
    }
    assertTrue(bomb.size() < MIB, "the bomb is small: " + bomb.size());
    ScanException e = fails(bomb.toByteArray(), ScanLimits.DEFAULTS.withMaxLayerBytes(16 * MIB));
    assertEquals(ScanException.Reason.TOO_LARGE, e.reason());
    // within the limit the same layer is fine
    LayerInventory ok = LayerInventory.read(new ByteArrayInputStream(bomb.toByteArray()), ScanLimits.DEFAULTS);
    assertEquals("debian", ok.os().id());
    assertTrue(ok.uncompressedBytes() > 64 * MIB);
    assertEquals(bomb.size(), ok.bytesRead());
  }

  @Test
  void escapingPathsAreIgnoredWithNotes() throws Exception {
    LayerInventory l = read(layer()
        .file("../../etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        .file("/etc/shadow", "root:*:1::::::\n")
        .file("../../var/lib/dpkg/status", DPKG_STATUS)
        .file("var/lib/../../../var/lib/dpkg/status", DPKG_STATUS)
        .file("etc/..", "x")
        .whiteout("../etc")
        .file("etc/os-release", "ID=alpine\nVERSION_ID=3.19.0\n")
        .gzip());
    assertEquals(List.of(), l.allPackages());
    assertEquals(List.of(), List.copyOf(l.whiteouts()));
    assertEquals("alpine", l.os().id());
    assertEquals(List.of("../../etc/passwd", "/etc/shadow", "../../var/lib/dpkg/status",
        "var/lib/../../../var/lib/dpkg/status", "etc/..", "../.wh.etc"),
        l.notes().stream().map(ScanNote::path).toList());
  }

  @Test
  void notesAreCapped() throws Exception {
    LayerBuilder b = layer();
    for (int i = 0; i < 300; i++) {
      b.file("../" + i, "");
    }
    LayerInventory l = read(b.gzip());
    assertEquals(101, l.notes().size());
    assertEquals("200 more notes left out", l.notes().get(100).message());
  }

  @Test
  void truncatedGzip() {
    byte[] gz = layer().file("var/lib/dpkg/status", DPKG_STATUS.repeat(50)).gzip();
    ScanException half = fails(Arrays.copyOf(gz, gz.length / 2), ScanLimits.DEFAULTS);
    assertEquals(ScanException.Reason.TRUNCATED, half.reason(), half.getMessage());
    // only the 8-byte trailer (CRC, size) missing: the tar is complete, the blob is not
    ScanException trailer = fails(Arrays.copyOf(gz, gz.length - 8), ScanLimits.DEFAULTS);
    assertEquals(ScanException.Reason.TRUNCATED, trailer.reason(), trailer.getMessage());
  }

  @Test
  void corruptGzip() {
    byte[] gz = layer().file("var/lib/dpkg/status", DPKG_STATUS.repeat(50)).gzip();
    for (int i = 20; i < gz.length - 20; i += 7) {
      gz[i] ^= 0x5a;
    }
    ScanException e = fails(gz, ScanLimits.DEFAULTS);
    assertTrue(e.reason() == ScanException.Reason.CORRUPT || e.reason() == ScanException.Reason.TRUNCATED,
        e.getMessage());
  }

  @Test
  void truncatedPlainTar() {
    byte[] tar = layer().file("var/lib/dpkg/status", DPKG_STATUS.repeat(50)).file("etc/os-release", "ID=x\n").tar();
    ScanException e = fails(Arrays.copyOf(tar, 512 + 1000), ScanLimits.DEFAULTS);
    assertEquals(ScanException.Reason.TRUNCATED, e.reason(), e.getMessage());
  }

  @Test
  void notATar() {
    byte[] junk = new byte[4096];
    new Random(1).nextBytes(junk);
    junk[0] = 'x'; // not a compression magic either
    assertEquals(ScanException.Reason.CORRUPT, fails(junk, ScanLimits.DEFAULTS).reason());
  }

  @Test
  void zstdIsRecognizedAndRefused() {
    byte[] zstd = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0};
    assertEquals(ScanException.Reason.UNSUPPORTED_COMPRESSION, fails(zstd, ScanLimits.DEFAULTS).reason());
  }

  @Test
  void failingSourceIsAnIoError() {
    InputStream failing = new SequenceInputStream(new ByteArrayInputStream(layer().file("a", "b").gzip(), 0, 30),
        new InputStream() {
          @Override
          public int read() throws IOException {
            throw new IOException("disk gone");
          }
        });
    assertEquals(ScanException.Reason.IO_ERROR, fails(failing, ScanLimits.DEFAULTS).reason());
  }

  @Test
  void tooManyPackages() {
    byte[] l = layer().file("var/lib/dpkg/status", DPKG_STATUS).gzip();
    assertEquals(ScanException.Reason.TOO_MANY_PACKAGES, fails(l, ScanLimits.DEFAULTS.withMaxPackages(2)).reason());
  }

  /**
   * A 200 MiB dpkg status generated on the fly (never in memory): a plain tar of one entry whose content
   * repeats a stanza. The file is over the 64 MiB database limit: the layer's scan fails at its header
   * (an inventory without the OS packages would claim a clean image), before its content is read.
   */
  @Test
  void hugeDpkgStatusFailsTheLayer() throws Exception {
    long size = 200 * MIB;
    ScanException tooLarge = assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> fails(new GeneratedStatusTar(size), ScanLimits.DEFAULTS));
    assertEquals(ScanException.Reason.TOO_LARGE, tooLarge.reason());
    assertTrue(tooLarge.getMessage().contains("more than the limit of " + 64 * MIB), tooLarge.getMessage());
    // with a limit above its size, the same generated file is parsed as it streams by (bounded memory)
    ScanException e = fails(new GeneratedStatusTar(size), ScanLimits.DEFAULTS.withMaxDatabaseFileBytes(256 * MIB)
        .withMaxPackages(100_000));
    assertEquals(ScanException.Reason.TOO_MANY_PACKAGES, e.reason());
  }

  /** A plain tar holding one {@code var/lib/dpkg/status} of {@code size} bytes, produced lazily. */
  private static final class GeneratedStatusTar extends InputStream {
    private static final byte[] STANZA = ("Package: pkg\nStatus: install ok installed\nVersion: 1.0-1\n"
        + "Description: a generated package\n with a continuation line\n\n").getBytes(StandardCharsets.UTF_8);
    private final byte[] header = new byte[512];
    private final long total;
    private final long contentEnd;
    private long pos;

    GeneratedStatusTar(long size) throws IOException {
      TarArchiveEntry e = new TarArchiveEntry("var/lib/dpkg/status");
      e.setSize(size);
      e.writeEntryHeader(header);
      contentEnd = 512 + size;
      total = length(size);
    }

    static long length(long size) {
      return 512 + (size + 511) / 512 * 512 + 1024;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= total) {
        return -1;
      }
      int n = (int) Math.min(len, total - pos);
      for (int i = 0; i < n; i++, pos++) {
        if (pos < 512) {
          b[off + i] = header[(int) pos];
        } else if (pos < contentEnd) {
          b[off + i] = STANZA[(int) ((pos - 512) % STANZA.length)];
        } else {
          b[off + i] = 0;
        }
      }
      return n;
    }
  }

  @Test
  void corruptedNestedJarIsSkippedWithANote() throws Exception {
    byte[] good = jar(pomPath("g", "good"), pom("g", "good", "1.0"));
    byte[] broken = jar(pomPath("g", "broken"), pom("g", "broken", "1.0"), "big.bin", new byte[100_000]);
    broken = Arrays.copyOf(broken, 200); // a local header, then the data cut short
    byte[] outer = jar(pomPath("g", "app"), pom("g", "app", "3.0"), "lib/broken.jar", broken, "lib/good.jar", good);
    LayerInventory l = read(layer().file("app.jar", outer, 0644).gzip());
    assertEquals(List.of("MAVEN g:app 3.0", "MAVEN g:good 1.0"), names(l.allPackages()));
    assertEquals(1, l.notes().size(), l.notes().toString());
    assertEquals("app.jar!/lib/broken.jar", l.notes().get(0).path());
    assertTrue(l.notes().get(0).message().startsWith("nested archive skipped"), l.notes().toString());
  }

  @Test
  void corruptedOuterJarIsSkippedWithANote() throws Exception {
    byte[] outer = jar(pomPath("g", "first"), pom("g", "first", "1.0"), "pad.bin", new byte[50_000],
        pomPath("g", "second"), pom("g", "second", "1.0"));
    byte[] cut = Arrays.copyOf(outer, 400);
    LayerInventory l = read(layer().file("cut.jar", cut, 0644).file("etc/os-release", "ID=debian\n").gzip());
    assertEquals(List.of(), names(l.allPackages()));
    assertEquals(List.of(), l.packages().get("cut.jar"));
    assertEquals("cut.jar", l.notes().get(0).path());
    assertEquals("debian", l.os().id());
  }

  @Test
  void nestedJarOverItsLimitAndZipBombsAreBounded() throws Exception {
    byte[] noise = new byte[(int) (2 * MIB)];
    new Random(7).nextBytes(noise); // incompressible: the nested jar is 2 MiB as stored in the outer one
    byte[] bigInner = jar(pomPath("g", "big"), pom("g", "big", "1.0"), "blob.bin", noise);
    byte[] bomb = jar(pomPath("g", "first"), pom("g", "first", "1.0"), "zeros.bin", new byte[(int) (64 * MIB)],
        pomPath("g", "after"), pom("g", "after", "1.0"));
    LayerInventory l = readWith(layer()
        .file("a.jar", jar(pomPath("g", "a"), pom("g", "a", "1.0"), "lib/big.jar", bigInner), 0644)
        .file("bomb.jar", bomb, 0644)
        .gzip(), ScanLimits.DEFAULTS.withMaxNestedArchiveBytes(MIB).withMaxArchiveInflatedBytes(16 * MIB));
    assertTrue(bomb.length < MIB);
    assertEquals(List.of("MAVEN g:a 1.0"), names(l.allPackages()));
    assertEquals(List.of("a.jar!/lib/big.jar", "bomb.jar"), l.notes().stream().map(ScanNote::path).toList());
  }

  private static LayerInventory readWith(byte[] layer, ScanLimits limits) throws ScanException {
    return LayerInventory.read(new ByteArrayInputStream(layer), limits);
  }

  @Test
  void theCounterShowsTheBytesOfTheBlob() throws Exception {
    byte[] gz = layer().file("etc/os-release", "ID=debian\n").file("x/y", new byte[10_000], 0644).gzip();
    LayerInventory l = read(gz);
    assertEquals(gz.length, l.bytesRead());
    byte[] tar = layer().file("etc/os-release", "ID=debian\n").tar();
    assertEquals(tar.length, read(tar).bytesRead());
    assertEquals(tar.length, read(tar).uncompressedBytes());
  }


  @Test
  void aPackageDatabaseOverItsLimitFailsTheLayer() throws Exception {
    byte[] l = layer().file("etc/os-release", "ID=debian\n").file("var/lib/dpkg/status", DPKG_STATUS).gzip();
    ScanException e = fails(l, ScanLimits.DEFAULTS.withMaxDatabaseFileBytes(16));
    assertEquals(ScanException.Reason.TOO_LARGE, e.reason());
    assertTrue(e.getMessage().contains("var/lib/dpkg/status"), e.getMessage());
    // a metadata file over its limit is only skipped, with a note
    byte[] pkg = layer().file("app/node_modules/x/package.json", "{\"name\":\"x\",\"version\":\"1.0.0\"}").gzip();
    LayerInventory ok = LayerInventory.read(new ByteArrayInputStream(pkg), ScanLimits.DEFAULTS.withMaxMetadataFileBytes(8));
    assertEquals(List.of(), ok.allPackages());
    assertEquals(1, ok.notes().size(), ok.notes().toString());
  }
}
