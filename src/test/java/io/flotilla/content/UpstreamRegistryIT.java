package io.flotilla.content;

import static io.flotilla.content.UpstreamTesting.await;
import static io.flotilla.content.UpstreamTesting.failure;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.auth.AuthFixture;
import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.SelfSigned;
import io.flotilla.testing.TestNode;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream client against real Flotilla nodes in this JVM: one open, one with access control
 * (htpasswd users, policies, the Docker token flow of its /auth/token), and one serving TLS.
 */
class UpstreamRegistryIT {
  private static final RepositoryName APP = RepositoryName.of("lib/app");
  @TempDir
  static Path dir;
  static TestNode open;
  static TestNode guarded;
  static Vertx vertx;
  static Images.Pushed image;
  static byte[] bigLayer;
  static Digest bigLayerDigest;
  static List<String> tags = new ArrayList<>();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    open = TestNode.start(dir.resolve("open"));
    OciClient client = new OciClient(open.url());
    image = Images.push(client, APP.value(), "t00", 2, 11);
    tags.add("t00");
    for (int i = 1; i < 25; i++) {
      String tag = String.format("t%02d", i);
      OciClient.expect(client.putManifest(APP.value(), tag, MediaTypes.OCI_MANIFEST, image.body()), 201);
      tags.add(tag);
    }
    bigLayer = Images.random(5 * 1024 * 1024 + 17, 12);
    bigLayerDigest = client.pushBlob(APP.value(), bigLayer);

