package io.flotilla.cluster;

import io.flotilla.storage.StorageTypes.RefStates;
import io.flotilla.storage.StorageTypes.TagEntry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Merges several nodes' records of a repository's references ({@link RefStates}) by the rule every
 * copy converges to: last writer wins on the times the entries carry. A tag names the manifest of
 * its newest set, unless a delete of the tag, or of the whole repository, is at least as new (a
 * delete wins a tie: what was deleted stays deleted); a manifest is present when some copy created
 * it after every delete of it. So a read that asks every member answers what the last acknowledged
 * write or delete says, whichever copies are behind. Pure.
 */
public final class RefMerge {
  private RefMerge() {}

  /** The manifest digest {@code tag} names across the copies, or empty when it is deleted or unknown. */
  public static Optional<String> tag(String tag, Collection<RefStates> copies) {
    TagEntry newest = null;
    long deleted = 0;
    for (RefStates c : copies) {
      deleted = Math.max(deleted, Math.max(c.clearedMillis(), c.deletedTags().getOrDefault(tag, 0L)));
      TagEntry e = c.tags().get(tag);
      if (e != null && (newest == null || e.updatedMillis() > newest.updatedMillis()
          || e.updatedMillis() == newest.updatedMillis() && e.digest().compareTo(newest.digest()) > 0)) {
        newest = e;
      }
    }
    return newest != null && newest.updatedMillis() > deleted ? Optional.of(newest.digest()) : Optional.empty();
  }

  /** Whether some copy holds manifest {@code digest} created after every delete of it. */
  public static boolean manifest(String digest, Collection<RefStates> copies) {
    long deleted = 0;
    long created = -1;
    for (RefStates c : copies) {
      deleted = Math.max(deleted, Math.max(c.clearedMillis(), c.deletedManifests().getOrDefault(digest, 0L)));
      Long at = c.manifests().get(digest);
      if (at != null) {
        created = Math.max(created, at);
      }
    }
    return created > deleted;
  }

  /** Every live tag across the copies, in name order, with the digest it names. */
  public static TreeMap<String, String> tags(Collection<RefStates> copies) {
    TreeMap<String, String> out = new TreeMap<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (RefStates c : copies) {
      names.addAll(c.tags().keySet());
    }
    for (String name : names) {
      tag(name, copies).ifPresent(d -> out.put(name, d));
    }
    return out;
  }

  /** Whether any copy holds the repository. */
  public static boolean exists(Collection<RefStates> copies) {
    for (RefStates c : copies) {
      if (c.exists()) {
        return true;
      }
    }
    return false;
  }

  /**
   * A page of {@code tags} after {@code last} (exclusive), at most {@code n}, and whether more follow;
   * {@code n} = 0 is an empty last page, as a single node answers it.
   */
  public static Page page(TreeMap<String, String> tags, int n, String last) {
    if (n == 0) {
      return new Page(List.of(), false);
    }
    var keys = last == null ? tags.navigableKeySet() : tags.navigableKeySet().tailSet(last, false);
    List<String> out = new ArrayList<>();
    for (String k : keys) {
      if (out.size() == n) {
        return new Page(out, true);
      }
      out.add(k);
    }
    return new Page(out, false);
  }

  /** A page of tag names and whether more follow. */
  public record Page(List<String> tags, boolean more) {}

  /** The nodes whose copy holds {@code digest} (as a manifest, or named by a tag), in the order given. */
  public static List<String> holders(String digest, Map<String, RefStates> copiesByNode) {
    List<String> out = new ArrayList<>();
    copiesByNode.forEach((node, c) -> {
      if (c.manifests().containsKey(digest) || c.tags().values().stream().anyMatch(e -> e.digest().equals(digest))) {
        out.add(node);
      }
    });
    return out;
  }
}
