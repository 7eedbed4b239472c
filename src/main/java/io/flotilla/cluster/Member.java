package io.flotilla.cluster;

/**
 * One Flotilla node as the cluster sees it. A plain value: immutable, safe to share between
 * threads and to compare with {@code equals}.
 *
 * <p>Placement hashes only {@link #nodeName}, so a node that restarts under the same name with the
 * same disk owns the same repositories again, whatever id the cluster manager gives it this time.
 *
 * @param nodeName Flotilla's node name ({@code nodeName} in the config); unique in a cluster, and
 *     the key of placement and of node-scoped bus addresses
 * @param vertxNodeId the cluster manager's id of this incarnation of the node (the Vert.x node id,
 *     which changes at every restart); for a Hazelcast member not started by Vert.x, the Hazelcast
 *     member UUID
 * @param httpAddress where the node serves HTTP, for information only (logs, redirects, the ops
 *     API); empty when unknown, never null
 * @throws IllegalArgumentException if the name or id is blank, or the address is null
 */
public record Member(String nodeName, String vertxNodeId, String httpAddress) implements Comparable<Member> {
  public Member {
    if (nodeName == null || nodeName.isBlank()) {
      throw new IllegalArgumentException("member node name must not be blank");
    }
    if (vertxNodeId == null || vertxNodeId.isBlank()) {
      throw new IllegalArgumentException("member " + nodeName + ": cluster node id must not be blank");
    }
    if (httpAddress == null) {
      throw new IllegalArgumentException("member " + nodeName + ": http address must not be null (use \"\")");
    }
  }

  /** Orders by node name, then by node id (two incarnations of a name never share a view). */
  @Override
  public int compareTo(Member o) {
    int c = nodeName.compareTo(o.nodeName);
    return c != 0 ? c : vertxNodeId.compareTo(o.vertxNodeId);
  }
}
