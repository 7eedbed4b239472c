package io.flotilla.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DigestTest {
  @Test
  void sha256OfKnownContent() {
    assertEquals("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        Digest.sha256(new byte[0]).toString());
    assertEquals("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        Digest.sha256("{}".getBytes(StandardCharsets.UTF_8)).toString());
  }

  @Test
  void parsesSha512() {
    Digest d = Digest.of(DigestAlgorithm.SHA512, new byte[] {1, 2, 3});
    assertEquals(d, Digest.parse(d.toString()));
    assertEquals(128, d.hex().length());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "sha256", "sha256:", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "sha256:../../../../etc/passwd00000000000000000000000000000000000000000",
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85z", ":abc"})
  void rejectsMalformed(String s) {
    OciException e = assertThrows(OciException.class, () -> Digest.parse(s));
    assertEquals(OciError.DIGEST_INVALID, e.error());
  }

  @Test
  void tellsDigestsFromTags() {
    assertTrue(Digest.looksLikeDigest("sha256:abc"));
    assertTrue(!Digest.looksLikeDigest("latest"));
  }
}
