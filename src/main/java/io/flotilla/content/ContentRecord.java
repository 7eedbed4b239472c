package io.flotilla.content;

import java.util.Objects;

/**
 * One stored content object (a remote, repository settings, a version, a publication, a
 * distribution, a task) as nodes keep and exchange it: its kind and key, a revision, the node that
 * wrote that revision, whether it is deleted (a tombstone keeps an older copy from coming back), and
 * the object's JSON. Of two records of one key the later wins: higher revision, then node name, then
 * deleted over live; a total order, so merging in any order gives every node the same state.
 */
public record ContentRecord(String kind, String key, long rev, String node, boolean deleted, String body) {
  public ContentRecord {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(node, "node");
    body = body == null ? "" : body;
  }

  /** The map key of this record: kind and key. */
  public String id() {
    return id(kind, key);
  }

  static String id(String kind, String key) {
    return kind + "\u0000" + key;
  }

  /** Whether this record wins over {@code other}, a record of the same key. */
  public boolean laterThan(ContentRecord other) {
    if (rev != other.rev) {
      return rev > other.rev;
    }
    int byNode = node.compareTo(other.node);
    if (byNode != 0) {
      return byNode > 0;
    }
    return deleted && !other.deleted;
  }
}
