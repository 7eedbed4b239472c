package io.flotilla.cluster;

import static io.flotilla.cluster.ConsistencyModel.ABSENT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.ConsistencyModel.Outcome;
import io.flotilla.cluster.ConsistencyModel.Presence;
import io.flotilla.cluster.ConsistencyModel.TagState;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The model ConsistencyIT checks against: what acknowledged and unknown outcomes allow. */
class ConsistencyModelTest {
  private final ConsistencyModel model = new ConsistencyModel();
  private final TagState t = model.tag("r", "w0-0");

  private Presence presence(String digest) {
    return model.manifests().stream().filter(m -> m.digest.equals(digest)).findFirst().orElseThrow().presence;
  }

  @Test
  void acknowledgedOperationsLeaveExactlyOneValue() {
    assertEquals(Set.of(ABSENT), t.allowed());
    model.pushed(t, "d1", Outcome.ACKED, "");
    model.pushed(t, "d2", Outcome.ACKED, "");
    assertEquals(Set.of("d2"), t.allowed());
    assertEquals(Presence.PRESENT, presence("d1"), "an overwritten manifest stays");
    model.tagDeleted(t, Outcome.ACKED, "", "n");
    assertEquals(Set.of(ABSENT), t.allowed());
    assertEquals(Presence.PRESENT, presence("d2"), "a tag delete keeps the manifest");
    model.pushed(t, "d3", Outcome.ACKED, "");
    model.manifestDeleted(t, "d3", Outcome.ACKED, "", "n");
    assertEquals(Set.of(ABSENT), t.allowed());
    assertEquals(Presence.DELETED, presence("d3"));
    assertTrue(model.anomalies().isEmpty());
    assertEquals(5, model.expectedEvents().size(), "three pushes and two deletes");
  }

  @Test
  void unknownOutcomesStayAllowedForGood() {
    model.pushed(t, "d1", Outcome.ACKED, "");
    model.pushed(t, "d2", Outcome.UNKNOWN, "");
    assertEquals(Set.of("d1", "d2"), t.allowed());
    assertEquals(Presence.UNCERTAIN, presence("d2"));
    // a later acknowledged delete does not rule d2 out: the timed-out PUT may still land after it
    model.tagDeleted(t, Outcome.ACKED, "", "n");
    assertEquals(Set.of(ABSENT, "d2"), t.allowed());
    model.pushed(t, "d3", Outcome.ACKED, "");
    model.tagDeleted(t, Outcome.UNKNOWN, "", "n");
    assertEquals(Set.of(ABSENT, "d2", "d3"), t.allowed());
    assertEquals(1 + 1 + 1, model.expectedEvents().size(), "no event is expected for unknown outcomes");
  }

  @Test
  void rejectedOperationsChangeNothing() {
    model.pushed(t, "d1", Outcome.ACKED, "");
    model.pushed(t, "d2", Outcome.REJECTED, "");
    model.tagDeleted(t, Outcome.REJECTED, "", "n");
    assertEquals(Set.of("d1"), t.allowed());
    assertEquals(1, model.manifests().size());
  }

  @Test
  void aDeleteAnswered404ForAnAcknowledgedTagIsAnAnomalyAndLeavesBothValuesPossible() {
    model.tagDeleted(t, Outcome.NOT_FOUND, "", "n");
    assertTrue(model.anomalies().isEmpty(), "404 for a tag that is not there is right");
    model.pushed(t, "d1", Outcome.ACKED, "");
    model.tagDeleted(t, Outcome.NOT_FOUND, "", "node-1");
    assertEquals(1, model.anomalies().size());
    assertEquals(Set.of(ABSENT, "d1"), t.allowed());
  }

  @Test
  void anUnknownManifestDeleteMakesTheManifestUncertainAndARepeatedOneSettlesIt() {
    model.pushed(t, "d1", Outcome.ACKED, "");
    model.manifestDeleted(t, "d1", Outcome.UNKNOWN, "", "n");
    assertEquals(Presence.UNCERTAIN, presence("d1"));
    assertEquals(Set.of(ABSENT, "d1"), t.allowed());
    model.manifestDeleted(t, "d1", Outcome.NOT_FOUND, "", "n");
    assertTrue(model.anomalies().isEmpty(), "the unknown delete may have removed it");
    model.manifestDeleted(t, "d1", Outcome.ACKED, "", "n");
    assertEquals(Presence.DELETED, presence("d1"));
    assertEquals(Set.of(ABSENT), t.allowed());
  }
}