    Path htpasswd = AuthFixture.htpasswd(dir.resolve("auth"));
    guarded = TestNode.start(dir.resolve("guarded"), AuthFixture.config(htpasswd, 1000));
    Images.push(new OciClient(guarded.url()).as(AuthFixture.basic("alice")), "team/app", "v1", 1, 13);
    Images.push(new OciClient(guarded.url()).as(AuthFixture.basic("admin")), "public/app", "v1", 1, 14);
  }

  @AfterAll
  static void stop() throws Exception {
    if (guarded != null) {
      guarded.close();
    }
    if (open != null) {
      open.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static UpstreamRegistry client(String url) {
    return new UpstreamRegistry(vertx, UpstreamConfig.of(url).withRetries(2, Duration.ofMillis(50), Duration.ofSeconds(2)));
  }

  private static UpstreamRegistry client(String url, String user, String password) {
    return new UpstreamRegistry(vertx, UpstreamConfig.of(url).withCredentials(user, password)
        .withRetries(2, Duration.ofMillis(50), Duration.ofSeconds(2)));
  }

  @Test
  void listsEveryTagAcrossPages() throws Exception {
    UpstreamRegistry upstream = client(open.url());
    List<Tag> paged = await(upstream.listTags(APP, 4));
    assertEquals(tags, paged.stream().map(Tag::value).toList());
    assertEquals(tags, await(upstream.listTags(APP)).stream().map(Tag::value).toList());
    assertEquals(Kind.NOT_FOUND, failure(upstream.listTags(RepositoryName.of("lib/none"))).kind());
  }

  @Test
  void fetchesAManifestByTagAndByDigest() throws Exception {
    UpstreamRegistry upstream = client(open.url());
    UpstreamManifest byTag = await(upstream.manifest(APP, Reference.parse("t07")));
    assertEquals(image.manifest(), byTag.digest());
    assertArrayEquals(image.body(), byTag.body());
    assertEquals(MediaTypes.OCI_MANIFEST, byTag.mediaType());
    assertEquals(image.layers(), byTag.manifest().layers().stream().map(Descriptor::digest).toList());
    UpstreamManifest byDigest = await(upstream.manifest(APP, Reference.of(image.manifest())));
    assertArrayEquals(image.body(), byDigest.body());
    assertEquals(image.config(), byDigest.manifest().config().digest());
    UpstreamException missing = failure(upstream.manifest(APP, Reference.parse("nope")));
    assertEquals(Kind.NOT_FOUND, missing.kind());
    assertTrue(missing.getMessage().contains("GET /v2/lib/app/manifests/nope: 404"), missing.getMessage());
  }

  @Test
  void streamsBlobsVerifiedIntoMemoryAndIntoAFile() throws Exception {
    UpstreamRegistry upstream = client(open.url());
    for (Descriptor d : await(upstream.manifest(APP, Reference.parse("t00"))).manifest().storedBlobs()) {
      byte[] got = await(upstream.blob(APP, d.digest()).compose(UpstreamTesting::collect)).getBytes();
      assertEquals(d.size(), got.length);
      assertEquals(d.digest(), Digest.sha256(got));
    }
    assertArrayEquals(bigLayer, await(upstream.blob(APP, bigLayerDigest).compose(UpstreamTesting::collect)).getBytes());
    Path file = dir.resolve("big-layer");
    await(upstream.blob(APP, bigLayerDigest).compose(blob -> {
      assertEquals(bigLayer.length, blob.size());
      return vertx.fileSystem().open(file.toString(), new OpenOptions().setWrite(true).setCreate(true))
          .compose(blob::pipeTo);
    }));
    assertArrayEquals(bigLayer, Files.readAllBytes(file));
    UpstreamException missing = failure(upstream.blob(APP, Digest.sha256("absent".getBytes())));
    assertEquals(Kind.NOT_FOUND, missing.kind());
    assertEquals("BLOB_UNKNOWN", missing.error().name());
  }

  @Test
  void listsReferrers() throws Exception {
    OciClient client = new OciClient(open.url());
    Images.Pushed subject = Images.push(client, "lib/refs", "v1", 1, 15);
    Digest empty = client.pushBlob("lib/refs", "{}".getBytes(StandardCharsets.UTF_8));
    byte[] sbom = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":"
        + "\"application/vnd.example.sbom\",\"config\":" + Images.descriptor(MediaTypes.OCI_EMPTY, empty, 2)
        + ",\"layers\":[],\"subject\":" + Images.descriptor(MediaTypes.OCI_MANIFEST, subject.manifest(),
        subject.body().length) + ",\"annotations\":{\"org.example\":\"sbom\"}}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(client.putManifest("lib/refs", Digest.sha256(sbom).toString(), MediaTypes.OCI_MANIFEST, sbom), 201);

    UpstreamRegistry upstream = client(open.url());
    UpstreamReferrers refs = await(upstream.referrers(RepositoryName.of("lib/refs"), subject.manifest()));
    assertTrue(refs.supported());
    assertEquals(1, refs.manifests().size());
    Descriptor d = refs.manifests().get(0);
    assertEquals(Digest.sha256(sbom), d.digest());
    assertEquals(sbom.length, d.size());
    assertEquals("application/vnd.example.sbom", d.artifactType());
    assertEquals(Map.of("org.example", "sbom"), d.annotations());
    UpstreamReferrers none = await(upstream.referrers(RepositoryName.of("lib/refs"), Digest.sha256(new byte[] {1})));
    assertTrue(none.supported());
    assertEquals(List.of(), none.manifests());
  }

  @Test
  void readsThroughTheTokenFlowWithTheUsersRights() throws Exception {
    RepositoryName team = RepositoryName.of("team/app");
    for (String user : new String[] {"alice", "bob"}) {
      UpstreamRegistry upstream = client(guarded.url(), user, user + "-pw");
      assertEquals(List.of(new Tag("v1")), await(upstream.listTags(team, 1)));
      UpstreamManifest m = await(upstream.manifest(team, Reference.parse("v1")));
      for (Descriptor d : m.manifest().storedBlobs()) {
        assertEquals(d.size(), await(upstream.blob(team, d.digest()).compose(UpstreamTesting::collect)).length());
      }
      assertTrue(await(upstream.referrers(team, m.digest())).supported());
    }
    UpstreamException wrong = failure(client(guarded.url(), "alice", "not-her-password").listTags(team));
    assertEquals(Kind.UNAUTHORIZED, wrong.kind());
    assertTrue(wrong.getMessage().contains("token endpoint GET /auth/token: 401"), wrong.getMessage());
    assertFalse(wrong.getMessage().contains("not-her-password"));
    assertEquals(Kind.UNAUTHORIZED, failure(client(guarded.url()).manifest(team, Reference.parse("v1"))).kind());
    assertEquals(Kind.DENIED, failure(client(guarded.url(), "robot", "robot-pw").listTags(team)).kind());

    UpstreamManifest anonymous = await(client(guarded.url()).manifest(RepositoryName.of("public/app"),
        Reference.parse("v1")));
    assertEquals(MediaTypes.OCI_MANIFEST, anonymous.mediaType());
  }

  @Test
  void tlsWithTheServersCaVerifiedOrNotAtAll() throws Exception {
    SelfSigned cert = SelfSigned.create(dir, "upstream-tls");
    try (TestNode tls = TestNode.start(dir.resolve("tls"), Map.of("http.tls.cert", cert.cert().toString(),
        "http.tls.key", cert.key().toString(), "http.instances", "1"))) {
      // an empty registry: NOT_FOUND is an answer, so the TLS handshake went through
      RepositoryName none = RepositoryName.of("lib/none");
      UpstreamConfig base = UpstreamConfig.of(tls.url()).withRetries(1, Duration.ofMillis(10), Duration.ofMillis(10));
      assertEquals(Kind.NOT_FOUND, failure(new UpstreamRegistry(vertx, base.withCaCertificate(cert.cert()))
          .listTags(none)).kind());
      assertEquals(Kind.NOT_FOUND, failure(new UpstreamRegistry(vertx, base.withoutTlsVerification())
          .listTags(none)).kind());
      UpstreamException untrusted = failure(new UpstreamRegistry(vertx, base).listTags(none));
      assertEquals(Kind.UNAVAILABLE, untrusted.kind());
    }
  }
}
