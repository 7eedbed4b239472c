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
import io.flotilla.testing.DistributionRegistry;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream client against CNCF distribution 2.8 ({@code docker-registry}) processes: one open,
 * one behind htpasswd Basic auth. Images are pushed with the test's own OCI client and read back
 * through the upstream client.
 */
class DistributionUpstreamIT {
  private static final RepositoryName REPO = RepositoryName.of("mirror/app");
  @TempDir
  static Path dir;
  static DistributionRegistry open;
  static DistributionRegistry basic;
  static Vertx vertx;

  @BeforeAll
  static void start() throws Exception {
    DistributionRegistry.require();
    vertx = Vertx.vertx();
    open = DistributionRegistry.start(dir.resolve("open"));
    basic = DistributionRegistry.start(dir.resolve("basic"), "alice");
  }

  @AfterAll
  static void stop() throws Exception {
    if (basic != null) {
      basic.close();
    }
    if (open != null) {
      open.close();
    }
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static UpstreamConfig config(String url) {
    return UpstreamConfig.of(url).withRetries(2, Duration.ofMillis(50), Duration.ofSeconds(2));
  }

  @Test
  void readsBackWhatWasPushed() throws Exception {
    OciClient client = new OciClient(open.url());
    Images.Pushed image = Images.push(client, REPO.value(), "v1", 3, 21);
    for (String tag : List.of("v2", "v3", "latest")) {
      OciClient.expect(client.putManifest(REPO.value(), tag, MediaTypes.OCI_MANIFEST, image.body()), 201);
    }
    UpstreamRegistry upstream = new UpstreamRegistry(vertx, config(open.url()));

    assertEquals(List.of("latest", "v1", "v2", "v3"), await(upstream.listTags(REPO, 2)).stream().map(Tag::value)
        .sorted().toList());
    assertEquals(4, await(upstream.listTags(REPO)).size());

    UpstreamManifest byTag = await(upstream.manifest(REPO, Reference.parse("latest")));
    assertEquals(image.manifest(), byTag.digest());
    assertArrayEquals(image.body(), byTag.body());
    assertEquals(MediaTypes.OCI_MANIFEST, byTag.mediaType());
    UpstreamManifest byDigest = await(upstream.manifest(REPO, Reference.of(image.manifest())));
    assertArrayEquals(image.body(), byDigest.body());

    List<Descriptor> blobs = byTag.manifest().storedBlobs();
    assertEquals(4, blobs.size());
    for (Descriptor d : blobs) {
      byte[] got = await(upstream.blob(REPO, d.digest()).compose(UpstreamTesting::collect)).getBytes();
      assertEquals(d.size(), got.length);
      assertEquals(d.digest(), Digest.sha256(got));
    }

    // distribution 2.8 has no referrers API: unsupported, not "none"
    UpstreamReferrers referrers = await(upstream.referrers(REPO, image.manifest()));
    assertFalse(referrers.supported());

    assertEquals(Kind.NOT_FOUND, failure(upstream.manifest(REPO, Reference.parse("absent"))).kind());
    assertEquals(Kind.NOT_FOUND, failure(upstream.blob(REPO, Digest.sha256("absent".getBytes()))).kind());
  }

  @Test
  void answersItsBasicChallenge() throws Exception {
    RepositoryName repo = RepositoryName.of("private/app");
    Images.Pushed image = Images.push(new OciClient(basic.url()).as(AuthFixture.basic("alice")), repo.value(), "v1", 1, 22);

    UpstreamRegistry alice = new UpstreamRegistry(vertx, config(basic.url()).withCredentials("alice", "alice-pw"));
    assertEquals(List.of(new Tag("v1")), await(alice.listTags(repo)));
    UpstreamManifest m = await(alice.manifest(repo, Reference.parse("v1")));
    assertEquals(image.manifest(), m.digest());
    Digest layer = image.layers().get(0);
    assertEquals(layer, Digest.sha256(await(alice.blob(repo, layer).compose(UpstreamTesting::collect)).getBytes()));

    UpstreamException wrong = failure(new UpstreamRegistry(vertx, config(basic.url()).withCredentials("alice", "guess"))
        .listTags(repo));
    assertEquals(Kind.UNAUTHORIZED, wrong.kind());
    assertFalse(wrong.getMessage().contains("guess"));
    UpstreamException anonymous = failure(new UpstreamRegistry(vertx, config(basic.url())).listTags(repo));
    assertEquals(Kind.UNAUTHORIZED, anonymous.kind());
    assertTrue(anonymous.getMessage().contains("GET /v2/private/app/tags/list"), anonymous.getMessage());
  }
}
