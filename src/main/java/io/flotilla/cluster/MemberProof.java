package io.flotilla.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceNotActiveException;
import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.MembershipProof;
import io.flotilla.bus.Messages.ProveMembership;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admits a Hazelcast member into the {@link Membership} view only once it has proved, over the
 * mutually authenticated event bus, that it holds the cluster certificate.
 *
 * <p><b>Why.</b> Hazelcast open source has neither TLS nor member authentication: any process that
 * reaches the Hazelcast port with the cluster name joins, and may write anything into the shared
 * maps (claim a node state, register bus subscriptions). The event bus runs over mutual TLS
 * ({@link ClusterTls}), so only certificate holders can send or receive on it. A member therefore
 * counts only once it answered a challenge on the bus.
 *
 * <p><b>How.</b> For every other named Hazelcast member, this node sends {@link ProveMembership}
 * (a fresh random nonce) to the member's node-scoped address {@link Addresses#MEMBER_PROVE}. A
 * certificate holder answers with the nonce, its node name and its own Hazelcast member UUID; the
 * member is proven when all three match what Hazelcast says of the member challenged. The reply can
 * only come over the mutually authenticated bus; echoing the name and UUID means a holder's answer
 * cannot be relayed to prove some other member (a rogue that registered a subscription under a
 * legitimate node's name or pointed its address at a legitimate node gets that node's own name and
 * UUID back, which do not match). Failed challenges are retried with a back-off (from
 * {@link #FIRST_RETRY_MILLIS} to {@link #MAX_RETRY_MILLIS}) as long as the member stays; a proof
 * lasts until the member leaves Hazelcast.
 *
 * <p><b>Threads.</b> Challenges run on one Vert.x event loop context; the {@link Membership.Gate}
 * ({@link #admits}) and {@link #unproven} read a concurrent set from any thread and never block.
 */
public final class MemberProof implements Membership.Gate, AutoCloseable {
  static final long FIRST_RETRY_MILLIS = 200;
  static final long MAX_RETRY_MILLIS = 5_000;
  /** A member still unproven this long after its first challenge is reported (a starting node takes a while). */
  static final long WARN_AFTER_MILLIS = 15_000;
  private static final System.Logger LOG = System.getLogger(MemberProof.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Vertx vertx;
  private final Context context;
  private final HazelcastInstance hazelcast;
  private final String localNode;
  private final Set<UUID> proven = ConcurrentHashMap.newKeySet();
  /** Members being challenged -> next delay; removed when proven or gone. */
  private final Map<UUID, Long> pending = new ConcurrentHashMap<>();
  /** Members being challenged -> when the first challenge was sent (System.nanoTime()). */
  private final Map<UUID, Long> since = new ConcurrentHashMap<>();
  private final Set<UUID> warned = ConcurrentHashMap.newKeySet();
  private volatile Runnable onProven = () -> {};
  private volatile boolean closed;
  private UUID listenerId;

  private MemberProof(Vertx vertx, HazelcastInstance hazelcast, String localNode) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.hazelcast = hazelcast;
    this.localNode = localNode;
  }

  /**
   * Answers challenges addressed to {@code localNode} and follows Hazelcast's member list. Call
   * {@link #challenge} once the {@link Membership} that uses this gate exists.
   */
  public static Future<MemberProof> start(Vertx vertx, HazelcastInstance hazelcast, String localNode) {
    MemberProof p = new MemberProof(vertx, hazelcast, localNode);
    String uuid = hazelcast.getCluster().getLocalMember().getUuid().toString();
    return Bus.serve(vertx, Addresses.MEMBER_PROVE, localNode,
            (ProveMembership q) -> Future.succeededFuture(new MembershipProof(q.nonce(), localNode, uuid)))
        .map(consumer -> p);
  }

  /**
   * Starts challenging every other member, now and whenever one joins; {@code proven} runs (on an
   * event loop; it must not block) each time a member is proven.
   */
  public void challenge(Runnable proven) {
    this.onProven = proven;
    listenerId = hazelcast.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        context.runOnContext(v -> consider(event.getMember()));
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        UUID gone = event.getMember().getUuid();
        MemberProof.this.proven.remove(gone);
        pending.remove(gone);
        since.remove(gone);
        warned.remove(gone);
      }
    });
    for (com.hazelcast.cluster.Member m : hazelcast.getCluster().getMembers()) {
      context.runOnContext(v -> consider(m));
    }
  }

  @Override
  public boolean admits(com.hazelcast.cluster.Member member) {
    return proven.contains(member.getUuid());
  }

  /** Named members that have not proved they hold the cluster certificate (yet), oldest first. */
  public List<Member> unproven() {
    try {
      return hazelcast.getCluster().getMembers().stream()
          .filter(m -> !m.localMember() && !proven.contains(m.getUuid()))
          .flatMap(m -> Membership.toMember(m).stream()).toList();
    } catch (HazelcastInstanceNotActiveException e) {
      return List.of();
    }
  }

  private void consider(com.hazelcast.cluster.Member member) {
    if (closed || member.localMember() || proven.contains(member.getUuid())
        || Membership.toMember(member).isEmpty() || pending.putIfAbsent(member.getUuid(), FIRST_RETRY_MILLIS) != null) {
      return;
    }
    since.put(member.getUuid(), System.nanoTime());
    send(member);
  }

  private void send(com.hazelcast.cluster.Member member) {
    UUID uuid = member.getUuid();
    String name = Membership.toMember(member).orElseThrow().nodeName();
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    String nonce = HexFormat.of().formatHex(bytes);
    Bus.requestOutsideView(vertx, Addresses.MEMBER_PROVE, name, new ProveMembership(nonce, localNode))
        .onComplete(ar -> {
          if (closed || !pending.containsKey(uuid)) {
            return; // closed, or the member left meanwhile
          }
          String problem = ar.failed() ? "no answer: " + ar.cause().getMessage() : mismatch(ar.result(), nonce, name, uuid);
          if (problem == null) {
            pending.remove(uuid);
            since.remove(uuid);
            proven.add(uuid);
            LOG.log(System.Logger.Level.INFO, "member " + name + " (" + member.getAddress()
                + ") proved it holds the cluster certificate: it counts from now on");
            onProven.run();
            return;
          }
          long delay = pending.get(uuid);
          pending.put(uuid, Math.min(MAX_RETRY_MILLIS, delay * 2));
          long waited = (System.nanoTime() - since.getOrDefault(uuid, System.nanoTime())) / 1_000_000;
          if (waited >= WARN_AFTER_MILLIS && warned.add(uuid)) {
            LOG.log(System.Logger.Level.WARNING, "member " + name + " (" + member.getAddress() + ") has not proved "
                + "it holds the cluster certificate in " + waited + " ms (" + problem + "): it is not counted, nothing is placed on it "
                + "and no repository traffic goes to it; still trying every " + MAX_RETRY_MILLIS + " ms");
          }
          vertx.setTimer(delay, t -> {
            if (!closed && pending.containsKey(uuid)) {
              send(member);
            }
          });
        });
  }

  /** Why a reply does not prove the member challenged; null when it does. */
  static String mismatch(MembershipProof reply, String nonce, String name, UUID uuid) {
    if (!nonce.equals(reply.nonce())) {
      return "the reply does not echo the challenge";
    }
    if (!name.equals(reply.nodeName()) || !uuid.toString().equals(reply.memberUuid())) {
      return "the reply came from " + reply.nodeName() + " (member " + reply.memberUuid() + ")";
    }
    return null;
  }

  /** Stops challenging; members proven so far stay admitted. */
  @Override
  public void close() {
    closed = true;
    if (listenerId != null) {
      try {
        hazelcast.getCluster().removeMembershipListener(listenerId);
      } catch (HazelcastInstanceNotActiveException e) {
        // gone with the instance
      }
    }
  }
}
