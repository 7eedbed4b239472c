package io.flotilla.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** The digest algorithms the registry verifies content with, and the shape of their hex encoding. */
public enum DigestAlgorithm {
  SHA256("sha256", "SHA-256", 64),
  SHA512("sha512", "SHA-512", 128);

  private final String id;
  private final String jcaName;
  private final int hexLength;

  DigestAlgorithm(String id, String jcaName, int hexLength) {
    this.id = id;
    this.jcaName = jcaName;
    this.hexLength = hexLength;
  }

  /** The algorithm identifier as it appears in a digest string, e.g. {@code sha256}. */
  public String id() {
    return id;
  }

  public int hexLength() {
    return hexLength;
  }

  /** A fresh hasher; callers own it and use it from one thread at a time. */
  public MessageDigest newHasher() {
    try {
      return MessageDigest.getInstance(jcaName);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("JVM lacks " + jcaName, e);
    }
  }

  /** Looks an algorithm up by identifier, or returns null when it is not supported. */
  public static DigestAlgorithm byId(String id) {
    for (DigestAlgorithm a : values()) {
      if (a.id.equals(id)) {
        return a;
      }
    }
    return null;
  }
}
