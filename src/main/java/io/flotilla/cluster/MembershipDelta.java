package io.flotilla.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A change of membership: the members that joined and the members that left. Immutable; produced
 * by {@link ClusterView#deltaFrom} or by {@link Membership} from the cluster manager's member
 * list, and turned into the next image by {@link ClusterView#apply}.
 *
 * <p>A node that restarted under the same name appears as its old incarnation in {@link #left}
 * and its new one in {@link #joined}.
 *
 * @param joined members to add, sorted by node name
 * @param left members to remove, sorted by node name
 * @throws IllegalArgumentException if a list is null or holds null
 */
public record MembershipDelta(List<Member> joined, List<Member> left) {
  /** No change. */
  public static final MembershipDelta NONE = new MembershipDelta(List.of(), List.of());

  public MembershipDelta {
    joined = sorted(joined, "joined");
    left = sorted(left, "left");
  }

  public static MembershipDelta joined(Member... members) {
    return new MembershipDelta(List.of(members), List.of());
  }

  public static MembershipDelta left(Member... members) {
    return new MembershipDelta(List.of(), List.of(members));
  }

  public boolean isEmpty() {
    return joined.isEmpty() && left.isEmpty();
  }

  private static List<Member> sorted(List<Member> members, String what) {
    if (members == null || members.stream().anyMatch(Objects::isNull)) {
      throw new IllegalArgumentException(what + " members must not be null");
    }
    List<Member> copy = new ArrayList<>(members);
    copy.sort(null);
    return List.copyOf(copy);
  }
}
