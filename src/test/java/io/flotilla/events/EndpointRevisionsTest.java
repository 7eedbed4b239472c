package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EndpointRevisionsTest {
  @Test
  void aStalePutNeverOverwritesANewerOne() {
    EndpointRevisions r = new EndpointRevisions();
    assertTrue(r.putWins("a", 10, "{v2}", null));
    r.put("a", 10);
    assertFalse(r.putWins("a", 9, "{v1}", "{v2}"), "older put");
    assertFalse(r.putWins("a", 10, "{v2}", "{v2}"), "the same put again (snapshot then its change)");
    assertTrue(r.putWins("a", 11, "{v3}", "{v2}"));
  }

  @Test
  void aDeleteBeatsOlderPutsEvenAfterTheEndpointIsGone() {
    EndpointRevisions r = new EndpointRevisions();
    r.put("a", 10);
    assertFalse(r.deleteWins("a", 9));
    assertTrue(r.deleteWins("a", 12));
    r.delete("a", 12);
    assertEquals(-1, r.of("a"));
    assertFalse(r.putWins("a", 11, "{late}", null), "a put older than the delete");
    assertFalse(r.putWins("a", 12, "{same}", null), "a delete beats a put of the same revision");
    assertTrue(r.putWins("a", 13, "{again}", null));
  }

  @Test
  void equalRevisionsPickTheSameWinnerInEitherOrder() {
    EndpointRevisions one = new EndpointRevisions();
    one.put("a", 5); // holds {x}
    EndpointRevisions two = new EndpointRevisions();
    two.put("a", 5); // holds {y}
    assertTrue(one.putWins("a", 5, "{y}", "{x}"));
    assertFalse(two.putWins("a", 5, "{x}", "{y}"));
  }

  @Test
  void localRevisionsAreAboveEverythingSeen() {
    EndpointRevisions r = new EndpointRevisions();
    long first = r.next();
    assertTrue(first >= System.currentTimeMillis() - 60_000, "seeded by the wall clock");
    assertTrue(r.next() > first);
    r.seen(first + 1_000_000);
    assertTrue(r.next() > first + 1_000_000);
    assertTrue(r.putWins("file-endpoint", 0, "{x}", "{y}"), "an endpoint held without a revision loses to any put");
  }
}
