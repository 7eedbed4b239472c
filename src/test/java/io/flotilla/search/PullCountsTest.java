package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PullCountsTest {
  private static final String A = "sha256:" + "a".repeat(64);
  private static final String B = "sha256:" + "b".repeat(64);
  private static final String OCI = "application/vnd.oci.image.manifest.v1+json";

  private static String event(String action, String method, String mediaType, String repo, String digest, String time) {
    return "{\"id\":\"" + java.util.UUID.randomUUID() + "\",\"timestamp\":\"" + time + "\",\"action\":\"" + action
        + "\",\"target\":{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"repository\":\"" + repo
        + "\"},\"request\":{\"method\":\"" + method + "\"}}";
  }

  private static String pull(String repo, String digest, String time) {
    return event("pull", "GET", OCI, repo, digest, time);
  }

  private static String batch(List<String> events) {
    return "{\"events\":[" + String.join(",", events) + "]}";
  }

  @Test
  void countsManifestPullsByGetOnly() {
    PullCounts p = new PullCounts(true);
    int n = p.accept("n0", 1, 5, batch(List.of(
        pull("app", A, "2024-05-01T10:00:00Z"),
        event("pull", "HEAD", OCI, "app", A, "2024-05-01T10:00:01Z"),
        event("pull", "GET", "application/octet-stream", "app", B, "2024-05-01T10:00:02Z"),
        event("push", "PUT", OCI, "app", A, "2024-05-01T10:00:03Z"),
        pull("app", A, "2024-05-01T10:00:04.5Z"))));
    assertEquals(2, n);
    assertEquals(2, p.count("app", A));
    assertEquals(Instant.parse("2024-05-01T10:00:04.500Z").toEpochMilli(), p.lastPullMillis("app", A));
    assertEquals(0, p.count("app", B));
    assertEquals(0, p.count("other", A));
    assertTrue(p.counted());
    assertFalse(new PullCounts(false).counted());
  }

  @Test
  void aBatchDeliveredTwiceIsCountedOncePerSourceNode() {
    PullCounts p = new PullCounts(true);
    String b1 = batch(List.of(pull("app", A, "2024-05-01T10:00:00Z"), pull("app", A, "2024-05-01T10:00:01Z")));
    assertEquals(2, p.accept("n0", 1, 2, b1));
    assertEquals(0, p.accept("n0", 1, 2, b1), "re-delivered");
    // the same sequence numbers from another node are other events
    assertEquals(2, p.accept("n1", 1, 2, b1));
    // a batch overlapping the mark counts only what follows it
    String b2 = batch(List.of(pull("app", A, "2024-05-01T10:00:01Z"), pull("app", A, "2024-05-01T10:00:02Z"),
        pull("app", A, "2024-05-01T10:00:03Z")));
    assertEquals(2, p.accept("n0", 2, 4, b2));
    assertEquals(6, p.count("app", A));
    assertEquals(4, p.mark("n0"));
    assertEquals(0, p.accept("n0", 2, 4, b2));
    assertEquals(0, p.accept("n0", 3, 3, "not json at all"), "below the mark: not even parsed");
  }

  @Test
  void mergeTakesTheMaximumPerManifestAndPerSourceNode() {
    PullCounts here = new PullCounts(true);
    here.accept("n0", 1, 3, batch(List.of(pull("app", A, "2024-05-01T10:00:00Z"), pull("app", A, "2024-05-01T10:00:05Z"),
        pull("app", B, "2024-05-01T10:00:01Z"))));
    PullCounts there = new PullCounts(true);
    there.accept("n0", 1, 1, batch(List.of(pull("app", A, "2024-05-01T10:00:00Z"))));
    there.accept("n1", 1, 4, batch(List.of(pull("app", B, "2024-05-01T10:00:09Z"), pull("app", B, "2024-05-01T10:00:09Z"),
        pull("app", B, "2024-05-01T10:00:09Z"), pull("lib", A, "2024-05-01T10:00:02Z"))));
    here.merge(there.encode());
    assertEquals(2, here.count("app", A), "ours is larger");
    assertEquals(Instant.parse("2024-05-01T10:00:05Z").toEpochMilli(), here.lastPullMillis("app", A));
    assertEquals(3, here.count("app", B), "theirs is larger");
    assertEquals(Instant.parse("2024-05-01T10:00:09Z").toEpochMilli(), here.lastPullMillis("app", B));
    assertEquals(1, here.count("lib", A));
    assertEquals(3, here.mark("n0"));
    assertEquals(4, here.mark("n1"));
    // merging is idempotent
    byte[] once = here.encode();
    here.merge(there.encode());
    assertEquals(PullCounts.decode(once).size(), here.size());
    assertEquals(3, here.count("app", B));
    // what the marks cover is not counted again
    assertEquals(0, here.accept("n1", 3, 4, batch(List.of(pull("app", B, "2024-05-01T10:00:09Z"),
        pull("app", B, "2024-05-01T10:00:09Z")))));
  }

  @Test
  void persistenceRoundTripIsCompact() {
    PullCounts p = new PullCounts(true);
    p.accept("node-0", 1, 3, batch(List.of(pull("team/app", A, "2024-05-01T10:00:00Z"),
        pull("team/app", "sha512:" + "c".repeat(128), "2024-05-01T10:00:00Z"), pull("lib", B, "2024-05-01T10:00:07Z"))));
    assertTrue(p.dirty());
    byte[] bytes = p.encode();
    PullCounts back = new PullCounts(true);
    back.load(bytes);
    assertFalse(back.dirty());
    assertEquals(1, back.count("team/app", A));
    assertEquals(1, back.count("team/app", "sha512:" + "c".repeat(128)));
    assertEquals(Instant.parse("2024-05-01T10:00:07Z").toEpochMilli(), back.lastPullMillis("lib", B));
    assertEquals(3, back.mark("node-0"));
    assertEquals(3, back.size());
    // 2 sha256 manifests at about 45 bytes each, one sha512 spelled out, names once per repository
    assertTrue(bytes.length < 2 * 45 + 140 + 40, "compact: " + bytes.length + " bytes");
    assertThrows(IllegalArgumentException.class, () -> PullCounts.decode(new byte[] {1, 2, 3, 4}));
    assertThrows(IllegalArgumentException.class, () -> PullCounts.decode(java.util.Arrays.copyOf(bytes, bytes.length - 3)));
  }
}
