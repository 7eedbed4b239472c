package io.flotilla.cluster;

import io.flotilla.storage.StorageTypes.CatalogPage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeSet;

/**
 * Merges the catalog pages of several nodes into one page of {@code /v2/_catalog}. Pure: no I/O,
 * no Vert.x, safe from any thread.
 *
 * <p><b>Input.</b> For a request {@code (n, last)} every node is asked for its own page with the
 * same {@code n} and {@code last}, exactly what {@code MetadataStore.catalog(n, last)} returns: its
 * sorted names after {@code last}, at most {@code n}, and {@code more} when it holds further names.
 * Nodes that did not answer in time are passed as {@code missing}. A page's own
 * {@code unavailable} list (empty for a single node's page) adds to the missing nodes, except for
 * nodes that answered here.
 *
 * <p><b>Why the result is exact.</b> Let {@code G} be the union of the answering nodes' names after
 * {@code last}. Each of the first {@code n} names of {@code G} is, on a node that holds it, preceded
 * by fewer than {@code n} of that node's names, so it is on that node's page. The union of the pages
 * therefore contains the first {@code n} names of {@code G}, and its first {@code n} distinct names
 * are the answer. {@code G} has more than {@code n} names exactly when some node said {@code more}
 * (it alone holds more than {@code n}) or the pages together hold more than {@code n} distinct
 * names; that is the merged {@code more}. Following {@code last} = the page's last name therefore
 * lists {@code G} once, in order, across node boundaries, whatever the replicas.
 *
 * <p><b>Missing nodes</b> are carried in the result; whether the page is still complete is decided
 * by {@link #complete}. Fails with {@link IllegalArgumentException} when a page breaks the contract
 * above (unsorted, duplicates, names not after {@code last}, more than {@code n} names), since a
 * merge of such pages could silently skip names.
 */
public final class CatalogMerge {
  private CatalogMerge() {}

  /**
   * A merged page.
   *
   * @param repositories sorted, distinct, at most {@code n} names
   * @param more whether names follow this page (among the nodes that answered)
   * @param missingNodes nodes that were asked and did not answer, sorted; their names may be absent
   */
  public record Result(List<String> repositories, boolean more, List<String> missingNodes) {
    public Result {
      repositories = List.copyOf(repositories);
      missingNodes = List.copyOf(new TreeSet<>(missingNodes));
    }

    /** The {@code last} parameter of the next page, when there is one. */
    public Optional<String> nextLast() {
      if (!more || repositories.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(repositories.get(repositories.size() - 1));
    }

    /** {@link CatalogMerge#complete} for this page's missing nodes. */
    public boolean complete(ClusterView view, int replicationFactor) {
      return CatalogMerge.complete(view, replicationFactor, missingNodes);
    }

    /**
     * The page to answer with: its {@code unavailable} nodes are the missing ones when the page is
     * not {@link #complete}, and empty when it is (a missing node whose repositories all have a
     * replica that answered takes nothing away from the page).
     */
    public CatalogPage toCatalogPage(ClusterView view, int replicationFactor) {
      return new CatalogPage(repositories, more, complete(view, replicationFactor) ? List.of() : missingNodes);
    }
  }

