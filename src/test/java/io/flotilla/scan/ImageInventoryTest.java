package io.flotilla.scan;

import static io.flotilla.scan.LayerBuilder.jar;
import static io.flotilla.scan.LayerBuilder.layer;
import static io.flotilla.scan.LayerBuilder.pom;
import static io.flotilla.scan.LayerBuilder.pomPath;
import static io.flotilla.scan.LayerInventoryTest.DPKG_STATUS;
import static io.flotilla.scan.LayerInventoryTest.names;
import static io.flotilla.scan.LayerInventoryTest.read;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Layers applied in order: replacement by path, whiteouts, opaque directories, the OS. */
class ImageInventoryTest {
  private static final String DEBIAN = "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

  private static LayerInventory base() throws ScanException {
    return read(layer()
        .file("etc/os-release", DEBIAN)
        .file("var/lib/dpkg/status", DPKG_STATUS)
        .file("opt/tools/lib/tool.jar", jar(pomPath("t", "tool"), pom("t", "tool", "1.0")), 0644)
        .file("opt/tools/keep.jar", jar(pomPath("t", "keep"), pom("t", "keep", "1.0")), 0644)
        .file("app/lib/a.jar", jar(pomPath("g", "a"), pom("g", "a", "1.0")), 0644)
        .file("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "Name: six\nVersion: 1.16.0\n")
        .gzip());
  }

  @Test
  void baseLayerAlone() throws Exception {
    ImageInventory image = ImageInventory.squash(List.of(base()));
    assertEquals(new OsRelease("debian", "12", "bookworm", "etc/os-release"), image.os());
    assertEquals(List.of("DEB libc6 2.36-9+deb12u4", "DEB libfoo1 1:1.2-3+b1", "DEB openssl 3.0.11-1~deb12u2",
        "MAVEN g:a 1.0", "MAVEN t:keep 1.0", "MAVEN t:tool 1.0", "PYPI six 1.16.0"), names(image.packages()));
  }

  @Test
  void whiteoutRemovesTheDpkgStatusAndOpaqueDirectoryHidesLowerContents() throws Exception {
    LayerInventory upper = read(layer()
        .whiteout("var/lib/dpkg/status")
        .opaque("opt/tools")
        .file("opt/tools/new.jar", jar(pomPath("t", "new"), pom("t", "new", "2.0")), 0644)
        .gzip());
    ImageInventory image = ImageInventory.squash(List.of(base(), upper));
    assertEquals(List.of("MAVEN g:a 1.0", "MAVEN t:new 2.0", "PYPI six 1.16.0"), names(image.packages()));
    assertEquals("debian", image.os().id());
  }

  @Test
  void directoryWhiteoutRemovesEverythingBelowAndLaterFilesReplaceByPath() throws Exception {
    LayerInventory upper = read(layer()
        .whiteout("usr/lib/python3")
        .file("app/lib/a.jar", jar(pomPath("g", "a"), pom("g", "a", "1.1")), 0644)
        .file("var/lib/dpkg/status", "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u7\n")
        .gzip());
    ImageInventory image = ImageInventory.squash(List.of(base(), upper));
    assertEquals(List.of("DEB libc6 2.36-9+deb12u7", "MAVEN g:a 1.1", "MAVEN t:keep 1.0", "MAVEN t:tool 1.0"),
        names(image.packages()));
  }

  @Test
  void aLayersWhiteoutsNeverTouchItsOwnFiles() throws Exception {
    LayerInventory upper = read(layer()
        .file("app/lib/a.jar", jar(pomPath("g", "a"), pom("g", "a", "3.0")), 0644)
        .whiteout("app/lib/a.jar")
        .opaque("app")
        .gzip());
    ImageInventory image = ImageInventory.squash(List.of(base(), upper));
    assertEquals(List.of("DEB libc6 2.36-9+deb12u4", "DEB libfoo1 1:1.2-3+b1", "DEB openssl 3.0.11-1~deb12u2",
        "MAVEN g:a 3.0", "MAVEN t:keep 1.0", "MAVEN t:tool 1.0", "PYPI six 1.16.0"), names(image.packages()));
  }

  @Test
  void aWhiteoutInALowerLayerDoesNotRemoveAHigherFile() throws Exception {
    LayerInventory middle = read(layer().whiteout("app").gzip());
    LayerInventory top = read(layer().file("app/lib/a.jar", jar(pomPath("g", "a"), pom("g", "a", "4.0")), 0644)
        .gzip());
    ImageInventory image = ImageInventory.squash(List.of(base(), middle, top));
    assertEquals(List.of("MAVEN g:a 4.0"), names(image.packages()).stream().filter(n -> n.contains("g:a")).toList());
  }

  @Test
  void osIsTheHighestOsReleaseThenTheFallbacks() throws Exception {
    LayerInventory ubuntu = read(layer().file("etc/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\n"
        + "VERSION_CODENAME=jammy\n").gzip());
    LayerInventory versionFileOnly = read(layer().file("etc/debian_version", "12.6\n").gzip());
    assertEquals("ubuntu", ImageInventory.squash(List.of(base(), ubuntu)).os().id());
    // an os-release file outranks a later fallback file
    assertEquals(new OsRelease("debian", "12", "bookworm", "etc/os-release"),
        ImageInventory.squash(List.of(base(), versionFileOnly)).os());
    // with the os-release file deleted, the fallback is all there is
    LayerInventory delete = read(layer().whiteout("etc/os-release").gzip());
    assertEquals(new OsRelease("debian", "12.6", "", "etc/debian_version"),
        ImageInventory.squash(List.of(base(), versionFileOnly, delete)).os());
    // a symlink over the os-release file hides it too
    LayerInventory link = read(layer().symlink("etc/os-release", "../usr/lib/os-release").gzip());
    assertEquals(OsRelease.UNKNOWN, ImageInventory.squash(List.of(base(), link)).os());
    assertEquals(OsRelease.UNKNOWN, ImageInventory.squash(List.of()).os());
  }

  @Test
  void rootOpaqueDirectoryHidesEveryLowerFile() {
    LayerInventory lower = inventory(Map.of("a/x.jar", List.of(pkg("x", "a/x.jar")), "b/y.jar",
        List.of(pkg("y", "b/y.jar")), "bb.jar", List.of(pkg("bb", "bb.jar"))), Set.of(), Set.of());
    LayerInventory upper = inventory(Map.of("c/z.jar", List.of(pkg("z", "c/z.jar"))), Set.of(), Set.of(""));
    assertEquals(List.of("MAVEN z 1"), names(ImageInventory.squash(List.of(lower, upper)).packages()));
    // "b" is a prefix of "bb.jar" but not its directory
    LayerInventory whiteoutB = inventory(Map.of(), Set.of("b"), Set.of());
    assertEquals(List.of("MAVEN bb 1", "MAVEN x 1"), names(ImageInventory.squash(List.of(lower, whiteoutB)).packages()));
  }

  private static InstalledPackage pkg(String name, String path) {
    return InstalledPackage.of(PackageType.MAVEN, name, "1", path);
  }

  private static LayerInventory inventory(Map<String, List<InstalledPackage>> packages, Set<String> whiteouts,
      Set<String> opaque) {
    return new LayerInventory(new TreeMap<>(packages), new TreeMap<>(), new TreeSet<>(whiteouts),
        new TreeSet<>(opaque), List.of(), 0, 0, 0);
  }
}
