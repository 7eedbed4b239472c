package io.flotilla.oci;

import java.util.HexFormat;

/**
 * A validated content digest such as {@code sha256:e3b0...}. Only lower-case hex of the exact length
 * for a supported algorithm is accepted, so a digest is always safe to use as a file name.
 */
public record Digest(DigestAlgorithm algorithm, String hex) implements Comparable<Digest> {
  private static final HexFormat HEX = HexFormat.of();

  public Digest {
    if (algorithm == null || hex == null || hex.length() != algorithm.hexLength() || !isLowerHex(hex)) {
      throw OciError.DIGEST_INVALID.with("invalid digest");
    }
  }

  /** Parses {@code algorithm:hex}; throws DIGEST_INVALID for anything else. */
  public static Digest parse(String s) {
    if (s == null) {
      throw OciError.DIGEST_INVALID.with("missing digest");
    }
    int colon = s.indexOf(':');
    if (colon <= 0) {
      throw OciError.DIGEST_INVALID.with("invalid digest: " + abbreviate(s));
    }
    DigestAlgorithm algorithm = DigestAlgorithm.byId(s.substring(0, colon));
    if (algorithm == null) {
      throw OciError.DIGEST_INVALID.with("unsupported digest algorithm: " + abbreviate(s));
    }
    String hex = s.substring(colon + 1);
    if (hex.length() != algorithm.hexLength() || !isLowerHex(hex)) {
      throw OciError.DIGEST_INVALID.with("invalid digest: " + abbreviate(s));
    }
    return new Digest(algorithm, hex);
  }

  /** True if the string has the syntax of a digest (used to tell digests from tags). */
  public static boolean looksLikeDigest(String s) {
    return s != null && s.indexOf(':') > 0;
  }

  /** Digest of an in-memory byte array (manifests, small test fixtures). */
  public static Digest of(DigestAlgorithm algorithm, byte[] content) {
    return new Digest(algorithm, HEX.formatHex(algorithm.newHasher().digest(content)));
  }

  public static Digest sha256(byte[] content) {
    return of(DigestAlgorithm.SHA256, content);
  }

  /** Builds a digest from a finished hasher's raw output. */
  public static Digest fromBytes(DigestAlgorithm algorithm, byte[] raw) {
    return new Digest(algorithm, HEX.formatHex(raw));
  }

  @Override
  public String toString() {
    return algorithm.id() + ":" + hex;
  }

  @Override
  public int compareTo(Digest o) {
    return toString().compareTo(o.toString());
  }

  private static boolean isLowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
