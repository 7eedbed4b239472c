package io.flotilla.content;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A repository version frozen for serving. Its id follows from the repository and the version, so
 * publishing a version twice, on any node, gives the same publication.
 */
public record Publication(String id, String repository, int version, long created) {
  public static final String KIND = "publication";

  /** The id of the publication of {@code version} of {@code repository}. */
  public static String idOf(String repository, int version) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256")
          .digest((repository + "@" + version).getBytes(StandardCharsets.UTF_8));
      return "pub-" + HexFormat.of().formatHex(h, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
