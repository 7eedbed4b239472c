package io.flotilla.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A self-signed certificate for 127.0.0.1 and localhost, made with the {@code openssl} command. */
public record SelfSigned(Path cert, Path key) {
  /** Writes {@code <name>.crt} and {@code <name>.key} (EC P-256, valid 2 days) into {@code dir}. */
  public static SelfSigned create(Path dir, String name) throws IOException, InterruptedException {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    Path log = dir.resolve(name + ".openssl.log");
    Process p = new ProcessBuilder(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=" + name,
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key.toString(), "-out", cert.toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException("openssl could not make a certificate: " + Files.readString(log));
    }
    return new SelfSigned(cert, key);
  }
}
