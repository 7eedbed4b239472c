package io.flotilla.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.e2e.OciLayout.Desc;
import io.flotilla.testing.SelfSigned;
import io.flotilla.testing.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * skopeo against a node serving TLS (HTTP/2 through ALPN), verifying the certificate against a CA
 * directory: an image pushed and pulled back byte for byte.
 */
class SkopeoTlsE2E {
  @TempDir
  Path tmp;

  @Test
  void pushesAndPullsOverVerifiedTls() throws Exception {
    Skopeo.require();
    SelfSigned pair = SelfSigned.create(tmp, "flotilla-e2e");
    Path certs = Files.createDirectories(tmp.resolve("certs.d"));
    Files.copy(pair.cert(), certs.resolve("ca.crt"));
    try (TestNode node = TestNode.start(tmp.resolve("data"), Map.of("http.tls.cert", pair.cert().toString(),
        "http.tls.key", pair.key().toString()))) {
      OciLayout in = OciLayout.create(tmp.resolve("src"));
      SkopeoE2E.Image img = SkopeoE2E.writeImage(in, "amd64", null, 2, 11);
      in.writeIndex(Map.of("v1", img.manifest()));
      String ref = "docker://" + node.hostPort() + "/e2e/tls:v1";
      Skopeo.runOk("copy", "--preserve-digests", "--dest-cert-dir", certs.toString(), "oci:" + in.root() + ":v1", ref);
      OciLayout out = OciLayout.open(tmp.resolve("out"));
      Skopeo.runOk("copy", "--preserve-digests", "--src-cert-dir", certs.toString(), ref, "oci:" + out.root() + ":v1");
      SkopeoE2E.assertSameBlobs(in, out);
      // without the CA the certificate is not trusted
      Skopeo.Result untrusted = Skopeo.run("inspect", "--raw", ref);
      assertTrue(!untrusted.ok() && untrusted.output().contains("certificate"), untrusted.output());
      for (Desc d : SkopeoE2E.blobsOf(img)) {
        assertTrue(Files.exists(out.blobPath(d.digest())), d.digest());
      }
    }
  }
}
