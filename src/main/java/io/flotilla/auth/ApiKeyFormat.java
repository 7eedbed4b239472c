package io.flotilla.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The text form of an API key, {@code flt_<id>_<secret>}: {@code id} is {@value #ID_LENGTH}
 * alphanumeric characters (about 95 bits, so it never contains the {@code _} separator),
 * {@code secret} is 32 random bytes in unpadded base64url ({@value #SECRET_LENGTH} characters, which
 * may contain {@code _} and {@code -}). Every key therefore has exactly {@value #KEY_LENGTH}
 * characters, which lets {@link #parse} refuse anything else before looking at it.
 */
final class ApiKeyFormat {
  static final String PREFIX = "flt_";
  static final int ID_LENGTH = 16;
  static final int SECRET_BYTES = 32;
  static final int SECRET_LENGTH = 43;
  static final int KEY_LENGTH = 4 + ID_LENGTH + 1 + SECRET_LENGTH;
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** A key split into its parts; {@code secret} holds the 32 decoded bytes. */
  record Parsed(String id, byte[] secret) {}

  /** A fresh key: its id, its full text and the hex SHA-256 of its secret. */
  record Fresh(String id, String text, String secretSha256) {
    @Override
    public String toString() {
      return "Fresh[id=" + id + "]";
    }
  }

  private ApiKeyFormat() {}

  static Fresh generate(SecureRandom random) {
    StringBuilder id = new StringBuilder(ID_LENGTH);
    for (int i = 0; i < ID_LENGTH; i++) {
      id.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    byte[] secret = new byte[SECRET_BYTES];
    random.nextBytes(secret);
    return new Fresh(id.toString(), PREFIX + id + "_" + B64.encodeToString(secret), sha256Hex(secret));
  }

  /** The parts of {@code text}, or null when it is not a well-formed key; never throws. */
  static Parsed parse(String text) {
    if (text == null || text.length() != KEY_LENGTH || !text.startsWith(PREFIX)
        || text.charAt(PREFIX.length() + ID_LENGTH) != '_') {
      return null;
    }
    String id = text.substring(PREFIX.length(), PREFIX.length() + ID_LENGTH);
    if (!validId(id)) {
      return null;
    }
    String secret = text.substring(PREFIX.length() + ID_LENGTH + 1);
    for (int i = 0; i < secret.length(); i++) {
      char c = secret.charAt(i);
      if (!(isAlnum(c) || c == '-' || c == '_')) {
        return null;
      }
    }
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(secret);
    } catch (IllegalArgumentException e) {
      return null;
    }
    return bytes.length == SECRET_BYTES ? new Parsed(id, bytes) : null;
  }

  /** Whether {@code id} has the form of a key id (used to refuse junk in paths and on the bus). */
  static boolean validId(String id) {
    if (id == null || id.length() != ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      if (!isAlnum(id.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  static byte[] sha256(byte[] secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  static String sha256Hex(byte[] secret) {
    return HexFormat.of().formatHex(sha256(secret));
  }

  private static boolean isAlnum(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
}
