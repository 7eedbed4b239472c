package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.core.HazelcastInstance;
import io.flotilla.cluster.Membership.NodeState;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.ManifestMeta;
import io.flotilla.storage.MetadataStore;
import io.flotilla.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node back after an absence longer than the tombstone retention, with real Hazelcast members and
 * real metadata databases in this JVM: it discards its copies when a member that stayed serves (the
 * others may have forgotten deletes made meanwhile), keeps them when none does (a whole cluster
 * stopped that long), and a node that starts after such a keeper keeps its copies too.
 */
class LongAbsenceIT {
  private static final RepositoryName REPO = RepositoryName.of("team/app");
  private static final Duration RETENTION = Duration.ofSeconds(10);
  private static final long T0 = 1_700_000_000_000L;

  @TempDir
  Path dir;
  private final LocalHazelcast hazelcast = new LocalHazelcast(2);
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
    hazelcast.close();
  }

  private MetadataStore storeWithATag(String name) throws java.io.IOException {
    MetadataStore s = new MetadataStore(dir.resolve(name));
    s.load();
    open.add(s::close);
    Digest d = Digest.sha256(name.getBytes(StandardCharsets.UTF_8));
    s.putManifest(REPO, new ManifestMeta(d, MediaTypes.OCI_MANIFEST, 10, null, null, Map.of(), List.of(), T0),
        new Tag("latest"), T0, true, () -> {});
    s.markAlive(T0);
    return s;
  }

  private Membership member(HazelcastInstance hz) {
    Membership m = Membership.start(hz, 2);
    open.add(m::close);
    return m;
  }

  @Test
  void backAfterTooLongItDiscardsItsCopiesWhenAMemberThatStayedServes() throws Exception {
    Membership stayed = member(hazelcast.start(1));
    stayed.announce("node-1", NodeState.SERVING);
    HazelcastInstance hz2 = hazelcast.start(2);
    Membership back = member(hz2);
    Await.until("node-2 sees node-1 serving", Duration.ofSeconds(30),
        () -> back.state("node-1").orElse(null) == NodeState.SERVING);
    MetadataStore s = storeWithATag("node-2");

    assertEquals(LongAbsence.Outcome.DISCARDED, LongAbsence.onStart(hz2, back, s, "node-2", RETENTION,
        T0 + RETENTION.toMillis() + 1));
    assertFalse(s.holdsContent(), "its copies are gone: the owners refill it");
    assertNull(s.tag(REPO, new Tag("latest")));
    assertEquals(T0 + RETENTION.toMillis() + 1, s.lastAlive());
  }

  @Test
  void aWholeClusterBackAfterTooLongKeepsItsCopies() throws Exception {
    HazelcastInstance hz1 = hazelcast.start(1);
    Membership first = member(hz1);
    MetadataStore s1 = storeWithATag("node-1");
    long now = T0 + RETENTION.toMillis() * 3;
    assertEquals(LongAbsence.Outcome.KEPT, LongAbsence.onStart(hz1, first, s1, "node-1", RETENTION, now),
        "nobody that stayed serves: these may be the only copies");
    first.announce("node-1", NodeState.SERVING);

    HazelcastInstance hz2 = hazelcast.start(2);
    Membership second = member(hz2);
    Await.until("node-2 sees node-1 serving", Duration.ofSeconds(30),
        () -> second.state("node-1").orElse(null) == NodeState.SERVING);
    MetadataStore s2 = storeWithATag("node-2");
    assertEquals(LongAbsence.Outcome.KEPT, LongAbsence.onStart(hz2, second, s2, "node-2", RETENTION,
        now + 1), "node-1 serves, but it came back as stale as this node");
    assertTrue(s1.holdsContent());
    assertTrue(s2.holdsContent());
  }

  @Test
  void aShortAbsenceKeepsEverything() throws Exception {
    Membership stayed = member(hazelcast.start(1));
    stayed.announce("node-1", NodeState.SERVING);
    HazelcastInstance hz2 = hazelcast.start(2);
    Membership back = member(hz2);
    MetadataStore s = storeWithATag("node-2");
    assertEquals(LongAbsence.Outcome.NOT_AWAY_LONG, LongAbsence.onStart(hz2, back, s, "node-2",
        RETENTION, T0 + RETENTION.toMillis()));
    assertTrue(s.holdsContent());
    assertEquals(Duration.ofMillis(2500), LongAbsence.heartbeat(RETENTION), "a quarter of the retention");
    assertEquals(Duration.ofMinutes(10), LongAbsence.heartbeat(Duration.ofDays(7)));
  }
}
