package io.flotilla.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where repositories live: rendezvous (highest random weight) hashing of a repository name over the
 * members of one {@link ClusterView}. Each member scores a repository with
 * {@link #score(String, String)}; the owners are the {@code min(r, members)} members with the
 * highest scores, highest first, so the first owner is the primary and the others its replicas.
 *
 * <p>Why rendezvous: a member's score for a repository does not depend on the other members, so
 * adding a node moves to it exactly the repositories for which it now ranks among the top
 * {@code r} (about {@code r/N} of them) and never moves a repository between two old nodes; and
 * removing a node moves only the repositories it owned. {@code hash % N} would move nearly all.
 * With tens of nodes the {@code O(N)} scoring per lookup is cheaper than keeping a ring.
 *
 * <p>The score is XXH64 (seed 0) of the UTF-8 bytes of {@code nodeName + '\0' + repository}:
 * a stable, public, well-mixed 64-bit hash, compared as an unsigned number; equal scores (never
 * seen in practice) fall back to the node name. It is the same on every JVM, version and platform,
 * and <b>changing it moves data</b>: {@code PlacementTest} pins it with reference vectors.
 *
 * <p>The replication factor {@code r} is {@code ClusterConfig.replicationFactor()} (default 2).
 *
 * <p>Pure and immutable: no Vert.x, no I/O, safe from any thread. Fails only on invalid arguments
 * ({@link IllegalArgumentException}).
 */
public final class Placement {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private final ClusterView view;
  private final byte[][] prefixes;

  /** Placement over the members of {@code view}. */
  public Placement(ClusterView view) {
    this.view = view;
    this.prefixes = new byte[view.size()][];
    for (int i = 0; i < view.size(); i++) {
      prefixes[i] = (view.members().get(i).nodeName() + '\0').getBytes(StandardCharsets.UTF_8);
    }
  }

  public ClusterView view() {
    return view;
  }

  /** How many owners a repository has for replication factor {@code r}: {@code min(r, members)}. */
  public int effectiveReplicas(int r) {
    checkFactor(r);
    return Math.min(r, view.size());
  }

  /**
   * The owners of a repository, primary first: the {@code min(r, members)} members with the highest
   * scores. Empty when the view has no members.
   *
   * @throws IllegalArgumentException if {@code r < 1} or the name is null
   */
  public List<Member> owners(String repository, int r) {
    checkFactor(r);
    if (repository == null) {
      throw new IllegalArgumentException("repository must not be null");
    }
    int n = view.size();
    int k = Math.min(r, n);
    byte[] repo = repository.getBytes(StandardCharsets.UTF_8);
    long[] scores = new long[n];
    for (int i = 0; i < n; i++) {
      scores[i] = score(prefixes[i], repo);
    }
    // partial selection sort: k is tiny (the replication factor)
    boolean[] taken = new boolean[n];
    List<Member> owners = new ArrayList<>(k);
    for (int round = 0; round < k; round++) {
      int best = -1;
      for (int i = 0; i < n; i++) {
        if (!taken[i] && (best < 0 || Long.compareUnsigned(scores[i], scores[best]) > 0)) {
          best = i; // members are sorted by name, so the first of equal scores has the smaller name
        }
      }
      taken[best] = true;
      owners.add(view.members().get(best));
    }
    return List.copyOf(owners);
  }

  /** The first owner of a repository, or empty when the view has no members. */
  public Optional<Member> primary(String repository) {
    List<Member> owners = owners(repository, 1);
    return owners.isEmpty() ? Optional.empty() : Optional.of(owners.get(0));
  }

  /** True when the named node is among the repository's owners for replication factor {@code r}. */
  public boolean isOwner(String nodeName, String repository, int r) {
    for (Member m : owners(repository, r)) {
      if (m.nodeName().equals(nodeName)) {
        return true;
      }
    }
    return false;
  }

  /** A node's score for a repository: XXH64 of UTF-8 {@code nodeName + '\0' + repository}. */
  public static long score(String nodeName, String repository) {
    return score((nodeName + '\0').getBytes(StandardCharsets.UTF_8), repository.getBytes(StandardCharsets.UTF_8));
  }

  private static long score(byte[] prefix, byte[] repo) {
    byte[] key = new byte[prefix.length + repo.length];
    System.arraycopy(prefix, 0, key, 0, prefix.length);
    System.arraycopy(repo, 0, key, prefix.length, repo.length);
    return xxh64(key, 0);
  }

  private static void checkFactor(int r) {
    if (r < 1) {
      throw new IllegalArgumentException("replication factor must be at least 1, was " + r);
    }
  }

  /** XXH64 as specified by the xxHash project (version 0.8 format). */
  static long xxh64(byte[] in, long seed) {
    int len = in.length;
    int p = 0;
    long h;
    if (len >= 32) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      int limit = len - 32;
      do {
        v1 = round(v1, le64(in, p));
        v2 = round(v2, le64(in, p + 8));
        v3 = round(v3, le64(in, p + 16));
        v4 = round(v4, le64(in, p + 24));
        p += 32;
      } while (p <= limit);
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
      h = merge(h, v1);
      h = merge(h, v2);
      h = merge(h, v3);
      h = merge(h, v4);
    } else {
      h = seed + P5;
    }
    h += len;
    while (p + 8 <= len) {
      h ^= round(0, le64(in, p));
      h = Long.rotateLeft(h, 27) * P1 + P4;
      p += 8;
    }
    if (p + 4 <= len) {
      h ^= (le32(in, p) & 0xFFFFFFFFL) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      p += 4;
    }
    while (p < len) {
      h ^= (in[p] & 0xFFL) * P5;
      h = Long.rotateLeft(h, 11) * P1;
      p++;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }

  private static long round(long acc, long input) {
    acc += input * P2;
    acc = Long.rotateLeft(acc, 31);
    return acc * P1;
  }

  private static long merge(long acc, long val) {
    acc ^= round(0, val);
    return acc * P1 + P4;
  }

  private static long le64(byte[] b, int i) {
    return (le32(b, i) & 0xFFFFFFFFL) | ((long) le32(b, i + 4) << 32);
  }

  private static int le32(byte[] b, int i) {
    return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
  }
}
