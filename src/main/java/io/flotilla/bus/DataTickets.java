package io.flotilla.bus;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The tickets of a node's data channel: each names one transfer (a grant: which blob region to send,
 * or which upload write to take) and one direction, is unguessable (256 random bits), expires after
 * a short time and can be presented once. A ticket is used up by its first presentation, whether that
 * succeeds or not: a ticket presented for the wrong direction, late or a second time admits nothing.
 *
 * <p>Thread-safe (tickets are issued on bus consumers and redeemed on connection handlers, possibly on
 * different event loops); plain Java, no Vert.x. Expired tickets are dropped on {@link #purge} and
 * whenever a ticket is issued.
 *
 * @param <G> what a ticket grants
 */
public final class DataTickets<G> {
  /** Which way the bytes go, seen from the node that issued the ticket. */
  public enum Direction {
    /** The issuer sends blob bytes to the connecting node. */
    SEND('R'),
    /** The connecting node sends bytes into the issuer. */
    RECEIVE('W');

    private final char wire;

    Direction(char wire) {
      this.wire = wire;
    }

    /** The byte the connecting side sends before the ticket. */
    public byte wire() {
      return (byte) wire;
    }

    /** The direction of a wire byte, or null. */
    public static Direction ofWire(byte b) {
      for (Direction d : values()) {
        if (d.wire == b) {
          return d;
        }
      }
      return null;
    }
  }

  /** Characters of a ticket on the wire: 32 random bytes, base64url without padding. */
  public static final int TICKET_CHARS = 43;

  private record Entry<G>(Direction direction, G grant, long expiresNanos) {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private final Map<String, Entry<G>> tickets = new ConcurrentHashMap<>();
  private final long ttlNanos;
  private final LongSupplier nanos;

  /** Tickets that live {@code ttl} by {@link System#nanoTime}. */
  public DataTickets(Duration ttl) {
    this(ttl, System::nanoTime);
  }

  /** Tickets that live {@code ttl} by the given clock (tests). */
  public DataTickets(Duration ttl, LongSupplier nanos) {
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ticket lifetime must be positive");
    }
    this.ttlNanos = ttl.toNanos();
    this.nanos = nanos;
  }

  /** Issues a ticket for one transfer of {@code grant} in {@code direction}. */
  public String issue(Direction direction, G grant) {
    if (direction == null || grant == null) {
      throw new IllegalArgumentException("a ticket needs a direction and a grant");
    }
    purge();
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    tickets.put(ticket, new Entry<>(direction, grant, nanos.getAsLong() + ttlNanos));
    return ticket;
  }

  /**
   * Redeems a ticket presented for {@code direction}: its grant, or null when the ticket is unknown,
   * already used, expired or was issued for the other direction. Either way the ticket is used up.
   */
  public G redeem(String ticket, Direction direction) {
    if (ticket == null) {
      return null;
    }
    Entry<G> e = tickets.remove(ticket);
    if (e == null || e.direction() != direction || nanos.getAsLong() - e.expiresNanos() > 0) {
      return null;
    }
    return e.grant();
  }

  /** Drops expired tickets. */
  public void purge() {
    long now = nanos.getAsLong();
    for (Iterator<Entry<G>> it = tickets.values().iterator(); it.hasNext(); ) {
      if (now - it.next().expiresNanos() > 0) {
        it.remove();
      }
    }
  }

  /** Tickets issued and neither redeemed nor purged. */
  public int outstanding() {
    return tickets.size();
  }
}
