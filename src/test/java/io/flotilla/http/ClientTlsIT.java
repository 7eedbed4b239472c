package io.flotilla.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.ConfigException;
import io.flotilla.testing.Await;
import io.flotilla.testing.SelfSigned;
import io.flotilla.testing.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS for clients: HTTP/2 through ALPN, the certificate replaced on disk (or on SIGHUP) is served
 * to new connections while open ones keep working, a bad replacement keeps the old one, a bad
 * certificate at start is a configuration error; and the admin listener.
 */
class ClientTlsIT {
  @TempDir
  Path dir;
  private Vertx vertx;
  private HttpClientAgent client;
  private SelfSigned first;
  private SelfSigned second;
  private Path cert;
  private Path key;

  @BeforeEach
  void certificates() throws Exception {
    first = SelfSigned.create(dir, "flotilla-first");
    second = SelfSigned.create(dir, "flotilla-second-certificate");
    cert = dir.resolve("served.crt");
    key = dir.resolve("served.key");
    Files.copy(first.cert(), cert);
    Files.copy(first.key(), key);
    vertx = Vertx.vertx();
    client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2).setVerifyHost(true)
        .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(Files.readAllBytes(first.cert())))
            .addCertValue(Buffer.buffer(Files.readAllBytes(second.cert())))));
  }

  @AfterEach
  void close() throws Exception {
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void servesHttp2AndReloadsTheCertificateWithoutDroppingConnections() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("data"), Map.of("http.tls.cert", cert.toString(),
        "http.tls.key", key.toString(), "http.instances", "1"))) {
      int port = node.node().httpPort();
      HttpClientConnection before = connect(port);
      assertEquals("CN=flotilla-first", subject(before));
      assertEquals(200, get(before, "/v2/")); // get() checks that ALPN negotiated HTTP/2

      // the files are replaced: new connections get the new certificate, the open one keeps working
      replace(second);
      Await.until("the second certificate served", Duration.ofSeconds(60),
          () -> subject(connect(port)).equals("CN=flotilla-second-certificate"));
      HttpClientConnection after = connect(port);
      assertEquals(200, get(after, "/v2/"));
      assertEquals(200, get(before, "/v2/"), "a connection opened before the reload still works");
      assertEquals("CN=flotilla-first", subject(before));

      // a broken replacement is refused: the second certificate stays
      long failures = node.node().tlsReloadFailures();
      Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
      Await.until("the broken certificate refused", Duration.ofSeconds(60),
          () -> node.node().tlsReloadFailures() > failures);
      assertEquals("CN=flotilla-second-certificate", subject(connect(port)));
      assertEquals(200, get(after, "/v2/"));

      // SIGHUP reloads at once, changed or not
      replace(second);
      Await.until("the repaired files loaded", Duration.ofSeconds(60), () -> node.node().tlsReloads() >= 2);
      long reloads = node.node().tlsReloads();
      Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
      assertEquals(0, hup.waitFor());
      Await.until("a reload on SIGHUP", Duration.ofSeconds(60), () -> node.node().tlsReloads() > reloads);
      assertEquals("CN=flotilla-second-certificate", subject(connect(port)));
    }
  }

  @Test
  void theAdminListenerAloneServesTheOperatorEndpoints() throws Exception {
    try (TestNode node = TestNode.start(dir.resolve("data"), Map.of("http.tls.cert", cert.toString(),
        "http.tls.key", key.toString(), "http.adminPort", "0"))) {
      HttpClientConnection pub = connect(node.node().httpPort());
      HttpClientConnection admin = connect(node.node().adminPort());
      assertEquals("CN=flotilla-first", subject(admin), "the admin listener serves the same certificate");
      for (String path : new String[] {"/metrics", "/api/v1/cluster", "/api/v1/webhooks", "/api/v1/storage/usage"}) {
        assertEquals(404, get(pub, path), "public " + path);
        assertEquals(200, get(admin, path), "admin " + path);
      }
      assertEquals(200, get(pub, "/health/ready"), "health stays on the public port");
      assertEquals(200, get(admin, "/health/ready"));
      assertEquals(200, get(pub, "/v2/"));
      assertEquals(404, get(admin, "/v2/"), "the registry API is not on the admin port");

      // a reload reaches the admin listener too
      replace(second);
      Await.until("the second certificate on the admin port", Duration.ofSeconds(60),
          () -> subject(connect(node.node().adminPort())).equals("CN=flotilla-second-certificate"));
    }
  }

  @Test
  void anUnusableCertificateAtStartIsAConfigurationError() throws Exception {
    Files.copy(second.key(), key, StandardCopyOption.REPLACE_EXISTING); // the key of another certificate
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestNode.start(dir.resolve("data"),
        Map.of("http.tls.cert", cert.toString(), "http.tls.key", key.toString())));
    Throwable t = e;
    while (t != null && !(t instanceof ConfigException)) {
      t = t.getCause();
    }
    assertTrue(t != null && t.getMessage().contains("does not belong to the certificate"), String.valueOf(e));
  }

  /** Copies a pair over the served files, with a modification time that differs from the last one. */
  private void replace(SelfSigned pair) throws Exception {
    FileTime later = FileTime.fromMillis(Files.getLastModifiedTime(cert).toMillis() + 2000);
    Files.copy(pair.key(), key, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(pair.cert(), cert, StandardCopyOption.REPLACE_EXISTING);
    Files.setLastModifiedTime(key, later);
    Files.setLastModifiedTime(cert, later);
  }

  private HttpClientConnection connect(int port) throws Exception {
    return client.connect(new HttpConnectOptions().setHost("127.0.0.1").setPort(port))
        .await(30, TimeUnit.SECONDS);
  }

  private static String subject(HttpClientConnection c) throws Exception {
    return ((X509Certificate) c.peerCertificates().get(0)).getSubjectX500Principal().getName();
  }

  private static int get(HttpClientConnection c, String path) throws Exception {
    return c.request(new RequestOptions().setMethod(HttpMethod.GET).setURI(path))
        .compose(req -> req.send().compose(resp -> {
          assertEquals(HttpVersion.HTTP_2, resp.version());
          return resp.body().map(b -> resp.statusCode());
        }))
        .await(30, TimeUnit.SECONDS);
  }
}
