package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class EcosystemTest {

  @Test
  void osvNamesWithReleases() {
    assertEquals(Optional.of(Ecosystem.DEBIAN), Ecosystem.ofOsv("Debian:12"));
    assertEquals(Optional.of(Ecosystem.DEBIAN), Ecosystem.ofOsv("Debian"));
    assertEquals(Optional.of(Ecosystem.UBUNTU), Ecosystem.ofOsv("Ubuntu:Pro:18.04:LTS"));
    assertEquals(Optional.of(Ecosystem.ALPINE), Ecosystem.ofOsv("Alpine:v3.19"));
    assertEquals(Optional.of(Ecosystem.PYPI), Ecosystem.ofOsv("PyPI"));
    assertEquals(Optional.of(Ecosystem.MAVEN), Ecosystem.ofOsv("Maven"));
    assertEquals(Optional.of(Ecosystem.NPM), Ecosystem.ofOsv("npm"));
    assertEquals(Optional.of(Ecosystem.GO), Ecosystem.ofOsv("Go"));
    assertEquals(Optional.empty(), Ecosystem.ofOsv("NPM"));
    assertEquals(Optional.empty(), Ecosystem.ofOsv("crates.io"));
    assertEquals(Optional.empty(), Ecosystem.ofOsv(null));
    assertEquals("12", Ecosystem.osvRelease("Debian:12"));
    assertEquals("Pro:18.04:LTS", Ecosystem.osvRelease("Ubuntu:Pro:18.04:LTS"));
    assertEquals("", Ecosystem.osvRelease("PyPI"));
  }

  @Test
  void comparators() {
    assertSame(Ecosystem.DEBIAN.comparator(), Ecosystem.UBUNTU.comparator());
    assertSame(Ecosystem.NPM.comparator(), Ecosystem.GO.comparator());
    assertEquals(DebianComparator.class, Ecosystem.DEBIAN.comparator().getClass());
    assertEquals(ApkComparator.class, Ecosystem.ALPINE.comparator().getClass());
    assertEquals(Pep440Comparator.class, Ecosystem.PYPI.comparator().getClass());
    assertEquals(MavenComparator.class, Ecosystem.MAVEN.comparator().getClass());
    assertEquals(SemverComparator.class, Ecosystem.semver().getClass());
  }
}
