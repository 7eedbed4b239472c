package io.flotilla.cluster;

import java.util.List;

/**
 * What {@code GET /api/v1/cluster} reports: this node, the current membership view, the members
 * that are draining (leaving gracefully), the replication factor in force (as configured, and as
 * capped by the member count), and this node's rebalancing progress.
 */
public record ClusterStatus(String node, long epoch, int replicationFactor, int effectiveReplicationFactor,
    List<MemberStatus> members, List<String> draining, Rebalancer.Status rebalancing) {

  /**
   * One member as this node sees it.
   *
   * @param state what it announced: {@code serving}, {@code draining}, or {@code unknown} (nothing yet)
   */
  public record MemberStatus(String name, String httpAddress, String vertxNodeId, String state) {}

  public static ClusterStatus of(Membership membership, String localNode, int replicationFactor,
      Rebalancer.Status rebalancing) {
    ClusterView view = membership.current();
    List<MemberStatus> members = view.members().stream()
        .map(m -> new MemberStatus(m.nodeName(), m.httpAddress(), m.vertxNodeId(), membership.state(m.nodeName())
            .map(s -> s.name().toLowerCase(java.util.Locale.ROOT)).orElse("unknown"))).toList();
    return new ClusterStatus(localNode, view.epoch(), replicationFactor,
        membership.placement().effectiveReplicas(replicationFactor), members, List.copyOf(membership.draining()),
        rebalancing);
  }
}
