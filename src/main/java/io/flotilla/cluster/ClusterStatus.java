package io.flotilla.cluster;

import java.util.List;

/**
 * What {@code GET /api/v1/cluster} reports: this node, the current membership view, the members
 * that are draining (leaving gracefully), the replication factor in force (as configured, and as
 * capped by the member count), and this node's rebalancing progress. With cluster TLS on, the
 * Hazelcast members that have not proved they hold the cluster certificate are listed too, in state
 * {@code unproven}: they are not in the view ({@code epoch}) and nothing is placed on them.
 */
public record ClusterStatus(String node, long epoch, int replicationFactor, int effectiveReplicationFactor,
    List<MemberStatus> members, List<String> draining, Rebalancer.Status rebalancing) {

  /**
   * One member as this node sees it.
   *
   * @param state what it announced: {@code serving}, {@code draining}, or {@code unknown} (nothing yet);
   *     or {@code unproven}: a Hazelcast member that has not proved it holds the cluster certificate
   */
  public record MemberStatus(String name, String httpAddress, String vertxNodeId, String state) {}

  /** The status without unproven members (cluster TLS off). */
  public static ClusterStatus of(Membership membership, String localNode, int replicationFactor,
      Rebalancer.Status rebalancing) {
    return of(membership, List.of(), localNode, replicationFactor, rebalancing);
  }

  /** The status, with {@code unproven} members listed in state {@code unproven} after the view's. */
  public static ClusterStatus of(Membership membership, List<Member> unproven, String localNode, int replicationFactor,
      Rebalancer.Status rebalancing) {
    ClusterView view = membership.current();
    List<MemberStatus> members = new java.util.ArrayList<>(view.members().stream()
        .map(m -> new MemberStatus(m.nodeName(), m.httpAddress(), m.vertxNodeId(), membership.state(m.nodeName())
            .map(s -> s.name().toLowerCase(java.util.Locale.ROOT)).orElse("unknown"))).toList());
    for (Member m : unproven) {
      members.add(new MemberStatus(m.nodeName(), m.httpAddress(), m.vertxNodeId(), "unproven"));
    }
    return new ClusterStatus(localNode, view.epoch(), replicationFactor,
        membership.placement().effectiveReplicas(replicationFactor), members, List.copyOf(membership.draining()),
        rebalancing);
  }
}
