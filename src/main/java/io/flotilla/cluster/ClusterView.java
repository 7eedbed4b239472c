package io.flotilla.cluster;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * An immutable image of the cluster: the Flotilla nodes that are members, sorted by node name,
 * and an epoch. A {@link MembershipDelta} turns an image into the next one ({@link #apply}); two
 * images give the delta between them ({@link #deltaFrom}). {@link Placement} is computed from an
 * image, so every node that holds the same members computes the same owners.
 *
 * <p>The epoch is local to the process that built the image: it starts at 0 for the empty image and
 * grows by one at every applied change, so a subscriber can tell a newer image from an older one.
 * Nodes that joined at different times hold the same members under different epochs; compare
 * images across nodes with {@link #sameMembers}, never by epoch.
 *
 * <p>Immutable and thread-safe. Lookups are linear scans: a cluster has tens of nodes, not
 * thousands. Construction fails with {@link IllegalArgumentException} on a negative epoch or on two
 * members with the same node name or the same cluster node id.
 *
 * @param epoch local, monotonic version of this image
 * @param members the members, sorted by node name (sorted here whatever the given order)
 */
public record ClusterView(long epoch, List<Member> members) {
  private static final ClusterView EMPTY = new ClusterView(0, List.of());

  public ClusterView {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must not be negative, was " + epoch);
    }
    if (members == null || members.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException("members must not be null");
    }
    List<Member> copy = new ArrayList<>(members);
    copy.sort(null);
    Set<String> names = new HashSet<>();
    Set<String> ids = new HashSet<>();
    for (Member m : copy) {
      if (!names.add(m.nodeName())) {
        throw new IllegalArgumentException("two members are named " + m.nodeName());
      }
      if (!ids.add(m.vertxNodeId())) {
        throw new IllegalArgumentException("two members have the cluster node id " + m.vertxNodeId());
      }
    }
    members = List.copyOf(copy);
  }

  /** The image before any member is known: epoch 0, no members. */
  public static ClusterView empty() {
    return EMPTY;
  }

  /** An image of the given members, in any order. */
  public static ClusterView of(long epoch, Member... members) {
    return new ClusterView(epoch, List.of(members));
  }

  public int size() {
    return members.size();
  }

  public boolean isEmpty() {
    return members.isEmpty();
  }

  /** Node names, sorted. */
  public List<String> nodeNames() {
    return members.stream().map(Member::nodeName).toList();
  }

  public boolean contains(String nodeName) {
    return member(nodeName).isPresent();
  }

  /** The member with this Flotilla node name. */
  public Optional<Member> member(String nodeName) {
    for (Member m : members) {
      if (m.nodeName().equals(nodeName)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** The member with this cluster manager (Vert.x) node id. */
  public Optional<Member> memberByVertxNodeId(String vertxNodeId) {
    for (Member m : members) {
      if (m.vertxNodeId().equals(vertxNodeId)) {
        return Optional.of(m);
      }
    }
    return Optional.empty();
  }

  /** True when both images hold exactly the same members, whatever their epochs. */
  public boolean sameMembers(ClusterView other) {
    return members.equals(other.members);
  }

  /**
   * The next image: first the {@code left} members are removed (a member is removed only if this
   * image holds exactly that member, so a late "left" of an old incarnation cannot remove the new
   * one), then the {@code joined} members are added (one already present is ignored). Returns this
   * image when nothing changed, otherwise a new one with {@code epoch + 1}.
   *
   * @throws IllegalArgumentException if a joining member's name or node id is held by another member
   *     that is not leaving in the same delta
   */
  public ClusterView apply(MembershipDelta delta) {
    Map<String, Member> next = new LinkedHashMap<>();
    for (Member m : members) {
      next.put(m.nodeName(), m);
    }
    boolean changed = false;
    for (Member gone : delta.left()) {
      changed |= next.remove(gone.nodeName(), gone);
    }
    for (Member m : delta.joined()) {
      Member present = next.putIfAbsent(m.nodeName(), m);
      if (present == null) {
        changed = true;
      } else if (!present.equals(m)) {
        throw new IllegalArgumentException("member " + m + " joined while " + present + " holds its name");
      }
    }
    if (!changed) {
      return this;
    }
    return new ClusterView(epoch + 1, new ArrayList<>(next.values()));
  }

  /** What changed from {@code older} to this image: members added and members removed. */
  public MembershipDelta deltaFrom(ClusterView older) {
    List<Member> joined = members.stream().filter(m -> !older.members.contains(m)).toList();
    List<Member> left = older.members.stream().filter(m -> !members.contains(m)).toList();
    return new MembershipDelta(joined, left);
  }

  @Override
  public String toString() {
    return "ClusterView[epoch=" + epoch + ", members=" + nodeNames() + "]";
  }
}
