package io.flotilla.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.bus.DataTickets.Direction;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DataTicketsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final DataTickets<String> tickets = new DataTickets<>(Duration.ofSeconds(30), now::get);

  @Test
  void aTicketAdmitsItsGrantOnce() {
    String t = tickets.issue(Direction.SEND, "blob-a");
    assertEquals(DataTickets.TICKET_CHARS, t.length());
    assertEquals("blob-a", tickets.redeem(t, Direction.SEND));
    assertNull(tickets.redeem(t, Direction.SEND), "a ticket is single-use");
    assertEquals(0, tickets.outstanding());
  }

  @Test
  void eachTicketIsBoundToItsOwnGrant() {
    String a = tickets.issue(Direction.SEND, "blob-a");
    String b = tickets.issue(Direction.SEND, "blob-b");
    assertNotEquals(a, b);
    assertEquals("blob-b", tickets.redeem(b, Direction.SEND));
    assertEquals("blob-a", tickets.redeem(a, Direction.SEND));
  }

  @Test
  void theWrongDirectionAdmitsNothingAndUsesTheTicketUp() {
    String t = tickets.issue(Direction.RECEIVE, "upload-1");
    assertNull(tickets.redeem(t, Direction.SEND));
    assertNull(tickets.redeem(t, Direction.RECEIVE), "a misdirected attempt used the ticket up");
  }

  @Test
  void anExpiredTicketIsRefused() {
    String t = tickets.issue(Direction.SEND, "blob-a");
    now.addAndGet(Duration.ofSeconds(30).toNanos() + 1);
    assertNull(tickets.redeem(t, Direction.SEND));
  }

  @Test
  void aTicketIsGoodUntilItsLifetimeEnds() {
    String t = tickets.issue(Direction.SEND, "blob-a");
    now.addAndGet(Duration.ofSeconds(30).toNanos());
    assertEquals("blob-a", tickets.redeem(t, Direction.SEND));
  }

  @Test
  void unknownTicketsAreRefused() {
    tickets.issue(Direction.SEND, "blob-a");
    assertNull(tickets.redeem("x".repeat(DataTickets.TICKET_CHARS), Direction.SEND));
    assertNull(tickets.redeem(null, Direction.SEND));
    assertEquals(1, tickets.outstanding());
  }

  @Test
  void expiredTicketsArePurged() {
    tickets.issue(Direction.SEND, "blob-a");
    tickets.issue(Direction.RECEIVE, "upload-1");
    now.addAndGet(Duration.ofMinutes(1).toNanos());
    tickets.purge();
    assertEquals(0, tickets.outstanding());
    String fresh = tickets.issue(Direction.SEND, "blob-b");
    assertEquals(1, tickets.outstanding());
    assertEquals("blob-b", tickets.redeem(fresh, Direction.SEND));
  }

  @Test
  void ticketsAreUnguessable() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      seen.add(tickets.issue(Direction.SEND, "g"));
    }
    assertEquals(1000, seen.size());
  }

  @Test
  void directionsHaveDistinctWireBytes() {
    assertEquals(Direction.SEND, Direction.ofWire(Direction.SEND.wire()));
    assertEquals(Direction.RECEIVE, Direction.ofWire(Direction.RECEIVE.wire()));
    assertNull(Direction.ofWire((byte) 0));
    assertThrows(IllegalArgumentException.class, () -> new DataTickets<String>(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> tickets.issue(null, "g"));
  }
}
