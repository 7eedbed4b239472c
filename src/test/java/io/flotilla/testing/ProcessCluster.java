package io.flotilla.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Several {@link NodeProcess}es on loopback joined through Hazelcast TCP-IP into one cluster
 * (nodes named {@code node-0}, {@code node-1}, ...), each with its own data folder. {@link #start}
 * returns once every node sees every member.
 */
public final class ProcessCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<NodeProcess> nodes;

  private ProcessCluster(List<NodeProcess> nodes) {
    this.nodes = nodes;
  }

  /**
   * @param host the cluster host the nodes join by: {@code 127.0.0.1} or a name resolving to it
   */
  public static ProcessCluster start(Path dir, int size, String host) throws Exception {
    int[] http = new int[size];
    int[] hz = new int[size];
    List<String> members = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      http[i] = TestNode.freePort();
      hz[i] = TestNode.freePort();
      members.add(host + ":" + hz[i]);
    }
    String cluster = "cluster-" + UUID.randomUUID();
    ExecutorService pool = Executors.newFixedThreadPool(size);
    List<Future<NodeProcess>> starting = new ArrayList<>();
    List<NodeProcess> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < size; i++) {
        int n = i;
        Map<String, String> env = new HashMap<>();
        env.put("FLOTILLA_CLUSTER_NAME", cluster);
        env.put("FLOTILLA_CLUSTER_MEMBERS", String.join(",", members));
        env.put("FLOTILLA_CLUSTER_HOST", host);
        env.put("FLOTILLA_NODE_NAME", "node-" + n);
        env.put("FLOTILLA_HTTP_ACCESS_LOG", "false");
        starting.add(pool.submit(() -> NodeProcess.start(dir.resolve("node" + n), http[n], hz[n], env)));
      }
      for (Future<NodeProcess> f : starting) {
        nodes.add(f.get());
      }
    } finally {
      pool.shutdown();
    }
    ProcessCluster c = new ProcessCluster(nodes);
    c.awaitMembers(size);
    return c;
  }

  public List<NodeProcess> nodes() {
    return nodes;
  }

  /** Waits until every live node's {@code /api/v1/cluster} lists {@code count} members. */
  public void awaitMembers(int count) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      boolean all = true;
      for (NodeProcess n : nodes) {
        var r = new OciClient(n.url()).get("/api/v1/cluster");
        all &= r.statusCode() == 200 && JSON.readTree(r.body()).get("members").size() == count;
      }
      if (all) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("cluster did not form with " + count + " members");
      }
      Thread.sleep(200);
    }
  }

  @Override
  public void close() throws Exception {
    for (NodeProcess n : nodes) {
      n.close();
    }
  }
}
