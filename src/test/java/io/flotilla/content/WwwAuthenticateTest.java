package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class WwwAuthenticateTest {
  private static List<WwwAuthenticate> parse(String... headers) {
    return WwwAuthenticate.parse(Arrays.asList(headers));
  }

  @Test
  void readsADockerBearerChallengeWithACommaInTheScope() {
    var c = parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
        + "scope=\"repository:library/alpine:pull,push\"");
    assertEquals(1, c.size());
    assertEquals("Bearer", c.get(0).scheme());
    assertEquals("https://auth.docker.io/token", c.get(0).param("realm"));
    assertEquals("registry.docker.io", c.get(0).param("service"));
    assertEquals("repository:library/alpine:pull,push", c.get(0).param("scope"));
  }

  @Test
  void readsSeveralChallengesSpacesEscapesAndBareValues() {
    var c = parse("Basic realm=\"a \\\"quoted\\\" realm\" , Bearer  realm = https://x.example/token , SERVICE=\"s\"",
        "Negotiate abc==, Digest realm=\"d\", nonce=\"n,1\"");
    assertEquals(List.of("Basic", "Bearer", "Negotiate", "Digest"), c.stream().map(WwwAuthenticate::scheme).toList());
    assertEquals("a \"quoted\" realm", c.get(0).param("realm"));
    assertEquals("https://x.example/token", c.get(1).param("realm"));
    assertEquals("s", c.get(1).param("service"));
    assertEquals("n,1", c.get(3).param("nonce"));
    assertEquals("Bearer", WwwAuthenticate.find(c, "bearer").scheme());
    assertNull(WwwAuthenticate.find(c, "Mutual"));
  }

  @Test
  void nothingUsableFromGarbage() {
    assertEquals(List.of(), parse("", "   ", ",,,", "\"quoted\" start"));
    var c = parse("Bearer realm=\"unterminated");
    assertEquals("unterminated", c.get(0).param("realm"));
    assertEquals(List.of(), WwwAuthenticate.parse(java.util.Collections.singletonList(null)));
  }
}
