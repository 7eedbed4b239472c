package io.flotilla.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.storage.EventSink;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pull counts as a grow-only counter per node: counted on the serving node, merged by maximum. */
class PullCountsTest {
  static final String A = "sha256:" + "a".repeat(64);
  static final String B = "sha256:" + "b".repeat(64);

  static RequestContext ctx(String method) {
    return new RequestContext("r", "alice", "127.0.0.1", "h", method, "test");
  }

  static EventSink.Operation pull(String repo, String digest, String mediaType) {
    return new EventSink.Operation("pull", repo, digest, mediaType, 10, null, null, List.of());
  }

  @Test
  void theTapCountsManifestGetsOnlyAndPassesEverythingOn() {
    PullCounts p = new PullCounts("n0");
    List<EventSink.Operation> passed = new ArrayList<>();
    EventSink sink = p.tap((c, op) -> {
      passed.add(op);
      return Future.succeededFuture();
    });
    sink.record(ctx("GET"), pull("app", A, "application/vnd.oci.image.manifest.v1+json"));
    sink.record(ctx("GET"), pull("app", A, "application/vnd.oci.image.index.v1+json"));
    sink.record(ctx("HEAD"), pull("app", A, "application/vnd.oci.image.manifest.v1+json"));
    sink.record(ctx("GET"), pull("app", B, "application/octet-stream")); // a blob
    sink.record(RequestContext.internal("sync"), pull("app", A, "application/vnd.oci.image.manifest.v1+json"));
    sink.record(ctx("PUT"), new EventSink.Operation("push", "app", A, "application/vnd.oci.image.manifest.v1+json", 1,
        "v1", null, List.of()));
    assertEquals(6, passed.size(), "every operation reaches the sink");
    assertEquals(2, p.count("app", A));
    assertEquals(0, p.count("app", B));
    assertTrue(p.lastPullMillis("app", A) > 0);
  }

  @Test
  void columnsMergeByMaximumAndCountsAddUp() {
    PullCounts n0 = new PullCounts("n0");
    PullCounts n1 = new PullCounts("n1");
    n0.pulled("app", A, 1_000);
    n0.pulled("app", A, 2_000);
    n1.pulled("app", A, 5_000);
    byte[] delta0 = n0.encodeChanged();
    assertNull(n0.encodeChanged(), "nothing changed since");
    n1.merge(delta0);
    n1.merge(delta0); // delivered twice
    assertEquals(3, n1.count("app", A));
    assertEquals(5_000, n1.lastPullMillis("app", A));
    n0.pulled("app", A, 3_000);
    byte[] later = n0.encodeChanged();
    n1.merge(later);
    n1.merge(delta0); // an old delta arriving late
    assertEquals(4, n1.count("app", A), "whole values merged by maximum: order does not matter");
    n0.merge(n1.encode());
    assertEquals(4, n0.count("app", A), "n0 gets n1's column");
    assertEquals(n0.count("app", A), n1.count("app", A));
  }

  @Test
  void theBinaryFormRoundTripsAndIsCompact() {
    PullCounts p = new PullCounts("node-0");
    for (int i = 0; i < 100; i++) {
      p.pulled("team/app", "sha256:" + String.format("%064x", i), 1_700_000_000_000L + i);
    }
    byte[] bytes = p.encode();
    assertTrue(bytes.length < 100 * 50, "about 45 bytes a manifest: " + bytes.length);
    PullCounts back = new PullCounts("node-0");
    back.load(bytes);
    assertEquals(100, back.size());
    assertEquals(1, back.count("team/app", "sha256:" + String.format("%064x", 7)));
    assertThrows(IllegalArgumentException.class, () -> PullCounts.decode(new byte[] {1, 2, 3}));
    assertThrows(IllegalArgumentException.class, () -> PullCounts.decode(java.util.Arrays.copyOf(bytes, bytes.length / 2)));
  }
}