  /**
   * Merges the pages of the nodes that answered.
   *
   * @param n the page size asked of every node, at least 0; 0 gives an empty page without more
   * @param last the {@code last} asked of every node, or null for the first page
   * @param pages each answering node's page, by node name
   * @param missing names of the nodes that were asked and did not answer
   */
  public static Result merge(int n, String last, Map<String, CatalogPage> pages, Collection<String> missing) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative, was " + n);
    }
    TreeSet<String> allMissing = new TreeSet<>(missing);
    for (String node : missing) {
      if (pages.containsKey(node)) {
        throw new IllegalArgumentException("node " + node + " both answered and is missing");
      }
    }
    for (CatalogPage page : pages.values()) {
      page.unavailable().stream().filter(node -> !pages.containsKey(node)).forEach(allMissing::add);
    }
    List<Cursor> cursors = new ArrayList<>(pages.size());
    boolean anyMore = false;
    for (var e : pages.entrySet()) {
      CatalogPage page = e.getValue();
      check(e.getKey(), page, n, last);
      anyMore |= page.more();
      if (!page.repositories().isEmpty()) {
        cursors.add(new Cursor(page.repositories()));
      }
    }
    if (n == 0) {
      return new Result(List.of(), false, List.copyOf(allMissing));
    }
    PriorityQueue<Cursor> heap = new PriorityQueue<>(Math.max(1, cursors.size()),
        (a, b) -> a.head().compareTo(b.head()));
    heap.addAll(cursors);
    List<String> out = new ArrayList<>(Math.min(n, 1024));
    boolean leftOver = false;
    while (!heap.isEmpty()) {
      Cursor c = heap.poll();
      String name = c.head();
      if (out.isEmpty() || !out.get(out.size() - 1).equals(name)) {
        if (out.size() == n) {
          leftOver = true;
          break;
        }
        out.add(name);
      }
      if (c.advance()) {
        heap.add(c);
      }
    }
    return new Result(out, anyMore || leftOver, List.copyOf(allMissing));
  }

  /**
   * Whether a page merged without the {@code missing} nodes can still hold every repository.
   *
   * <p><b>Rule:</b> complete when no node is missing, or when fewer nodes are missing than the
   * effective replication factor {@code min(r, members of view)}; otherwise incomplete.
   *
   * <p><b>Reasoning.</b> Disks are isolated, so a node's catalog is the set of repositories it
   * stores, and the names a missing node holds are unknown to us: we cannot check them one by one.
   * What we know is placement: every repository is stored on its {@code min(r, N)} owners, distinct
   * nodes. If fewer than that many nodes are missing, every repository has at least one owner that
   * answered, and by the argument on {@link CatalogMerge} its name is on the merged page if it
   * belongs there. If {@code min(r, N)} or more are missing, some repository may have all its owners
   * among them (rendezvous spreads repositories over every subset of {@code r} nodes), so the page
   * must be reported incomplete. With {@code r = 1} any missing node makes the page incomplete.
   *
   * <p><b>Assumptions</b>, which the caller must uphold or compensate for by adding nodes to
   * {@code missing}: a write is acknowledged only once all owners store it (otherwise a repository
   * pushed to its primary but not yet copied lives on one node only); and every node that stored
   * repositories and left the view since the last completed rebalance is counted as missing (a node
   * that crashed is gone from the view but its repositories are not yet re-replicated). Missing
   * names unknown to the view are counted too: being conservative costs a flag, not data.
   *
   * @param view the view the fan-out was sent to
   * @param replicationFactor the configured {@code r}, at least 1
   * @param missing nodes that did not answer
   */
  public static boolean complete(ClusterView view, int replicationFactor, Collection<String> missing) {
    if (replicationFactor < 1) {
      throw new IllegalArgumentException("replication factor must be at least 1, was " + replicationFactor);
    }
    int distinctMissing = new TreeSet<>(missing).size();
    if (distinctMissing == 0) {
      return true;
    }
    return distinctMissing < Math.min(replicationFactor, view.size());
  }

  private static void check(String node, CatalogPage page, int n, String last) {
    List<String> names = page.repositories();
    if (names.size() > n) {
      throw new IllegalArgumentException("node " + node + " returned " + names.size() + " names for n=" + n);
    }
    String previous = last;
    for (String name : names) {
      if (name == null || (previous != null && name.compareTo(previous) <= 0)) {
        throw new IllegalArgumentException("node " + node + " returned " + name + " after " + previous
            + ": names must be sorted, distinct and after last");
      }
      previous = name;
    }
  }

  private static final class Cursor {
    private final List<String> names;
    private int i;

    Cursor(List<String> names) {
      this.names = names;
    }

    String head() {
      return names.get(i);
    }

    boolean advance() {
      return ++i < names.size();
    }
  }
}
