package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.testing.Images;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Descriptor sizes are checked against what is stored, never trusted: a manifest PUT whose config,
 * layer or child manifest size differs from the stored content is MANIFEST_INVALID and stores
 * nothing, and every way of linking an already stored blob records the stored file's size.
 */
class ManifestSizesTest {
  private static final RepositoryName APP = RepositoryName.of("sizes/app");
  private static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
  private static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

  @TempDir
  Path dir;
  StorageFixture f;
  byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
  byte[] layer = Images.random(3000, 1);

  @BeforeEach
  void start() throws IOException {
    f = new StorageFixture(dir, Duration.ofHours(1));
    f.push(APP, config);
    f.push(APP, layer);
  }

  @AfterEach
  void stop() {
    f.close();
  }

  private static byte[] image(long configSize, long layerSize, byte[] config, byte[] layer) {
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor(CONFIG_TYPE, Digest.sha256(config), configSize) + ",\"layers\":["
        + Images.descriptor(LAYER_TYPE, Digest.sha256(layer), layerSize) + "]}").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] index(Digest child, long childSize) {
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
        + Images.descriptor(MediaTypes.OCI_MANIFEST, child, childSize) + "]}").getBytes(StandardCharsets.UTF_8);
  }

  private void put(String reference, String mediaType, byte[] body) {
    f.onVertx(() -> f.registry.putManifest(StorageFixture.CTX, new PutManifest(APP.value(), reference, mediaType, body)));
  }

  /** The PUT is MANIFEST_INVALID (400) and neither the manifest, its bytes nor the tag exist afterwards. */
  private void assertRejected(String mediaType, byte[] body, String what) {
    OciException e = assertThrows(OciException.class, () -> put("bad", mediaType, body), what);
    assertEquals(OciError.MANIFEST_INVALID, e.error(), what + ": " + e.detail());
    assertEquals(400, e.status());
    Digest d = Digest.sha256(body);
    assertNull(f.metadata.manifest(APP, d), what);
    assertNull(f.metadata.tag(APP, new Tag("bad")), what);
    assertFalse(Files.exists(f.blobs.path(d)), what + ": manifest bytes stored");
  }

  @Test
  void descriptorSizesMustMatchTheStoredContent() {
    assertRejected(MediaTypes.OCI_MANIFEST, image(config.length, layer.length + 1, config, layer), "layer size too large");
    assertRejected(MediaTypes.OCI_MANIFEST, image(config.length, layer.length - 1, config, layer), "layer size too small");
    assertRejected(MediaTypes.OCI_MANIFEST, image(config.length + 5, layer.length, config, layer), "config size");

    // A foreign layer is not stored here: its size cannot be and is not checked.
    byte[] foreign = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor(CONFIG_TYPE, Digest.sha256(config), config.length) + ",\"layers\":["
        + Images.descriptor("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Digest.sha256(new byte[] {9}), 12345)
        + "]}").getBytes(StandardCharsets.UTF_8);
    put("foreign", MediaTypes.OCI_MANIFEST, foreign);
    assertEquals(Digest.sha256(foreign), f.metadata.tag(APP, new Tag("foreign")));

    byte[] good = image(config.length, layer.length, config, layer);
    put("v1", MediaTypes.OCI_MANIFEST, good);
    Digest child = Digest.sha256(good);
    assertEquals(good.length, f.metadata.manifest(APP, child).size());

    assertRejected(MediaTypes.OCI_INDEX, index(child, good.length + 1), "child manifest size");
    byte[] goodIndex = index(child, good.length);
    put("multi", MediaTypes.OCI_INDEX, goodIndex);
    assertEquals(Digest.sha256(goodIndex), f.metadata.tag(APP, new Tag("multi")));
  }

  @Test
  void linksRecordTheStoredSizeWhateverTheCallerSays() throws IOException {
    Digest d = Digest.sha256(layer);
    RepositoryName replica = RepositoryName.of("sizes/replica");
    assertTrue(StorageFixture.await(f.replicas.linkIfStored(replica.value(), d.toString(), layer.length + 100)));
    assertEquals(layer.length, f.metadata.blobSize(replica, d), "replica link");

    // A source repository whose link records a wrong size (as a replica did before links used the file's size).
    RepositoryName source = RepositoryName.of("sizes/source");
    byte[] other = Images.random(2000, 2);
    Digest o = f.push(source, other);
    f.metadata.unlinkBlob(source, o);
    f.metadata.linkBlob(source, o, 7);
    RepositoryName target = RepositoryName.of("sizes/target");
    assertTrue(f.onVertx(() -> f.registry.mountBlob(StorageFixture.CTX, target.value(), o.toString(), source.value())));
    assertEquals(other.length, f.metadata.blobSize(target, o), "mounted link");
  }
}
