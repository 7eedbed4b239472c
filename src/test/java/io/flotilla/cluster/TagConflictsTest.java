package io.flotilla.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.flotilla.oci.Digest;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A resolved conflict is counted and reported as an event that names both values. */
class TagConflictsTest {
  @Test
  void aConflictIsCountedAndReportedAsAnEventOfTheNode() {
    List<RequestContext> contexts = new ArrayList<>();
    List<EventSink.Operation> events = new ArrayList<>();
    TagConflicts conflicts = new TagConflicts((ctx, op) -> {
      contexts.add(ctx);
      events.add(op);
      return Future.succeededFuture();
    }, "node-1");
    Digest lost = Digest.sha256("lost".getBytes(StandardCharsets.UTF_8));
    String winner = Digest.sha256("winner".getBytes(StandardCharsets.UTF_8)).toString();

    conflicts.report("team/app", "latest", lost, 1_000L, winner, 2_000L, "node-2");

    assertEquals(1, conflicts.count());
    assertEquals(List.of(new EventSink.Operation("conflict", "team/app", lost.toString(), null, -1, "latest", null,
        List.of(winner))), events);
    assertFalse(contexts.get(0).isInternal(), "reported, unlike the node's other background work");
    assertEquals("flotilla", contexts.get(0).identity());
  }
}
