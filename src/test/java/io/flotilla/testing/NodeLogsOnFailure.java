package io.flotilla.testing;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the last lines of every node process's log when a test fails (register it with
 * {@code @RegisterExtension}): the node side of a failure is otherwise lost with the temp folder.
 */
public final class NodeLogsOnFailure implements TestWatcher {
  private final Supplier<List<NodeProcess>> nodes;
  private final int lines;

  /** @param nodes the test's node processes at the time of the failure (may return an empty list) */
  public NodeLogsOnFailure(Supplier<List<NodeProcess>> nodes, int lines) {
    this.nodes = nodes;
    this.lines = lines;
  }

  /** For a test whose nodes are one {@link ProcessCluster} (null until it started). */
  public static NodeLogsOnFailure of(Supplier<ProcessCluster> cluster) {
    return new NodeLogsOnFailure(() -> cluster.get() == null ? List.of() : cluster.get().nodes(), 40);
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    List<NodeProcess> all = nodes.get();
    for (int i = 0; i < all.size(); i++) {
      try {
        String[] log = all.get(i).output().split("\n");
        int from = Math.max(0, log.length - lines);
        System.err.println("---- tail of node-" + i + " log after " + context.getDisplayName() + " ----\n"
            + String.join("\n", Arrays.asList(log).subList(from, log.length)));
      } catch (Exception ignored) {
        // diagnostics only
      }
    }
  }
}
