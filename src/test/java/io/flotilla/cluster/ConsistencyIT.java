package io.flotilla.cluster;

import static io.flotilla.cluster.ConsistencyModel.ABSENT;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.cluster.ConsistencyModel.ManifestState;
import io.flotilla.cluster.ConsistencyModel.Outcome;
import io.flotilla.cluster.ConsistencyModel.Presence;
import io.flotilla.cluster.ConsistencyModel.TagState;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.ChaosClient;
import io.flotilla.testing.ChaosClient.Result;
import io.flotilla.testing.Images;
import io.flotilla.testing.Mismatches;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.Parallel;
import io.flotilla.testing.ProcessCluster;
import io.flotilla.testing.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A randomized, bounded chaos run checked against a model of acknowledged operations
 * ({@link ConsistencyModel}). Three node processes (R=2) take concurrent pushes (new tags and tag
 * overwrites, some layers mounted from another repository), tag deletes and manifest deletes from
 * several writers in many repositories, while one node at a time is killed ({@code kill -9}) or
 * stopped gracefully and restarted on its data, a fourth node joins, and garbage collection runs.
 * Each write is read back through a random node. Once every node is up and rebalancing has
 * settled, every tag, tag list and pushed manifest is read through <em>every</em> node and compared
 * with the model, the blobs of every manifest read are fetched and hashed, each node's storage
 * usage must show every repository on exactly its owners with the same content (equal
 * fingerprints of tags, manifests and tombstones), and every
 * acknowledged write must have reached the webhook receiver. Every mismatch is listed (and written
 * to {@code target/consistency-<seed>.txt}), not just the first. A read-back during the chaos that
 * misses the last acknowledged write, or a delete of a present tag answered 404, fails the run too,
 * also within a few seconds of a membership change (a node leaving, draining, returning or joining),
 * where the report labels it as such.
 *
 * <p>Knobs (system properties, e.g. {@code mvn verify -Dit.test=ConsistencyIT -Dconsistency.seed=7}):
 * {@code consistency.seed} (42), {@code consistency.seconds} of chaos (45; the four disruptions run
 * even when they take longer, as node restarts do on a busy machine: the whole test took 6 to 7
 * minutes on a shared 2-core machine at load 15-25, with the bounded waits for settling and events
 * used up by the bugs it found), {@code consistency.repos} (30), {@code consistency.writers} (4),
 * {@code consistency.tagsPerWriter} per repository (2), {@code consistency.maxOps} per writer (5000),
 * {@code consistency.requestTimeoutSeconds} (45: a request without an answer by then is reported as
 * stuck and its outcome is unknown), {@code consistency.settleSeconds} (60: how long rebalancing may take to go
 * idle once the writers stopped). The seed fixes each writer's sequence of operations (which
 * tag, which node, what kind, which layers), the chaos schedule (victims, order, down times) and the
 * GC runs; only the interleaving varies from run to run.
 */
class ConsistencyIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long SEED = Long.getLong("consistency.seed", 42);
  private static final int SECONDS = Integer.getInteger("consistency.seconds", 45);
  private static final int REPOS = Integer.getInteger("consistency.repos", 30);
  private static final int WRITERS = Integer.getInteger("consistency.writers", 4);
  private static final int TAGS_PER_WRITER = Integer.getInteger("consistency.tagsPerWriter", 2);
  private static final int MAX_OPS = Integer.getInteger("consistency.maxOps", 5000);
  private static final int REQUEST_TIMEOUT = Integer.getInteger("consistency.requestTimeoutSeconds", 45);
  private static final int SETTLE_SECONDS = Integer.getInteger("consistency.settleSeconds", 60);
  private static final int R = 2;
  private static final int INITIAL_NODES = 3;
  /** Node slots writers pick from; the last one is the node that joins during the run. */
  private static final int SLOTS = INITIAL_NODES + 1;
  private static final String HOOK = "/hook";
  private static final Map<String, String> ACCEPT = Map.of("Accept", MediaTypes.OCI_MANIFEST);

  @TempDir
  Path dir;
  private ProcessCluster cluster;
  private WebhookReceiver receiver;

  private final ConsistencyModel model = new ConsistencyModel();
  private final Mismatches mismatches = new Mismatches();
  /** Node index -> base URL (a restarted node keeps its port). */
  private final Map<Integer, String> urls = new ConcurrentHashMap<>();
  /** Nodes writers may use: running and not being stopped. */
  private final Set<Integer> up = new ConcurrentSkipListSet<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<String> timeline = new ArrayList<>();
  private final ConcurrentLinkedQueue<Throwable> testBugs = new ConcurrentLinkedQueue<>();
  private final ChaosClient admin = new ChaosClient(Duration.ofSeconds(10));
  private long startNanos;
  /** When nodes left, drained, returned or joined (nanoTime). */
  private final java.util.List<Long> membershipChanges = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** From a restart (or a join) to the node being back (a member): it enters the cluster somewhere in between. */
  private final java.util.List<long[]> rejoins = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Reads that missed an acknowledged write during the chaos, judged once every membership change is known. */
  private final java.util.List<Map.Entry<Long, Mismatches.Mismatch>> missedReads =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  /** How long after a membership change a miss is labelled as near one (for the report; it fails either way). */
  private static final int MEMBERSHIP_CHANGE_SECONDS = 5;

  @AfterEach
  void tearDown() throws Exception {
    stop.set(true);
    if (cluster != null) {
      cluster.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  @Test
  void acknowledgedOperationsSurviveKillsRestartsAJoinAndGc() throws Exception {
    log("seed " + SEED + " (-Dconsistency.seed), " + SECONDS + " s of chaos, " + REPOS + " repositories, "
        + WRITERS + " writers x " + TAGS_PER_WRITER + " tags per repository");
    startCluster();

    // ---- chaos: writers, a node at a time killed / stopped / added, GC
    startNanos = System.nanoTime();
    List<Writer> writers = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      Writer writer = new Writer(w);
      writers.add(writer);
      threads.add(thread("writer-" + w, writer));
    }
    Thread chaos = thread("chaos", this::chaos);
    Thread gc = thread("gc", this::gc);
    long hardDeadline = startNanos + TimeUnit.SECONDS.toNanos(SECONDS * 3L + 180);
    sleepUntil(startNanos + TimeUnit.SECONDS.toNanos(SECONDS));
    chaos.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(hardDeadline - System.nanoTime())));
    stop.set(true);
    chaos.join(TimeUnit.SECONDS.toMillis(300)); // it ends its current step (a restart) before it stops
    if (chaos.isAlive()) {
      throw new AssertionError("the chaos thread did not stop");
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(REQUEST_TIMEOUT * 6L + 30));
    }
    gc.join(TimeUnit.SECONDS.toMillis(REQUEST_TIMEOUT + 10));
    for (Thread t : threads) {
      if (t.isAlive()) {
        throw new AssertionError(t.getName() + " did not stop");
      }
    }
    writers.forEach(w -> log(w.summary()));
    if (!testBugs.isEmpty()) {
      testBugs.forEach(t -> log("test failure: " + stackTrace(t)));
      AssertionError e = new AssertionError("the test itself failed (not a registry mismatch): " + testBugs.peek(),
          testBugs.peek());
      testBugs.forEach(e::addSuppressed);
      throw e;
    }

    // ---- every node up again, rebalancing settled
    for (int i = 0; i < cluster.nodes().size(); i++) {
      if (!cluster.node(i).alive()) {
        log("restarting node-" + i + " before the checks");
        cluster.restart(i);
        up.add(i);
      }
    }
    cluster.awaitMembers(cluster.nodes().size());
    boolean settled = awaitSettled(Duration.ofSeconds(SETTLE_SECONDS), Duration.ofSeconds(3), false);
    log("cluster " + (settled ? "settled" : "did NOT settle in " + SETTLE_SECONDS + " s") + " at " + elapsed());
    if (!settled) {
      // placement, node-state, nodes-disagree and stale values may follow from this one
      mismatches.add("settle", "(cluster)", "", "", "rebalancing idle on every node for 3 s within " + SETTLE_SECONDS
          + " s", clusterStatuses());
    }

    // ---- the checks, through every node
    // reads and deletes during the chaos must see every acknowledged write, membership changes or not:
    // while members change, manifest and tag reads merge every member's copy (docs/cluster.md)
    for (Map.Entry<Long, Mismatches.Mismatch> read : missedReads) {
      Mismatches.Mismatch m = read.getValue();
      mismatches.add(nearMembershipChange(read.getKey()) ? "read-during-membership-change" : "read-during-chaos",
          m.repository(), m.tag(), m.node(), m.expected(), m.actual());
    }
    for (ConsistencyModel.Anomaly a : model.anomalies()) {
      mismatches.add(nearMembershipChange(a.atNanos()) ? "op-anomaly-during-membership-change" : "op-anomaly",
          a.repository(), a.tag(), a.node(), a.expected(), a.actual());
    }
    timed("tags through every node", this::checkTags);
    timed("tag lists through every node", this::checkTagLists);
    timed("manifests by digest through every node", this::checkManifestsByDigest);
    timed("placement and per-node state", this::checkPlacement);
    timed("webhook events", this::checkEvents);

    Path report = Path.of("target", "consistency-" + SEED + ".txt");
    mismatches.write(report);
    if (!mismatches.isEmpty()) {
      printNodeLogTails();
      throw new AssertionError("seed " + SEED + ": " + mismatches.report(25) + "timeline:\n  "
          + String.join("\n  ", timeline) + "\nfull report: " + report.toAbsolutePath());
    }
  }

  // ------------------------------------------------------------------ setup

  private void startCluster() throws Exception {
    receiver = new WebhookReceiver();
    cluster = ProcessCluster.start(dir, INITIAL_NODES, "127.0.0.1", Map.of(
        "FLOTILLA_CLUSTER_REPLICATION_FACTOR", Integer.toString(R),
        "FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "2s",
        "FLOTILLA_CLUSTER_HANDOFF_TIMEOUT", "20s",
        "FLOTILLA_HTTP_SHUTDOWN_TIMEOUT", "5s",
        // short enough that GC during the run frees what deletes left, long enough for a push in flight
        "FLOTILLA_STORAGE_GC_GRACE", "10s",
        "FLOTILLA_EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", "true")); // the webhook receiver is on 127.0.0.1
    for (int i = 0; i < INITIAL_NODES; i++) {
      urls.put(i, cluster.node(i).url());
      up.add(i);
    }
    byte[] hook = """
        {"name":"consistency","url":"%s","backoff":"100ms","maxBackoff":"1s","maxAttempts":1000000}
        """.formatted(receiver.url(HOOK)).getBytes(StandardCharsets.UTF_8);
    Result created = admin.send("POST", urls.get(0) + "/api/v1/webhooks", hook, Map.of("Content-Type", "application/json"));
    if (!created.is(201)) {
      throw new AssertionError("webhook endpoint not created: " + created.describe() + " " + created.text());
    }
    for (int i = 0; i < INITIAL_NODES; i++) {
      awaitWebhookOn(i, Duration.ofSeconds(30));
    }
    log("cluster of " + INITIAL_NODES + " up, webhook endpoint on every node");
  }

  private boolean awaitWebhookOn(int node, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Result r = admin.get(urls.get(node) + "/api/v1/webhooks", Map.of());
      if (r.is(200) && r.text().contains(receiver.url(HOOK))) {
        return true;
      }
      Thread.sleep(200);
    }
    return false;
  }

  // ------------------------------------------------------------------ writers

  /**
   * One writer: owns tags {@code w<index>-<k>} in every repository (no other writer touches them),
   * runs one operation at a time, each followed by a read-back through a (seeded) random node.
   */
  private final class Writer implements Runnable {
    private final int index;
    private final Random rng;
    private final ChaosClient http = new ChaosClient(Duration.ofSeconds(REQUEST_TIMEOUT));
    private final List<TagState> tags = new ArrayList<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private int ops;

    Writer(int index) {
      this.index = index;
      this.rng = new Random(SEED * 1_000_003L + index);
      for (int r = 0; r < REPOS; r++) {
        for (int k = 0; k < TAGS_PER_WRITER; k++) {
          tags.add(model.tag(repo(r), "w" + index + "-" + k));
        }
      }
    }

    @Override
    public void run() {
      for (int n = 0; n < MAX_OPS && !stop.get(); n++) {
        step(n);
        ops++;
      }
    }

    String summary() {
      return "writer-" + index + ": " + ops + " operations, outcomes " + outcomes;
    }

    private void step(int n) {
      // every random draw first: the operation sequence depends on the seed alone (except that a
      // manifest delete of a tag with no acknowledged manifest becomes a tag delete)
      TagState t = tags.get(rng.nextInt(tags.size()));
      int kind = rng.nextInt(100);
      int node = pick(rng.nextInt(SLOTS));
      int readNode = rng.nextInt(SLOTS);
      boolean twoStep = rng.nextBoolean();
      int mountFrom = rng.nextInt(100) < 30 ? rng.nextInt(REPOS) : -1;
      int layerSize = 256 + rng.nextInt(2048);
      if (kind < 60) {
        push(t, n, node, twoStep, mountFrom, layerSize);
      } else if (kind < 80 || t.acked.equals(ABSENT)) {
        Result r = call(t, node, "DELETE", "/v2/" + t.repository + "/manifests/" + t.tag, null, Map.of());
        model.tagDeleted(t, count("tag delete", outcome(r, true)), how(node, r), name(node));
      } else {
        String digest = t.acked;
        Result r = call(t, node, "DELETE", "/v2/" + t.repository + "/manifests/" + digest, null, Map.of());
        model.manifestDeleted(t, digest, count("manifest delete", outcome(r, true)), how(node, r), name(node));
      }
      readBack(t, pick(readNode));
    }

    /** Uploads (or mounts) the layers and config of a new image, then puts its manifest under the tag. */
    private void push(TagState t, int n, int node, boolean twoStep, int mountFrom, int layerSize) {
      String repo = t.repository;
      String sharedFrom = mountFrom >= 0 && !repo(mountFrom).equals(repo) ? repo(mountFrom) : repo;
      byte[] shared = sharedLayer(sharedFrom);
      byte[] own = Images.random(layerSize, SEED * 7_919L + index * 1_000_000L + n);
      byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"repository\":\"" + repo + "\",\"tag\":\""
          + t.tag + "\",\"writer\":" + index + ",\"op\":" + n + ",\"seed\":" + SEED + "}")
          .getBytes(StandardCharsets.UTF_8);
      boolean blobs = (sharedFrom.equals(repo) ? upload(t, node, shared, twoStep) : mount(t, node, shared, sharedFrom))
          && upload(t, node, own, twoStep) && upload(t, node, config, !twoStep);
      if (!blobs) {
        t.history.add("push abandoned (a blob upload failed) via " + name(node));
        count("push abandoned", Outcome.REJECTED);
        return;
      }
      byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
          + Images.descriptor("application/vnd.oci.image.config.v1+json", Digest.sha256(config), config.length)
          + ",\"layers\":["
          + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.sha256(shared), shared.length) + ","
          + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.sha256(own), own.length)
          + "]}").getBytes(StandardCharsets.UTF_8);
      Result r = call(t, node, "PUT", "/v2/" + repo + "/manifests/" + t.tag, manifest,
          Map.of("Content-Type", MediaTypes.OCI_MANIFEST));
      model.pushed(t, Digest.sha256(manifest).toString(), count("push", outcome(r, false)), how(node, r));
    }

    /** A blob upload, monolithic or POST then PUT; true once acknowledged (201). */
    private boolean upload(TagState t, int node, byte[] blob, boolean twoStep) {
      String digest = Digest.sha256(blob).toString();
      String uploads = "/v2/" + t.repository + "/blobs/uploads/";
      if (!twoStep) {
        Result r = call(t, node, "POST", uploads + "?digest=" + digest, blob, octets());
        return blobDone(t, r, "push", digest);
      }
      Result started = call(t, node, "POST", uploads, null, Map.of());
      return started.is(202) && finish(t, node, started, blob, digest);
    }

    /** A cross-repository mount of {@code from}'s shared layer; an upload when {@code from} lacks it (202). */
    private boolean mount(TagState t, int node, byte[] blob, String from) {
      String digest = Digest.sha256(blob).toString();
      Result r = call(t, node, "POST", "/v2/" + t.repository + "/blobs/uploads/?mount=" + digest + "&from=" + from,
          null, Map.of());
      if (r.is(201)) {
        count("mount", Outcome.ACKED);
        return blobDone(t, r, "mount", digest);
      }
      count("mount fell back to an upload", r.is(202) ? Outcome.ACKED : outcome(r, false));
      return r.is(202) && finish(t, node, r, blob, digest);
    }

    private boolean finish(TagState t, int node, Result session, byte[] blob, String digest) {
      String location = session.header("Location");
      if (location == null) {
        return false;
      }
      String path = (location.startsWith("http") ? location.replaceFirst("^https?://[^/]+", "") : location)
          + (location.contains("?") ? "&" : "?") + "digest=" + digest;
      return blobDone(t, call(t, node, "PUT", path, blob, octets()), "push", digest);
    }

    private boolean blobDone(TagState t, Result r, String action, String digest) {
      if (r.is(201)) {
        model.blobAcked(action, t.repository, digest);
        return true;
      }
      return false;
    }

    /** Reads the tag back through a node; a value the acknowledged operations exclude is a mismatch. */
    private void readBack(TagState t, int node) {
      Result r = call(t, node, "GET", "/v2/" + t.repository + "/manifests/" + t.tag, null, ACCEPT);
      String value = manifestValue(r);
      if (value == null) {
        count("read unavailable", Outcome.UNKNOWN);
        return;
      }
      if (!t.allows(value)) {
        String where = name(node) + " at " + elapsed();
        String actual = value + " (after " + t.history.get(t.history.size() - 1) + ")";
        // judged after the chaos: the membership change that explains it may be recorded only later
        // (a restarted node rejoins before the harness sees it back)
        missedReads.add(Map.entry(System.nanoTime(), new Mismatches.Mismatch("read-during-chaos", t.repository,
            t.tag, where, t.expected(), actual)));
      }
    }

    /** One request; a request that got no answer within the timeout is reported as stuck. */
    private Result call(TagState t, int node, String method, String path, byte[] body, Map<String, String> headers) {
      String sent = elapsed();
      Result r = http.send(method, urls.get(node) + path, body, headers);
      if (r.timedOut()) {
        mismatches.add("stuck", t.repository, t.tag, name(node) + " sent at " + sent,
            "an answer within " + REQUEST_TIMEOUT + " s", method + " " + path.replaceFirst("\\?.*", "") + ": "
                + r.describe());
      }
      return r;
    }

    private Outcome count(String what, Outcome o) {
      outcomes.merge(what + " " + o.name().toLowerCase(), 1, Integer::sum);
      return o;
    }
  }

  /**
   * What a response means for the model: 201/202 acknowledged; a delete's 404 "nothing there";
   * another 4xx or a refused connection (nothing was sent) rejected; anything else unknown.
   */
  static Outcome outcome(Result r, boolean delete) {
    if (r.refused()) {
      return Outcome.REJECTED;
    }
    if (r.is(201) || r.is(202)) {
      return Outcome.ACKED;
    }
    if (delete && r.is(404)) {
      return Outcome.NOT_FOUND;
    }
    if (r.status() >= 400 && r.status() < 500) {
      return Outcome.REJECTED;
    }
    return Outcome.UNKNOWN;
  }

  /** A manifest GET/HEAD: its digest (checked against the body on GET), {@code absent} on 404, null otherwise. */
  private static String manifestValue(Result r) {
    if (r.is(404)) {
      return ABSENT;
    }
    if (!r.is(200)) {
      return null;
    }
    String digest = r.header("Docker-Content-Digest");
    if (digest == null) {
      return "no Docker-Content-Digest header";
    }
    if (r.body() != null && r.body().length > 0 && !Digest.sha256(r.body()).toString().equals(digest)) {
      return "body " + Digest.sha256(r.body()) + " under header " + digest;
    }
    return digest;
  }

  private String how(int node, Result r) {
    return "via " + name(node) + " -> " + r.describe() + " at " + elapsed();
  }

  private static Map<String, String> octets() {
    return Map.of("Content-Type", "application/octet-stream");
  }

  private static String repo(int i) {
    return String.format("chaos/r%02d", i);
  }

  /** A layer every image of a repository shares (and other repositories mount). */
  private static byte[] sharedLayer(String repo) {
    return Images.random(3000, SEED * 31L + repo.hashCode());
  }

  private static String name(int node) {
    return "node-" + node;
  }

  /** The first node at or after {@code slot} (cyclically) that writers may use. */
  private int pick(int slot) {
    for (int i = 0; i < SLOTS; i++) {
      int n = (slot + i) % SLOTS;
      if (up.contains(n)) {
        return n;
      }
    }
    return 0; // never: at most one node is down at a time
  }

  // ------------------------------------------------------------------ chaos and GC

  /**
   * One disruption at a time, each followed by a bounded wait for rebalancing to settle: kill -9
   * and restart, graceful stop (SIGTERM: hand-off) and restart, a fourth node joins, kill -9 and
   * restart; then more kills and stops while at least 15 s of the run remain (at most 8 in all).
   */
  private void chaos() {
    Random rng = new Random(SEED * 31_337L);
    List<String> plan = new ArrayList<>(List.of("kill", "stop", "join", "kill"));
    long start = startNanos;
    try {
      for (int step = 0; step < 8 && !stop.get(); step++) {
        String what;
        if (step < plan.size()) {
          what = plan.get(step);
          long at = start + TimeUnit.MILLISECONDS.toNanos(SECONDS * 1000L * (step + 1) / (plan.size() + 1));
          while (System.nanoTime() < at && !stop.get()) {
            Thread.sleep(100);
          }
          if (stop.get()) {
            break;
          }
        } else if (System.nanoTime() < start + TimeUnit.SECONDS.toNanos(SECONDS - 15)) {
          what = rng.nextInt(3) == 0 ? "stop" : "kill";
        } else {
          break;
        }
        List<Integer> candidates = new ArrayList<>(new TreeSet<>(up));
        int victim = candidates.get(rng.nextInt(candidates.size()));
        int downMillis = 1000 + rng.nextInt(3000);
        switch (what) {
          case "kill" -> {
            up.remove(victim);
            event("kill -9 node-" + victim);
            cluster.node(victim).kill9();
            Thread.sleep(downMillis);
            restart(victim);
          }
          case "stop" -> {
            up.remove(victim);
            event("SIGTERM node-" + victim + " (graceful leave)");
            int code = cluster.node(victim).terminate();
            event("node-" + victim + " exited with " + code);
            Thread.sleep(downMillis);
            restart(victim);
          }
          case "join" -> {
            long from = System.nanoTime();
            event("node-" + cluster.nodes().size() + " joins");
            NodeProcess added = cluster.add();
            int index = cluster.nodes().size() - 1;
            urls.put(index, added.url());
            cluster.awaitMembers(cluster.nodes().size());
            if (!awaitWebhookOn(index, Duration.ofSeconds(20))) {
              mismatches.add("webhook-config", "(cluster)", "", name(index), "the endpoint synced to the new node",
                  "not listed after 20 s");
            }
            up.add(index);
            // like a restart: the new member enters the cluster's view somewhere in between
            rejoins.add(new long[] {from, System.nanoTime()});
            event("node-" + index + " is a member");
          }
          default -> throw new IllegalStateException(what);
        }
        // a short, bounded pause for rebalancing to catch up (while writers run it is rarely idle)
        boolean settled = awaitSettled(Duration.ofSeconds(10), Duration.ofSeconds(2), true);
        event("rebalancing " + (settled ? "settled" : "still busy after 10 s"));
      }
    } catch (Throwable t) {
      testBugs.add(t);
    }
  }

  private void restart(int node) throws Exception {
    long from = System.nanoTime();
    event("restart node-" + node);
    cluster.restart(node);
    cluster.awaitMembers(cluster.nodes().size());
    up.add(node);
    rejoins.add(new long[] {from, System.nanoTime()});
    event("node-" + node + " is back");
  }

  /** Runs garbage collection on a random node every 4-8 s. */
  private void gc() {
    Random rng = new Random(SEED * 7_777L);
    AtomicInteger runs = new AtomicInteger();
    try {
      for (int i = 0; i < 1000 && !stop.get(); i++) {
        long next = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(4000 + rng.nextInt(4000));
        int node = pick(rng.nextInt(SLOTS));
        while (System.nanoTime() < next && !stop.get()) {
          Thread.sleep(100);
        }
        if (stop.get()) {
          break;
        }
        Result r = admin.send("POST", urls.get(node) + "/api/v1/storage/gc", null, Map.of());
        if (r.is(200)) {
          runs.incrementAndGet();
          JsonNode report = JSON.readTree(r.body());
          event("gc on node-" + node + ": " + report.path("blobsDeleted").asInt() + " blobs, "
              + report.path("linksRemoved").asInt() + " links");
        } else {
          event("gc on node-" + node + ": " + r.describe());
        }
      }
    } catch (Throwable t) {
      testBugs.add(t);
    }
  }

  // ------------------------------------------------------------------ settling

  /**
   * Waits until every running node sees every member and is idle (no pass running, nothing pending
   * or failed) for {@code stableFor}; gives up early when {@code untilStop} and the run is stopping.
   */
  private boolean awaitSettled(Duration timeout, Duration stableFor, boolean untilStop) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long idleSince = -1;
    while (System.nanoTime() < deadline && !(untilStop && stop.get())) {
      if (idle()) {
        if (idleSince < 0) {
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince >= stableFor.toNanos()) {
          return true;
        }
      } else {
        idleSince = -1;
      }
      Thread.sleep(250);
    }
    return false;
  }

  private boolean idle() {
    int members = 0;
    for (NodeProcess n : cluster.nodes()) {
      members += n.alive() ? 1 : 0;
    }
    for (int i = 0; i < cluster.nodes().size(); i++) {
      if (!cluster.node(i).alive()) {
        continue;
      }
      try {
        Result r = admin.get(urls.get(i) + "/api/v1/cluster", Map.of());
        if (!r.is(200)) {
          return false;
        }
        JsonNode s = JSON.readTree(r.body());
        JsonNode reb = s.path("rebalancing");
        if (s.path("members").size() != members || reb.path("running").asBoolean(true)
            || reb.path("pending").asInt(1) != 0 || reb.path("failed").asInt(1) != 0) {
          return false;
        }
      } catch (Exception e) {
        return false;
      }
    }
    return true;
  }

  private String clusterStatuses() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cluster.nodes().size(); i++) {
      Result r = admin.get(urls.get(i) + "/api/v1/cluster", Map.of());
      b.append(name(i)).append(": ").append(r.is(200) ? r.text().replaceAll(".*\"rebalancing\":", "") : r.describe())
          .append("; ");
    }
    return b.toString();
  }

  // ------------------------------------------------------------------ final checks

  private List<Integer> allNodes() {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < cluster.nodes().size(); i++) {
      out.add(i);
    }
    return out;
  }

  private List<TagState> sortedTags() {
    List<TagState> out = new ArrayList<>(model.tags());
    out.sort(Comparator.comparing((TagState t) -> t.repository).thenComparing(t -> t.tag));
    return out;
  }

  /**
   * Every tag through every node, GET and HEAD: a value the model allows, the same on every node,
   * and the blobs of the manifest read are there with the right digest.
   */
  private void checkTags() throws Exception {
    ChaosClient http = new ChaosClient(Duration.ofSeconds(REQUEST_TIMEOUT));
    Set<String> blobsChecked = ConcurrentHashMap.newKeySet();
    Parallel.each(sortedTags(), t -> {
      Map<String, String> seen = new TreeMap<>();
      for (int node : allNodes()) {
        String base = urls.get(node) + "/v2/" + t.repository + "/manifests/" + t.tag;
        Result get = http.get(base, ACCEPT);
        Result head = http.send("HEAD", base, null, ACCEPT);
        String got = tagValue(t, node, "GET", get);
        String headGot = tagValue(t, node, "HEAD", head);
        seen.put(name(node), got);
        if (!got.equals(headGot) && !got.startsWith("unreadable") && !headGot.startsWith("unreadable")) {
          mismatches.add("get-head-differ", t.repository, t.tag, name(node), "HEAD = GET (" + got + ")", headGot);
        }
        if (get.is(200) && got.startsWith("sha256:")) {
          checkBlobs(http, t.repository, node, get.body(), blobsChecked);
        }
      }
      if (new HashSet<>(seen.values()).size() > 1) {
        mismatches.add("nodes-disagree", t.repository, t.tag, "", "one value on every node", seen.toString());
      }
    });
  }

  /** Compares one read of a tag with the model; returns what it read. */
  private String tagValue(TagState t, int node, String method, Result r) {
    String value = manifestValue(r);
    String where = name(node) + " " + method;
    if (value == null) {
      mismatches.add("tag-unreadable", t.repository, t.tag, where, t.expected(), r.describe() + " " + r.text());
      return "unreadable " + r.describe();
    }
    if (t.allows(value)) {
      return value;
    }
    String kind;
    if (!t.allows(ABSENT) && value.equals(ABSENT)) {
      kind = "tag-lost";
    } else if (t.allowed().equals(Set.of(ABSENT))) {
      kind = "tag-deleted-came-back";
    } else {
      kind = "tag-wrong-value";
    }
    mismatches.add(kind, t.repository, t.tag, where, t.expected(), value + "; history: " + t.history);
    return value;
  }

  private void checkBlobs(ChaosClient http, String repo, int node, byte[] manifest, Set<String> checked) {
    try {
      JsonNode m = JSON.readTree(manifest);
      List<String> digests = new ArrayList<>();
      digests.add(m.path("config").path("digest").asText());
      m.path("layers").forEach(l -> digests.add(l.path("digest").asText()));
      for (String d : digests) {
        if (!checked.add(node + " " + repo + " " + d)) {
          continue;
        }
        Result b = http.get(urls.get(node) + "/v2/" + repo + "/blobs/" + d, Map.of());
        if (!b.is(200)) {
          mismatches.add("blob-missing", repo, d, name(node), "200", b.describe() + " " + b.text());
        } else if (!Digest.sha256(b.body()).toString().equals(d)) {
          mismatches.add("blob-corrupt", repo, d, name(node), d, Digest.sha256(b.body()).toString());
        }
      }
    } catch (Exception e) {
      mismatches.add("manifest-unparseable", repo, "", name(node), "JSON", e.toString());
    }
  }

  /** Each repository's tag list through every node: every certain tag in or out as the model says. */
  private void checkTagLists() throws Exception {
    ChaosClient http = new ChaosClient(Duration.ofSeconds(REQUEST_TIMEOUT));
    Map<String, List<TagState>> byRepo = new TreeMap<>();
    model.tags().forEach(t -> byRepo.computeIfAbsent(t.repository, k -> new ArrayList<>()).add(t));
    Parallel.each(new ArrayList<>(byRepo.keySet()), repo -> {
      Map<String, Set<String>> lists = new TreeMap<>();
      for (int node : allNodes()) {
        Result r = http.get(urls.get(node) + "/v2/" + repo + "/tags/list?n=10000", Map.of());
        Set<String> listed = new TreeSet<>();
        if (r.is(200)) {
          JSON.readTree(r.body()).path("tags").forEach(tag -> listed.add(tag.asText()));
        } else if (!r.is(404)) {
          mismatches.add("tag-list-unreadable", repo, "", name(node), "200 or 404", r.describe() + " " + r.text());
          continue;
        }
        lists.put(name(node), listed);
        for (TagState t : byRepo.get(repo)) {
          boolean mayBePresent = !t.allowed().equals(Set.of(ABSENT));
          boolean mayBeAbsent = t.allows(ABSENT);
          if (listed.contains(t.tag) && !mayBePresent) {
            mismatches.add("tag-list", repo, t.tag, name(node), "not listed (" + t.expected() + ")", "listed");
          } else if (!listed.contains(t.tag) && !mayBeAbsent) {
            mismatches.add("tag-list", repo, t.tag, name(node), "listed (" + t.expected() + ")", "not listed");
          }
        }
      }
      if (new HashSet<>(lists.values()).size() > 1) {
        mismatches.add("nodes-disagree", repo, "(tag list)", "", "one list on every node", lists.toString());
      }
    });
  }

  /**
   * Every manifest pushed, by digest, through every node: an acknowledged push that no acknowledged
   * delete removed is there (overwriting or deleting its tag keeps it), an acknowledged delete stays
   * deleted, and an uncertain one reads the same everywhere.
   */
  private void checkManifestsByDigest() throws Exception {
    ChaosClient http = new ChaosClient(Duration.ofSeconds(REQUEST_TIMEOUT));
    List<ManifestState> all = new ArrayList<>(model.manifests());
    all.sort(Comparator.comparing((ManifestState m) -> m.repository).thenComparing(m -> m.digest));
    Parallel.each(all, m -> {
      Set<String> seen = new LinkedHashSet<>();
      for (int node : allNodes()) {
        Result r = http.send("HEAD", urls.get(node) + "/v2/" + m.repository + "/manifests/" + m.digest, null, ACCEPT);
        String value = manifestValue(r);
        seen.add(String.valueOf(value));
        if (value == null) {
          mismatches.add("manifest-unreadable", m.repository, m.digest, name(node), m.presence.name(), r.describe());
        } else if (m.presence == Presence.PRESENT && !value.equals(m.digest)) {
          mismatches.add("manifest-lost", m.repository, m.digest, name(node), "present (pushed, never deleted)", value);
        } else if (m.presence == Presence.DELETED && !value.equals(ABSENT)) {
          mismatches.add("manifest-deleted-came-back", m.repository, m.digest, name(node), "absent (delete got 202)",
              value);
        }
      }
      if (seen.size() > 1) {
        mismatches.add("nodes-disagree", m.repository, m.digest, "", "one answer on every node", seen.toString());
      }
    });
  }

  /**
   * Each node's own storage (usage per repository, no fallback to other nodes): a repository with
   * content sits on exactly its owners, with manifest and tag counts within what the model allows
   * and the same content on each (the same fingerprint: tags and their targets, manifests and
   * tombstones).
   */
  private void checkPlacement() throws Exception {
    List<String> members = new ArrayList<>();
    Map<String, Map<String, JsonNode>> usage = new TreeMap<>(); // repo -> node -> usage entry
    for (int node : allNodes()) {
      members.add(name(node));
      Result r = admin.get(urls.get(node) + "/api/v1/storage/usage", Map.of());
      if (!r.is(200)) {
        mismatches.add("usage-unreadable", "(node)", "", name(node), "200", r.describe());
        continue;
      }
      for (JsonNode repo : JSON.readTree(r.body()).path("repositories")) {
        if (repo.path("manifests").asInt() > 0 || repo.path("tags").asInt() > 0) {
          usage.computeIfAbsent(repo.path("name").asText(), k -> new TreeMap<>()).put(name(node), repo);
        }
      }
    }
    for (int i = 0; i < REPOS; i++) {
      String repo = repo(i);
      int present = 0;
      int uncertain = 0;
      for (ManifestState m : model.manifests()) {
        if (m.repository.equals(repo)) {
          present += m.presence == Presence.PRESENT ? 1 : 0;
          uncertain += m.presence == Presence.UNCERTAIN ? 1 : 0;
        }
      }
      int tagsMin = 0;
      int tagsMax = 0;
      for (TagState t : model.tags()) {
        if (t.repository.equals(repo)) {
          tagsMin += t.allows(ABSENT) ? 0 : 1;
          tagsMax += t.allowed().equals(Set.of(ABSENT)) ? 0 : 1;
        }
      }
      Set<String> owners = owners(repo, members);
      Map<String, JsonNode> holders = usage.getOrDefault(repo, Map.of());
      if ((present > 0 || !holders.isEmpty()) && !holders.keySet().equals(owners)) {
        mismatches.add("placement", repo, "", "", "held by its owners " + owners, "held by " + holders.keySet());
      }
      Set<String> states = new TreeSet<>();
      for (var e : holders.entrySet()) {
        int manifests = e.getValue().path("manifests").asInt();
        int tags = e.getValue().path("tags").asInt();
        // the fingerprint covers each tag's target, every manifest and every tombstone: equal
        // fingerprints mean the owners hold the same content, not just as many entries
        String fingerprint = e.getValue().path("fingerprint").asText();
        if (!fingerprint.matches("[0-9a-f]{16}")) {
          mismatches.add("node-state", repo, "(fingerprint)", e.getKey(), "16 hex digits", fingerprint);
        }
        states.add(manifests + " manifests, " + tags + " tags, fingerprint " + fingerprint);
        if (manifests < present || manifests > present + uncertain) {
          mismatches.add("node-state", repo, "(manifests)", e.getKey(), present + ".." + (present + uncertain),
              Integer.toString(manifests));
        }
        if (tags < tagsMin || tags > tagsMax) {
          mismatches.add("node-state", repo, "(tags)", e.getKey(), tagsMin + ".." + tagsMax, Integer.toString(tags));
        }
      }
      if (states.size() > 1) {
        mismatches.add("node-state", repo, "", "", "the same content on every holder", holders.toString());
      }
    }
  }

  /** The owners of a repository among {@code members}: the R highest rendezvous scores (docs/cluster.md). */
  static Set<String> owners(String repo, List<String> members) {
    List<String> sorted = new ArrayList<>(members);
    sorted.sort(Comparator.comparing((String n) -> Placement.score(n, repo), Long::compareUnsigned).reversed()
        .thenComparing(Comparator.naturalOrder()));
    return new TreeSet<>(sorted.subList(0, Math.min(R, sorted.size())));
  }

  /** Every acknowledged write has an event at the receiver (duplicates allowed); waits up to 30 s. */
  private void checkEvents() throws InterruptedException {
    Set<String> expected = new TreeSet<>();
    model.expectedEvents().forEach(e -> expected.add(e.key()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Set<String> missing;
    do {
      Set<String> received = new HashSet<>();
      for (JsonNode e : receiver.events(HOOK)) {
        String digest = e.at("/target/digest").asText("");
        received.add(e.path("action").asText() + " " + e.at("/target/repository").asText() + " "
            + (digest.isEmpty() ? "tag:" + e.at("/target/tag").asText() : digest));
      }
      missing = new TreeSet<>(expected);
      missing.removeAll(received);
      if (!missing.isEmpty()) {
        Thread.sleep(500);
      }
    } while (!missing.isEmpty() && System.nanoTime() < deadline);
    Map<String, int[]> byAction = new TreeMap<>(); // action -> {acknowledged, without an event}
    expected.forEach(k -> byAction.computeIfAbsent(k.split(" ")[0], a -> new int[2])[0]++);
    missing.forEach(k -> byAction.get(k.split(" ")[0])[1]++);
    StringBuilder b = new StringBuilder();
    byAction.forEach((a, n) -> b.append(' ').append(a).append(' ').append(n[1]).append('/').append(n[0]));
    log(expected.size() + " acknowledged writes, " + receiver.events(HOOK).size() + " events received; without an"
        + " event:" + b);
    for (String key : missing) {
      String[] p = key.split(" ", 3);
      mismatches.add("event-missing", p[1], p[2], "", "a " + p[0] + " event", "none after 30 s");
    }
  }

  // ------------------------------------------------------------------ plumbing

  @FunctionalInterface
  private interface Phase {
    void run() throws Exception;
  }

  private void timed(String what, Phase phase) throws Exception {
    long started = System.nanoTime();
    int before = mismatches.size();
    phase.run();
    log(String.format("checked %s in %.1f s: %d mismatches", what, (System.nanoTime() - started) / 1e9,
        mismatches.size() - before));
  }

  private Thread thread(String name, Runnable body) {
    Thread t = new Thread(() -> {
      try {
        body.run();
      } catch (Throwable e) {
        testBugs.add(e);
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static String stackTrace(Throwable t) {
    java.io.StringWriter w = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(w));
    return w.toString();
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left;
    while ((left = nanos - System.nanoTime()) > 0) {
      Thread.sleep(Math.min(200, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
    }
  }

  private String elapsed() {
    return String.format("%.1fs", (System.nanoTime() - startNanos) / 1e9);
  }

  /** Whether a node left, drained, returned or joined within the last few seconds (or is about to). */
  private boolean nearMembershipChange() {
    return nearMembershipChange(System.nanoTime());
  }

  private boolean nearMembershipChange(long now) {
    for (long[] r : rejoins) {
      if (now >= r[0] && now <= r[1] + TimeUnit.SECONDS.toNanos(MEMBERSHIP_CHANGE_SECONDS)) {
        return true;
      }
    }
    for (long at : membershipChanges) {
      if (now >= at - TimeUnit.SECONDS.toNanos(1) && now <= at + TimeUnit.SECONDS.toNanos(MEMBERSHIP_CHANGE_SECONDS)) {
        return true;
      }
    }
    return false;
  }

  private synchronized void event(String what) {
    if (what.startsWith("kill -9") || what.startsWith("SIGTERM") || what.endsWith("is back") || what.contains("joins")
        || what.endsWith("is a member") || what.contains("exited")) {
      membershipChanges.add(System.nanoTime());
    }
    String line = elapsed() + " " + what;
    timeline.add(line);
    log(line);
  }

  private static void log(String line) {
    System.out.println("[consistency] " + line);
  }

  private void printNodeLogTails() {
    for (int i = 0; cluster != null && i < cluster.nodes().size(); i++) {
      try {
        String[] lines = cluster.node(i).output().split("\n");
        System.err.println("---- tail of node-" + i + " log ----\n"
            + String.join("\n", Arrays.asList(lines).subList(Math.max(0, lines.length - 20), lines.length)));
      } catch (Exception ignored) {
        // diagnostics only
      }
    }
  }
}
