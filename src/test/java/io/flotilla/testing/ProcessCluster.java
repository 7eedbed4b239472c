package io.flotilla.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
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
 * returns once every node sees every member. Nodes can be restarted on their own data
 * ({@link #restart}) and new nodes added to the running cluster ({@link #add}).
 */
public final class ProcessCluster implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path dir;
  private final String host;
  private final String clusterName = "cluster-" + UUID.randomUUID();
  private final Map<String, String> extraEnv;
  /** Sent with {@code /api/v1/cluster} while waiting for members (access control on), or null. */
  private String authorization;
  private final List<Spec> specs = new ArrayList<>();
  private final List<NodeProcess> nodes = new ArrayList<>();

  /** How one node is started: its ports and environment (data folder {@code dir/node<i>}). */
  private record Spec(int index, int http, int hz, Map<String, String> env) {}

  private ProcessCluster(Path dir, String host, Map<String, String> extraEnv) {
    this.dir = dir;
    this.host = host;
    this.extraEnv = Map.copyOf(extraEnv);
  }

  /**
   * @param host the cluster host the nodes join by: {@code 127.0.0.1} or a name resolving to it
   */
  public static ProcessCluster start(Path dir, int size, String host) throws Exception {
    return start(dir, size, host, Map.of());
  }

  /** As {@link #start(Path, int, String)}, with extra {@code FLOTILLA_*} settings for every node. */
  public static ProcessCluster start(Path dir, int size, String host, Map<String, String> extraEnv) throws Exception {
    return start(dir, size, host, extraEnv, null);
  }

  /**
   * As above, with access control on: {@code authorization} (an admin's, e.g. {@code
   * AuthFixture.basic("admin")}) is what {@link #awaitMembers} shows {@code /api/v1/cluster}.
   */
  public static ProcessCluster start(Path dir, int size, String host, Map<String, String> extraEnv,
      String authorization) throws Exception {
    ProcessCluster c = new ProcessCluster(dir, host, extraEnv);
    c.authorization = authorization;
    for (int i = 0; i < size; i++) {
      c.specs.add(new Spec(i, TestNode.freePort(), TestNode.freePort(), Map.of()));
    }
    List<String> members = c.memberList();
    ExecutorService pool = Executors.newFixedThreadPool(size);
    List<Future<NodeProcess>> starting = new ArrayList<>();
    try {
      for (Spec s : List.copyOf(c.specs)) {
        Spec withEnv = c.withEnv(s, members);
        c.specs.set(s.index(), withEnv);
        starting.add(pool.submit(() -> c.launch(withEnv)));
      }
      Exception failure = null;
      for (Future<NodeProcess> f : starting) {
        try {
          c.nodes.add(f.get()); // wait for every start, even after a failure, so none is left running
        } catch (Exception e) {
          failure = failure == null ? e : failure;
        }
      }
      if (failure != null) {
        throw failure;
      }
    } catch (Exception e) {
      c.close();
      throw e;
    } finally {
      pool.shutdown();
    }
    c.awaitMembers(size);
    return c;
  }

  private List<String> memberList() {
    List<String> members = new ArrayList<>();
    for (Spec s : specs) {
      members.add(host + ":" + s.hz());
    }
    return members;
  }

  private Spec withEnv(Spec s, List<String> members) {
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("FLOTILLA_CLUSTER_NAME", clusterName);
    env.put("FLOTILLA_CLUSTER_MEMBERS", String.join(",", members));
    env.put("FLOTILLA_CLUSTER_HOST", host);
    env.put("FLOTILLA_NODE_NAME", "node-" + s.index());
    env.put("FLOTILLA_HTTP_ACCESS_LOG", "false");
    return new Spec(s.index(), s.http(), s.hz(), env);
  }

  private NodeProcess launch(Spec s) throws Exception {
    return NodeProcess.start(dir.resolve("node" + s.index()), s.http(), s.hz(), s.env());
  }

  /** The Hazelcast cluster name the nodes join. */
  public String clusterName() {
    return clusterName;
  }

  /** The nodes' Hazelcast addresses ({@code host:port}), for another member that wants to join. */
  public List<String> hazelcastMembers() {
    return memberList();
  }

  /** The node processes, by index; a restarted node's entry is its new process. */
  public List<NodeProcess> nodes() {
    return List.copyOf(nodes);
  }

  public NodeProcess node(int i) {
    return nodes.get(i);
  }

  /**
   * Starts node {@code i} again on its own ports and data with some settings changed for this run
   * only (a member list that reaches only part of the cluster, say).
   */
  public NodeProcess restart(int i, Map<String, String> envOverrides) throws Exception {
    Spec s = specs.get(i);
    Map<String, String> env = new HashMap<>(s.env());
    env.putAll(envOverrides);
    NodeProcess p = launch(new Spec(s.index(), s.http(), s.hz(), env));
    nodes.set(i, p);
    return p;
  }

  /** Node {@code i}'s Hazelcast address ({@code host:port}). */
  public String hazelcastMember(int i) {
    return host + ":" + specs.get(i).hz();
  }

  /** Starts node {@code i} again on its own ports and data (after a kill or a stop). */
  public NodeProcess restart(int i) throws Exception {
    NodeProcess p = launch(specs.get(i));
    nodes.set(i, p);
    return p;
  }

  /**
   * Launches (without waiting) a process with node {@code i}'s name, cluster and member list, on
   * ports and a data folder of its own: a second node under a name already in use.
   */
  public NodeProcess launchNamesake(int i) throws Exception {
    Spec s = specs.get(i);
    int hz = TestNode.freePort();
    Map<String, String> env = new HashMap<>(s.env());
    List<String> members = new ArrayList<>(memberList());
    members.add(host + ":" + hz);
    env.put("FLOTILLA_CLUSTER_MEMBERS", String.join(",", members));
    return NodeProcess.launch(dir.resolve("namesake" + i), TestNode.freePort(), hz, env);
  }

  /** Starts one more node that joins the running cluster; returns it once ready. */
  public NodeProcess add() throws Exception {
    Spec s = new Spec(specs.size(), TestNode.freePort(), TestNode.freePort(), Map.of());
    specs.add(s);
    Spec withEnv = withEnv(s, memberList());
    specs.set(s.index(), withEnv);
    NodeProcess p = launch(withEnv);
    nodes.add(p);
    return p;
  }

  /** Waits until every live node's {@code /api/v1/cluster} lists {@code count} members. */
  public void awaitMembers(int count) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L; // a loaded 2-core CI machine is slow to settle
    while (true) {
      boolean all = true;
      String last = "";
      for (NodeProcess n : nodes) {
        if (!n.alive()) {
          continue;
        }
        try {
          OciClient client = new OciClient(n.url(), Duration.ofSeconds(10));
          var r = (authorization == null ? client : client.as(authorization)).get("/api/v1/cluster");
          boolean formed = r.statusCode() == 200 && JSON.readTree(r.body()).get("members").size() == count;
          if (!formed) {
            last = n.url() + " answered " + r.statusCode() + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
          }
          all &= formed;
        } catch (java.io.UncheckedIOException e) { // busy or still starting: ask again
          last = n.url() + ": " + e.getMessage();
          all = false;
        }
      }
      if (all) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("cluster did not form with " + count + " members; last: " + last);
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
