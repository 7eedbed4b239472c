package io.flotilla.http;

import io.flotilla.config.ConfigException;
import io.flotilla.config.TlsFiles;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.Collections;
import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * Reads the clients' TLS certificate and key (PEM) into server options, checking that they parse
 * and that the key belongs to the certificate. Blocking: call on a worker thread.
 */
public final class ServerTls {
  private ServerTls() {}

  /** The files' identity for change detection: a reload happens when any of it changes. */
  public record Stamp(long certModified, long certSize, long keyModified, long keySize) {
    /** The files' current stamp; blocking. */
    public static Stamp of(TlsFiles files) throws IOException {
      return new Stamp(Files.getLastModifiedTime(files.cert()).toMillis(), Files.size(files.cert()),
          Files.getLastModifiedTime(files.key()).toMillis(), Files.size(files.key()));
    }
  }

  /** What was loaded: the options to serve, and the stamp of the files they were read from. */
  public record Loaded(ServerSSLOptions options, Stamp stamp, String subject) {}

  /**
   * Reads and checks the PEM files; throws a {@link ConfigException} naming the file and the
   * problem (unreadable, not PEM, key not matching the certificate).
   */
  public static Loaded load(Vertx vertx, TlsFiles files) {
    Stamp stamp;
    Buffer cert;
    Buffer key;
    try {
      stamp = Stamp.of(files);
      cert = Buffer.buffer(Files.readAllBytes(files.cert()));
      key = Buffer.buffer(Files.readAllBytes(files.key()));
    } catch (IOException e) {
      throw new ConfigException("http.tls", "cannot read " + which(files, e) + ": " + e);
    }
    PemKeyCertOptions pem = new PemKeyCertOptions().setCertValue(cert).setKeyValue(key);
    String subject = check(vertx, pem, files);
    return new Loaded(new ServerSSLOptions().setKeyCertOptions(pem).setUseAlpn(true), stamp, subject);
  }

  /** Parses the pair and proves the key signs for the certificate; returns the certificate's subject. */
  private static String check(Vertx vertx, PemKeyCertOptions pem, TlsFiles files) {
    X509Certificate leaf;
    PrivateKey privateKey;
    try {
      KeyStore store = pem.loadKeyStore(vertx);
      X509KeyManager km = keyManager(pem.getKeyManagerFactory(vertx).getKeyManagers());
      String alias = Collections.list(store.aliases()).stream().filter(a -> isKey(store, a)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no private key found"));
      privateKey = km.getPrivateKey(alias);
      X509Certificate[] chain = km.getCertificateChain(alias);
      if (privateKey == null || chain == null || chain.length == 0) {
        throw new IllegalArgumentException("no certificate and key pair found");
      }
      leaf = chain[0];
    } catch (Exception e) {
      throw new ConfigException("http.tls", "the certificate " + files.cert() + " and key " + files.key()
          + " are not a valid PEM pair: " + e.getMessage());
    }
    if (!signsFor(privateKey, leaf.getPublicKey())) {
      throw new ConfigException("http.tls", "the key " + files.key() + " does not belong to the certificate "
          + files.cert());
    }
    return leaf.getSubjectX500Principal().getName();
  }

  private static boolean isKey(KeyStore store, String alias) {
    try {
      return store.isKeyEntry(alias);
    } catch (Exception e) {
      return false;
    }
  }

  private static X509KeyManager keyManager(KeyManager[] managers) {
    for (KeyManager m : managers) {
      if (m instanceof X509KeyManager x) {
        return x;
      }
    }
    throw new IllegalArgumentException("no X.509 key manager");
  }

  /** Signs a test message with the key and verifies it with the certificate's public key. */
  static boolean signsFor(PrivateKey key, PublicKey publicKey) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      case "Ed448" -> "Ed448";
      default -> null;
    };
    if (algorithm == null) {
      return key.getAlgorithm().equals(publicKey.getAlgorithm()); // no signature check for this kind of key
    }
    try {
      byte[] message = "flotilla tls key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(message);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(publicKey);
      verifier.update(message);
      return verifier.verify(signature);
    } catch (Exception e) {
      return false;
    }
  }

  private static Path which(TlsFiles files, IOException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains(files.key().toString()) ? files.key() : files.cert();
  }
}
