package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.ManifestMeta;
import io.flotilla.storage.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoredEventsTest {
  private static final String STORED = Digest.of(io.flotilla.oci.DigestAlgorithm.SHA256,
      "stored".getBytes(StandardCharsets.UTF_8)).toString();
  private static final String MISSING = Digest.of(io.flotilla.oci.DigestAlgorithm.SHA256,
      "missing".getBytes(StandardCharsets.UTF_8)).toString();

  @Test
  void aPushHappenedWhenItsContentIsStoredOrALaterDeleteExplainsWhyItIsGone(@TempDir Path dir) throws Exception {
    MetadataStore metadata = new MetadataStore(dir);
    metadata.load();
    metadata.linkBlob(RepositoryName.of("team/app"), Digest.parse(STORED), 6);
    StoredEvents verifier = new StoredEvents(metadata);

    assertTrue(verifier.happened(push("team/app", STORED), List.of()));
    assertFalse(verifier.happened(push("team/app", MISSING), List.of()), "not stored: its operation never completed");
    assertFalse(verifier.happened(push("team/other", STORED), List.of()), "stored in another repository only");
    assertTrue(verifier.happened(push("team/app", MISSING), List.of(delete("team/app", "\"" + MISSING + "\"", null))),
        "deleted later");
    assertTrue(verifier.happened(push("team/app", MISSING), List.of(delete("team/app", null, null))),
        "its repository was deleted later");
    assertFalse(verifier.happened(push("team/app", MISSING), List.of(delete("team/app", null, "\"v1\""))),
        "a tag delete does not explain a missing blob");
    assertTrue(verifier.happened("{\"action\":\"pull\",\"target\":{\"repository\":\"team/app\",\"digest\":\"" + MISSING
        + "\"}}", List.of()), "only pushes are written ahead");
    metadata.close();
  }

  @Test
  void aPushByTagHappenedOnlyWhenTheTagPointsAtItsManifestOrALaterEventMovedOrDeletedIt(@TempDir Path dir)
      throws Exception {
    MetadataStore metadata = new MetadataStore(dir);
    metadata.load();
    RepositoryName app = RepositoryName.of("team/app");
    ManifestMeta image = new ManifestMeta(Digest.parse(STORED), MediaTypes.OCI_MANIFEST, 6, null, null, null, null, 0);
    metadata.putManifest(app, image, new Tag("v1"), () -> {});
    StoredEvents verifier = new StoredEvents(metadata);

    assertTrue(verifier.happened(manifestPush("team/app", STORED, "v1"), List.of()));
    assertTrue(verifier.happened(manifestPush("team/app", STORED, null), List.of()), "pushed by digest");
    assertFalse(verifier.happened(manifestPush("team/app", STORED, "v2"), List.of()),
        "an existing manifest pushed under a new tag that was never set: killed before the tag was durable");
    assertTrue(verifier.happened(manifestPush("team/app", STORED, "v2"), List.of(delete("team/app", null, "\"v2\""))),
        "the tag was deleted later");
    assertTrue(verifier.happened(manifestPush("team/app", STORED, "v2"), List.of(manifestPush("team/app", MISSING, "v2"))),
        "the tag was moved by a later push");
    assertFalse(verifier.happened(manifestPush("team/app", STORED, "v2"), List.of(manifestPush("team/app", MISSING, "v3"))),
        "a later push of another tag explains nothing");
    metadata.close();
  }

  private static String manifestPush(String repository, String digest, String tag) {
    return "{\"action\":\"push\",\"target\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"repository\":\""
        + repository + "\",\"digest\":\"" + digest + "\"" + (tag == null ? "" : ",\"tag\":\"" + tag + "\"") + "}}";
  }

  private static String push(String repository, String digest) {
    return "{\"action\":\"push\",\"target\":{\"mediaType\":\"application/octet-stream\",\"repository\":\"" + repository
        + "\",\"digest\":\"" + digest + "\"}}";
  }

  private static String delete(String repository, String digestJson, String tagJson) {
    return "{\"action\":\"delete\",\"target\":{\"repository\":\"" + repository + "\""
        + (digestJson == null ? "" : ",\"digest\":" + digestJson) + (tagJson == null ? "" : ",\"tag\":" + tagJson) + "}}";
  }
}
