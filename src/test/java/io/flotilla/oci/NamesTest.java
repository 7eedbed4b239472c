package io.flotilla.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {
  @ParameterizedTest
  @ValueSource(strings = {"a", "library/ubuntu", "a/b/c/d", "my-repo", "my__repo", "my.repo", "a--b", "x9/y_z"})
  void acceptsValidNames(String s) {
    assertEquals(s, RepositoryName.of(s).value());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "A", "a/", "/a", "a//b", "..", "a/../b", "a/./b", "_meta", "a/_meta", "-a", "a-",
      "a_", "a___b", "a..b", "a b", "a%2fb", "ubuntu:latest"})
  void rejectsInvalidNames(String s) {
    OciException e = assertThrows(OciException.class, () -> RepositoryName.of(s));
    assertEquals(OciError.NAME_INVALID, e.error());
  }

  @Test
  void rejectsOverlongNames() {
    assertThrows(OciException.class, () -> RepositoryName.of("a".repeat(256)));
    assertEquals(255, RepositoryName.of("a".repeat(255)).value().length());
  }

  @Test
  void tagsFollowTheSpec() {
    assertTrue(Tag.isValid("latest"));
    assertTrue(Tag.isValid("_x"));
    assertTrue(Tag.isValid("v1.2.3-rc_1"));
    assertTrue(Tag.isValid("a".repeat(128)));
    assertTrue(!Tag.isValid("a".repeat(129)));
    assertTrue(!Tag.isValid(".hidden"));
    assertTrue(!Tag.isValid("-x"));
    assertTrue(!Tag.isValid("a/b"));
    assertEquals(OciError.TAG_INVALID, assertThrows(OciException.class, () -> Reference.parse("..")).error());
  }

  @Test
  void referenceIsTagOrDigest() {
    assertTrue(Reference.parse("sha256:" + "a".repeat(64)).isDigest());
    assertTrue(!Reference.parse("v1").isDigest());
    assertEquals(OciError.DIGEST_INVALID, assertThrows(OciException.class, () -> Reference.parse("sha256:xyz")).error());
  }
}
