package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RegistryEventTest {
  @Test
  void handWrittenJsonIsWhatDataBindingWrites() throws Exception {
    RegistryEvent full = new RegistryEvent("id-1", "2026-11-30T12:00:00.001Z", "push",
        new RegistryEvent.Target("application/vnd.oci.image.manifest.v1+json", 528L, "sha256:ab", 528L, "team/app",
            "team/base", "http://n1:5000/v2/team/app/manifests/sha256:ab", "v1", List.of("sha256:c1", "sha256:l1"),
            1_764_504_000_001L),
        new RegistryEvent.Request("r-1", "127.0.0.1", "n1:5000", "PUT", "skopeo/1.9 \"quoted\" \u00e9\n"),
        new RegistryEvent.Actor("anonymous"), new RegistryEvent.Source("n1:5000", "node-1"));
    RegistryEvent sparse = new RegistryEvent("id-2", "2026-11-30T12:00:00.002Z", "delete",
        new RegistryEvent.Target(null, null, null, null, "team/app", null, null, null, null),
        new RegistryEvent.Request(null, "", null, "DELETE", null), new RegistryEvent.Actor("anonymous"),
        new RegistryEvent.Source("n1:5000", "node-1"));
    assertTrue(full.toJson().contains("\"order\":1764504000001"), full.toJson());
    for (RegistryEvent e : List.of(full, sparse)) {
      assertEquals(EventFormat.JSON.writeValueAsString(e), e.toJson());
      assertEquals(EventFormat.JSON.readTree(EventFormat.JSON.writeValueAsString(e)), EventFormat.JSON.readTree(e.toJson()));
    }
  }

  @Test
  void idsAreVersion4UuidsAndTimestampsAreRfc3339Utc() {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      UUID id = UUID.fromString(EventHub.newId());
      assertEquals(4, id.version());
      assertEquals(2, id.variant());
      assertTrue(ids.add(id.toString()));
    }
    assertEquals("2026-11-30T12:05:03.007Z", Timestamps.format(Instant.parse("2026-11-30T12:05:03.007Z").toEpochMilli()));
    assertEquals("1970-01-01T00:00:00.000Z", Timestamps.format(0));
    assertEquals("2026-11-30T12:05:04.120Z", Timestamps.format(Instant.parse("2026-11-30T12:05:04.120Z").toEpochMilli()));
    assertNotEquals(Timestamps.now(), "");
    Instant.parse(Timestamps.now());
  }
}
