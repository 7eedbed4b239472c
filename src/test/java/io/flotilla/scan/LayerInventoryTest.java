package io.flotilla.scan;

import static io.flotilla.scan.LayerBuilder.jar;
import static io.flotilla.scan.LayerBuilder.layer;
import static io.flotilla.scan.LayerBuilder.pom;
import static io.flotilla.scan.LayerBuilder.pomPath;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What each analyzer reads from a layer built in memory. */
class LayerInventoryTest {
  static LayerInventory read(byte[] layer) throws ScanException {
    return LayerInventory.read(new ByteArrayInputStream(layer), ScanLimits.DEFAULTS);
  }

  static List<String> names(List<InstalledPackage> packages) {
    return packages.stream().map(p -> p.type() + " " + p.name() + " " + p.version()).toList();
  }

  @Test
  void debianOsRelease() throws Exception {
    LayerInventory l = read(layer()
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
            + "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n")
        .file("etc/debian_version", "12.5\n")
        .gzip());
    assertEquals(new OsRelease("debian", "12", "bookworm", "usr/lib/os-release"), l.os());
    assertEquals(Set.of("etc/os-release", "usr/lib/os-release", "etc/debian_version"), l.osFiles().keySet());
    assertEquals(new OsRelease("debian", "12.5", "", "etc/debian_version"), l.osFiles().get("etc/debian_version"));
    assertTrue(l.bytesRead() > 0 && l.uncompressedBytes() > l.bytesRead(), l.toString());
  }

  @Test
  void alpineOsReleaseAndApk() throws Exception {
    LayerInventory l = read(layer()
        .file("./etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"
            + "PRETTY_NAME=\"Alpine Linux v3.19\"\n")
        .file("./etc/alpine-release", "3.19.1\n")
        .file("./lib/apk/db/installed", """
            C:Q1abc=
            P:musl
            V:1.2.4_git20230717-r4
            A:x86_64
            S:383152
            o:musl
            F:lib
            R:libc.musl-x86_64.so.1

            C:Q1def=
            P:libcrypto3
            V:3.1.4-r5
            A:x86_64
            o:openssl

            P:no-version
            """)
        .tar());
    assertEquals(new OsRelease("alpine", "3.19.1", "", "etc/os-release"), l.os());
    assertEquals(List.of(
        new InstalledPackage(PackageType.APK, "libcrypto3", "3.1.4-r5", "openssl", "3.1.4-r5", "x86_64",
            "lib/apk/db/installed"),
        new InstalledPackage(PackageType.APK, "musl", "1.2.4_git20230717-r4", "musl", "1.2.4_git20230717-r4",
            "x86_64", "lib/apk/db/installed")), l.allPackages());
  }

  static final String DPKG_STATUS = """
      Package: libc6
      Status: install ok installed
      Priority: optional
      Architecture: amd64
      Source: glibc
      Version: 2.36-9+deb12u4
      Description: GNU C Library: Shared libraries
       Package: not-a-field
       .
       more description

      Package: oldpkg
      Status: deinstall ok config-files
      Architecture: amd64
      Version: 1.0-1

      Package: gone
      Status: purge ok not-installed
      Version: 2.0-1

      package: openssl
      status: install ok installed
      version: 3.0.11-1~deb12u2
      architecture: amd64

      Package: libfoo1
      Status: install ok installed
      Architecture: amd64
      Source: foo (1:1.2-3)
      Version: 1:1.2-3+b1
      """;

  @Test
  void dpkgStatus() throws Exception {
    LayerInventory l = read(layer().file("var/lib/dpkg/status", DPKG_STATUS).gzip());
    String p = "var/lib/dpkg/status";
    assertEquals(List.of(
        new InstalledPackage(PackageType.DEB, "libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4", "amd64", p),
        new InstalledPackage(PackageType.DEB, "libfoo1", "1:1.2-3+b1", "foo", "1:1.2-3", "amd64", p),
        new InstalledPackage(PackageType.DEB, "openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2",
            "amd64", p)), l.allPackages());
  }

  @Test
  void distrolessStatusD() throws Exception {
    LayerInventory l = read(layer()
        .dir("var/lib/dpkg/status.d")
        .file("var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n")
        .file("var/lib/dpkg/status.d/base-files.md5sums", "d41d8cd98f00b204e9800998ecf8427e  etc/issue\n")
        .file("var/lib/dpkg/status.d/tzdata", "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"
            + "Status: install ok installed\n")
        .file("var/lib/dpkg/status.d/sub/x", "Package: nested\nVersion: 1\n")
        .tar());
    assertEquals(List.of("DEB base-files 12.4+deb12u5", "DEB tzdata 2024a-0+deb12u1"), names(l.allPackages()));
    assertEquals(Set.of("var/lib/dpkg/status.d/base-files", "var/lib/dpkg/status.d/tzdata"), l.packages().keySet());
  }

  @Test
  void javaArchivesWithNestedJars() throws Exception {
    byte[] deep = jar(pomPath("deep", "deep"), pom("deep", "deep", "9.9"));
    byte[] inner = jar(pomPath("org.example", "inner"), pom("org.example", "inner", "1.2.3"),
        "lib/deep.jar", deep);
    byte[] manifestOnly = jar("META-INF/MANIFEST.MF",
        "Manifest-Version: 1.0\r\nImplementation-Title: legacy-lib\r\nImplementation-Version: 0.9\r\n\r\n");
    byte[] manifestAndPom = jar("META-INF/MANIFEST.MF",
        "Manifest-Version: 1.0\nImplementation-Title: ignored\nImplementation-Version: 7\n\n",
        pomPath("com.acme", "both"), pom("com.acme", "both", "2.0"));
    byte[] war = jar(pomPath("com.acme", "shop"), pom("com.acme", "shop", "5.0.0"),
        "WEB-INF/classes/Shop.class", new byte[100],
        "WEB-INF/lib/inner.jar", inner,
        "WEB-INF/lib/legacy.jar", manifestOnly,
        "WEB-INF/lib/both.jar", manifestAndPom);
    LayerInventory l = read(layer().file("srv/shop.war", war, 0644).gzip());
    assertEquals(List.of(
        new InstalledPackage(PackageType.MAVEN, "com.acme:both", "2.0", "", "", "", "srv/shop.war!/WEB-INF/lib/both.jar"),
        new InstalledPackage(PackageType.MAVEN, "com.acme:shop", "5.0.0", "", "", "", "srv/shop.war"),
        new InstalledPackage(PackageType.MAVEN, "legacy-lib", "0.9", "", "", "", "srv/shop.war!/WEB-INF/lib/legacy.jar"),
        new InstalledPackage(PackageType.MAVEN, "org.example:inner", "1.2.3", "", "", "",
            "srv/shop.war!/WEB-INF/lib/inner.jar")), l.allPackages());
    assertEquals(List.of(), l.notes());
  }

  @Test
  void npmLockfilesAndPackageJson() throws Exception {
    String v3 = """
        {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
         "packages": {
          "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "^4"}},
          "node_modules/lodash": {"version": "4.17.20", "resolved": "https://r/lodash.tgz", "integrity": "sha512-x"},
          "node_modules/@types/node": {"version": "20.1.0", "dev": true, "engines": {"node": ">=8"}},
          "node_modules/a/node_modules/lodash": {"version": "3.10.1"},
          "node_modules/alias": {"name": "real-pkg", "version": "2.0.0"},
          "node_modules/ws": {"resolved": "packages/ws", "link": true},
          "packages/ws": {"name": "ws", "version": "0.0.1"}
         }}
        """;
    String v1 = """
        {"name": "old", "lockfileVersion": 1,
         "dependencies": {
          "debug": {"version": "2.6.9", "requires": {"ms": "2.0.0"},
                    "dependencies": {"ms": {"version": "2.0.0"}}},
          "ms": {"version": "2.1.3"}
         }}
        """;
    LayerInventory l = read(layer()
        .file("app/package-lock.json", v3)
        .file("old/package-lock.json", v1)
        .file("app/node_modules/.package-lock.json", v1)
        .file("app/node_modules/express/package.json",
            "{\"name\": \"express\", \"version\": \"4.18.2\", \"dependencies\": {\"x\": \"1\"}, \"files\": [\"a\"]}")
        .file("app/node_modules/express/lib/package.json", "{\"name\": \"inner\", \"version\": \"1\"}")
        .file("app/node_modules/@babel/core/package.json", "{\"version\": \"7.22.0\", \"name\": \"@babel/core\"}")
        .file("app/node_modules/express/node_modules/debug/package.json", "{\"name\": \"debug\", \"version\": \"2.6.9\"}")
        .file("app/node_modules/broken/package.json", "{\"name\": \"broken\", ")
        .tar());
    assertEquals(List.of("NPM @babel/core 7.22.0", "NPM @types/node 20.1.0", "NPM debug 2.6.9", "NPM debug 2.6.9",
        "NPM express 4.18.2", "NPM lodash 3.10.1", "NPM lodash 4.17.20", "NPM ms 2.0.0", "NPM ms 2.1.3",
        "NPM real-pkg 2.0.0"), names(l.allPackages()));
    assertEquals(1, l.notes().size(), l.notes().toString());
    assertEquals("app/node_modules/broken/package.json", l.notes().get(0).path());
    assertEquals(List.of(), l.packages().get("app/node_modules/broken/package.json"));
  }

  @Test
  void pythonMetadata() throws Exception {
    LayerInventory l = read(layer()
        .file("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: HTTP\n\nName: not-this\nVersion: 0\n")
        .file("usr/lib/python3.11/site-packages/six-1.16.0.egg-info/PKG-INFO",
            "Metadata-Version: 1.1\r\nName: six\r\nVersion: 1.16.0\r\n")
        .file("usr/lib/python3.11/site-packages/oldstyle-0.1.egg-info", "Name: oldstyle\nVersion: 0.1\n")
        .file("usr/lib/python3.11/site-packages/x.dist-info/RECORD", "Name: no\nVersion: 1\n")
        .gzip());
    assertEquals(List.of("PYPI oldstyle 0.1", "PYPI requests 2.31.0", "PYPI six 1.16.0"), names(l.allPackages()));
  }

  static final byte[] SENTINEL_START = {0x30, 0x77, (byte) 0xaf, 0x0c, (byte) 0x92, 0x74, 0x08, 0x02, 0x41,
      (byte) 0xe1, (byte) 0xc1, 0x07, (byte) 0xe6, (byte) 0xd6, 0x18, (byte) 0xe6};
  static final byte[] SENTINEL_END = {(byte) 0xf9, 0x32, 0x43, 0x31, (byte) 0x86, 0x18, 0x20, 0x72, 0x00,
      (byte) 0x82, 0x42, 0x10, 0x41, 0x16, (byte) 0xd8, (byte) 0xf2};

  /**
   * A fake ELF executable holding a Go 1.18+ build-information blob, crafted by hand because the tests do
   * not depend on a Go toolchain: {@code \x7fELF}, filler, then at {@code offset} (16-aligned) the 32-byte
   * header (magic, pointer size 8, flags 2 = inline strings, 16 zero bytes), the uvarint-prefixed Go
   * version, and the uvarint-prefixed module information framed by Go's 16-byte sentinels.
   */
  static byte[] goBinary(int offset, String goVersion, String modinfo) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
    byte[] filler = new byte[offset - 8];
    for (int i = 0; i < filler.length; i++) {
      filler[i] = (byte) (i * 31 + 7);
    }
    b.writeBytes(filler);
    b.writeBytes(GoBinaryAnalyzer.MAGIC);
    b.write(8);
    b.write(2);
    b.writeBytes(new byte[16]);
    byte[] v = goVersion.getBytes(StandardCharsets.UTF_8);
    uvarint(b, v.length);
    b.writeBytes(v);
    byte[] text = modinfo.getBytes(StandardCharsets.UTF_8);
    uvarint(b, text.length + 32);
    b.writeBytes(SENTINEL_START);
    b.writeBytes(text);
    b.writeBytes(SENTINEL_END);
    b.writeBytes(new byte[5000]);
    return b.toByteArray();
  }

  private static void uvarint(ByteArrayOutputStream b, long v) {
    while (v >= 0x80) {
      b.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b.write((int) v);
  }

  static final String MODINFO = "path\texample.com/app/cmd/server\n"
      + "mod\texample.com/app\t(devel)\t\n"
      + "dep\tgithub.com/google/uuid\tv1.3.0\th1:abc=\n"
      + "dep\tgolang.org/x/net\tv0.10.0\th1:def=\n"
      + "=>\tgolang.org/x/net\tv0.17.0\th1:ghi=\n"
      + "dep\texample.com/local\tv1.0.0\t\n"
      + "=>\t../local\t\t\n"
      + "build\t-compiler=gc\n"
      + "build\tGOOS=linux\n";

  @Test
  void goBuildInfoInHandCraftedElf() throws Exception {
    byte[] binary = goBinary(4096, "go1.21.5", MODINFO);
    // the header straddling the 64 KiB read chunk, and a decoy magic (bad pointer size) aligned before it
    byte[] straddling = goBinary(65536 - 16, "go1.22.0 X:boringcrypto", "mod\texample.com/tool\tv0.3.1\th1:x=\n");
    System.arraycopy(GoBinaryAnalyzer.MAGIC, 0, straddling, 1024, GoBinaryAnalyzer.MAGIC.length);
    // a magic at an unaligned offset is not build information
    byte[] unaligned = goBinary(4096 + 8, "go1.21.5", MODINFO);
    LayerInventory l = read(layer()
        .file("usr/local/bin/server", binary, 0755)
        .file("usr/local/bin/tool", straddling, 0750)
        .file("usr/local/bin/unaligned", unaligned, 0755)
        .file("usr/share/doc/server.bin", binary, 0644) // not executable: not searched
        .file("usr/local/bin/script", "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), 0755)
        .gzip());
    String s = "usr/local/bin/server";
    assertEquals(List.of(
        InstalledPackage.of(PackageType.GO, "example.com/tool", "v0.3.1", "usr/local/bin/tool"),
        InstalledPackage.of(PackageType.GO, "github.com/google/uuid", "v1.3.0", s),
        InstalledPackage.of(PackageType.GO, "golang.org/x/net", "v0.17.0", s),
        InstalledPackage.of(PackageType.GO, "stdlib", "v1.21.5", s),
        InstalledPackage.of(PackageType.GO, "stdlib", "v1.22.0", "usr/local/bin/tool")), l.allPackages());
    assertEquals(Set.of("usr/local/bin/server", "usr/local/bin/tool"), l.packages().keySet());
  }

  @Test
  void whiteoutsAndOpaqueDirectoriesAreRecorded() throws Exception {
    LayerInventory l = read(layer()
        .whiteout("var/lib/dpkg/status")
        .opaque("opt/app")
        .opaque("")
        .file("etc/.wh..wh.plnk", "")
        .whiteout("usr/lib/python3")
        .gzip());
    assertEquals(Set.of("var/lib/dpkg/status", "usr/lib/python3"), l.whiteouts());
    assertEquals(Set.of("opt/app", ""), l.opaqueDirs());
    assertEquals(List.of(), l.allPackages());
  }

  @Test
  void pathsAreNormalizedAndEscapesRejected() {
    assertEquals("etc/os-release", LayerReader.normalize("./etc/os-release"));
    assertEquals("etc/os-release", LayerReader.normalize("etc//./os-release/"));
    assertEquals("", LayerReader.normalize("./"));
    assertEquals(null, LayerReader.normalize("../../etc/passwd"));
    assertEquals(null, LayerReader.normalize("var/../../etc/passwd"));
    assertEquals(null, LayerReader.normalize("var/lib/.."));
    assertEquals(null, LayerReader.normalize("/etc/passwd"));
    assertEquals("a/..b/c..", LayerReader.normalize("a/..b/c.."));
  }
}
