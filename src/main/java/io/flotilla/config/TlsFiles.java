package io.flotilla.config;

import java.nio.file.Path;

/**
 * PEM files for one TLS endpoint: a certificate chain, its private key and, where peers must
 * present certificates too (the cluster), the CA that signs them.
 *
 * @param cert PEM certificate chain
 * @param key PEM private key (PKCS#8 or PKCS#1)
 * @param ca PEM CA bundle that peers' certificates must chain to; null when peers are not verified
 */
public record TlsFiles(Path cert, Path key, Path ca) {
  /** Builds from optional strings; all blank means TLS is off (null). */
  static TlsFiles of(String prefix, String cert, String key, String ca, boolean caRequired) {
    boolean none = blank(cert) && blank(key) && blank(ca);
    if (none) {
      return null;
    }
    if (blank(cert)) {
      throw new ConfigException(prefix + ".cert", "is required when " + prefix + " is configured");
    }
    if (blank(key)) {
      throw new ConfigException(prefix + ".key", "is required when " + prefix + " is configured");
    }
    if (caRequired && blank(ca)) {
      throw new ConfigException(prefix + ".ca", "is required: peers are verified against it");
    }
    return new TlsFiles(Path.of(cert.trim()), Path.of(key.trim()), blank(ca) ? null : Path.of(ca.trim()));
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
