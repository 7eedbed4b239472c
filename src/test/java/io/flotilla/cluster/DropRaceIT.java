package io.flotilla.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.storage.MetadataChecks;
import io.flotilla.testing.Await;
import io.flotilla.testing.ChaosClient;
import io.flotilla.testing.ChaosClient.Result;
import io.flotilla.testing.Images;
import io.flotilla.testing.Mismatches;
import io.flotilla.testing.NodeLogsOnFailure;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.Parallel;
import io.flotilla.testing.ProcessCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dropping a repository that moved to other nodes races the writes to it, across node processes
 * (issue 14 item 4: the drop and every write to the repository are serialised, and the drop is
 * re-checked under the same lock). Two nodes (R = 2) own every repository; writers push into
 * {@value #REPOS} repositories through every node (monolithic, two-step and chunked blob uploads,
 * pushes whose upload sessions stay open for 1 to 5 s before their finishing PUTs, cross-repository
 * mounts, manifest PUTs and tag overwrites) while a third node joins, so each old node drops about a
 * third of the repositories while pushes to them are in flight and their replication lands; then an
 * old node leaves gracefully and comes back on its data, so the other two drop again. (With
 * rendezvous placement the node that drops a repository when a member joins or returns is always
 * its former replica, never its former primary, where upload sessions live: what lands on the
 * dropping node is the replication of pushes, blob copies and routing by views not yet updated.)
 *
 * <p>It proves that no acknowledged write is lost to a drop and that a drop leaves no ghost: once
 * rebalancing settles, every tag names its last acknowledged manifest (or one whose write got no
 * clear answer) through every node, every acknowledged manifest is there, every acknowledged blob
 * upload and every blob of those manifests reads back with the right bytes, and each node's own
 * storage holds exactly the repositories it owns. Then every node is killed at the same instant (a
 * graceful stop would hand repositories to the members still serving) and each database, read key
 * by key, must hold nothing at all of a repository its node does not own (no summary, tag,
 * manifest, blob link, tombstone or referrer), on each owner every acknowledged manifest and an
 * allowed value of every acknowledged tag, and nothing inconsistent; after a restart of all nodes
 * on their data the checks through every node pass again. The drops are counted from the node logs
 * (with the drops refused because a write landed while the repository was copied), each node's
 * usage is polled during the writes, and the test asserts that at least {@value #MIN_RACED_DROPS}
 * repositories left a node while a write operation on them was in flight.
 */
class DropRaceIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long SEED = Long.getLong("droprace.seed", 14);
  private static final int REPOS = 24;
  private static final int WRITERS = 6;
  private static final int TAGS_PER_WRITER = 2;
  /** A bound on each writer's operations; the phases stop them long before in practice. */
  private static final int MAX_OPS = 5000;
  private static final int REQUEST_TIMEOUT_SECONDS = 45;
  /** Writes before the third node starts, once every repository holds an acknowledged image. */
  private static final int WARM_UP_SECONDS = 3;
  /** Writes after the third node is a member, and after the leaving node is back. */
  private static final int AFTER_JOIN_SECONDS = 12;
  private static final int AFTER_REJOIN_SECONDS = 10;
  private static final int SETTLE_SECONDS = 120;
  /** Drops that must have happened while a write to the same repository was in flight. */
  private static final int MIN_RACED_DROPS = 3;
  private static final String ABSENT = "absent";
  private static final Map<String, String> ACCEPT = Map.of("Accept", MediaTypes.OCI_MANIFEST);
  private static final Map<String, String> OCTETS = Map.of("Content-Type", "application/octet-stream");
  private static final Pattern DROPPED = Pattern.compile("rebalancing pass \\d+: .* (\\d+) dropped here");
  private static final Pattern REFUSED =
      Pattern.compile("could not copy (\\S+) to .*: \\1 changed while it was copied");

  @TempDir
  Path dir;
  private ProcessCluster cluster;

  @RegisterExtension
  final NodeLogsOnFailure nodeLogs = NodeLogsOnFailure.of(() -> cluster);

  /** Node index -> base URL (a restarted node keeps its port). */
  private final Map<Integer, String> urls = new ConcurrentHashMap<>();
  /** Nodes writers (and the usage poller) may use: running and not being stopped. */
  private final Set<Integer> up = new ConcurrentSkipListSet<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final ConcurrentLinkedQueue<Throwable> testBugs = new ConcurrentLinkedQueue<>();
  private final ChaosClient admin = new ChaosClient(Duration.ofSeconds(30));
  private final Mismatches mismatches = new Mismatches();
  private long startNanos;
  /** The log of a node's earlier process, by node index (node-1 is restarted while the writers run). */
  private final Map<Integer, String> retired = new ConcurrentHashMap<>();

  /** Every tag a writer owns ({@code repo tag} -> its record). */
  private final Map<String, TagRecord> tags = new ConcurrentHashMap<>();
  /** Every acknowledged manifest: repository -> digest -> body. */
  private final Map<String, Map<String, byte[]>> ackedManifests = new ConcurrentHashMap<>();
  /** Every blob upload or mount answered 201: repository -> digests. */
  private final Map<String, Set<String>> ackedBlobs = new ConcurrentHashMap<>();
  /** While node-1 is away (from its SIGTERM until it is a member again): the others own everything. */
  private volatile long leaveFrom = Long.MAX_VALUE;
  private volatile long leaveTo = Long.MAX_VALUE;
  /** Every write operation (a push, a held push, a tag overwrite) with when it was in flight. */
  private final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
  /** How the writers' requests ended, by kind and status. */
  private final Map<String, Integer> outcomes = new ConcurrentHashMap<>();
  /** Repositories seen to vanish from a node's storage while the writers ran. */
  private final ConcurrentLinkedQueue<Disappearance> disappearances = new ConcurrentLinkedQueue<>();
  /** Repositories seen back on a node after they vanished from it (a write landed after the drop). */
  private final ConcurrentLinkedQueue<Disappearance> reappearances = new ConcurrentLinkedQueue<>();

  /**
   * One write operation on a repository through a node, from its first request to the answer to its
   * last: {@code outcome} is the manifest PUT's status, or the step that failed.
   */
  private record Op(String repository, int node, String kind, long startNanos, long endNanos, String outcome) {}

  /** A repository present on a node in one usage poll and absent (or back) in the next one. */
  private record Disappearance(int node, String repository, long fromNanos, long toNanos) {}

  /** The writes of one tag (one writer owns it): its last acknowledged value and those that may be there too. */
  private static final class TagRecord {
    final String repository;
    final String tag;
    /** The last acknowledged digest, null before any. */
    String acked;
    /** Digests written after the last acknowledgement whose write failed: may or may not have landed. */
    final Set<String> unclear = new LinkedHashSet<>();
    /** Digests whose write got no answer at all: may land at any time. */
    final Set<String> unanswered = new LinkedHashSet<>();
    final List<String> history = new ArrayList<>();

    TagRecord(String repository, String tag) {
      this.repository = repository;
      this.tag = tag;
    }

    synchronized void wrote(String digest, Result r, String how) {
      history.add(digest.substring(7, 19) + " " + how);
      if (r.is(201)) {
        acked = digest;
        unclear.clear();
      } else if (r.unknown()) {
        unanswered.add(digest);
      } else if (!r.refused()) {
        unclear.add(digest);
      }
    }

    synchronized Set<String> allowed() {
      Set<String> out = new TreeSet<>(unclear);
      out.addAll(unanswered);
      out.add(acked == null ? ABSENT : acked);
      return out;
    }

    synchronized String describe() {
      return "acknowledged " + acked + ", allowed " + allowed() + ", history "
          + history.subList(Math.max(0, history.size() - 6), history.size());
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    stop.set(true);
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void acknowledgedWritesSurviveDropsThatRaceThemAndNoDropLeavesAGhost() throws Exception {
    startNanos = System.nanoTime();
    cluster = ProcessCluster.start(dir, 2, "127.0.0.1", Map.of(
        "FLOTILLA_CLUSTER_REPLICATION_FACTOR", "2",
        "FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "1s",
        "FLOTILLA_CLUSTER_HANDOFF_TIMEOUT", "30s",
        "FLOTILLA_HTTP_SHUTDOWN_TIMEOUT", "5s",
        "FLOTILLA_EVENTS_ENABLED", "false"));
    for (int i = 0; i < 2; i++) {
      urls.put(i, cluster.node(i).url());
      up.add(i);
    }
    log("2 nodes up (R = 2: both own every repository)");

    // ---- writers and the usage poller run through the membership changes
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      writers.add(thread("writer-" + w, new Writer(w)));
    }
    Thread poller = thread("usage-poller", this::pollUsage);
    Await.until("every repository holds an acknowledged image", Duration.ofSeconds(120),
        () -> ackedManifests.size() == REPOS || !testBugs.isEmpty());
    Thread.sleep(TimeUnit.SECONDS.toMillis(WARM_UP_SECONDS));

    log("node-2 joins");
    NodeProcess added = cluster.add();
    urls.put(2, added.url());
    cluster.awaitMembers(3);
    up.add(2);
    log("node-2 is a member: node-0 and node-1 drop what moved to it");
    Thread.sleep(TimeUnit.SECONDS.toMillis(AFTER_JOIN_SECONDS));

    up.remove(1);
    leaveFrom = System.nanoTime();
    log("SIGTERM node-1 (graceful leave: hand-off to node-0 and node-2, which own everything while it is away)");
    int code = cluster.node(1).terminate();
    log("node-1 exited with " + code + "; restarting it on its data");
    retired.put(1, cluster.node(1).output());
    cluster.restart(1);
    cluster.awaitMembers(3);
    up.add(1);
    leaveTo = System.nanoTime();
    log("node-1 is back: node-0 and node-2 drop what it owns again");
    Thread.sleep(TimeUnit.SECONDS.toMillis(AFTER_REJOIN_SECONDS));

    stop.set(true);
    for (Thread t : writers) {
      t.join(TimeUnit.SECONDS.toMillis(REQUEST_TIMEOUT_SECONDS * 8L));
      if (t.isAlive()) {
        throw new AssertionError(t.getName() + " did not stop");
      }
    }
    poller.join(TimeUnit.SECONDS.toMillis(60));
    Map<Integer, String> logsOfTheWrites = logs();
    if (!testBugs.isEmpty()) {
      AssertionError e = new AssertionError("the test itself failed: " + testBugs.peek(), testBugs.peek());
      testBugs.forEach(e::addSuppressed);
      throw e;
    }
    log(ops.size() + " write operations; their requests: " + new TreeMap<>(outcomes));

    // ---- settled: every acknowledged write through every node, each repository on exactly its owners
    awaitSettled("after the writes");
    List<String> members = List.of("node-0", "node-1", "node-2");
    checkAcknowledged("after the writes");
    checkPlacement("after the writes", members);
    Map<Integer, String> logsOfTheRun = logs();

    // ---- every node killed at one instant: what each database holds, key by key
    for (NodeProcess n : cluster.nodes()) {
      ProcessHandle.of(n.pid()).ifPresent(ProcessHandle::destroyForcibly);
    }
    for (NodeProcess n : cluster.nodes()) {
      n.kill9(); // waits for the exit
    }
    up.clear();
    log("every node killed at once");
    for (int i = 0; i < 3; i++) {
      checkDatabase(i, members);
    }

    // ---- restarted on their data: the checks through every node again. All at once, each told every
    // member's address: node-0 and node-1 were started before node-2 existed, and a node-2 that came up
    // before them would otherwise stay a cluster of its own (seen once: alone for the 120 s awaited)
    Map<String, String> everyMember =
        Map.of("FLOTILLA_CLUSTER_MEMBERS", String.join(",", cluster.hazelcastMembers()));
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<NodeProcess>> restarts = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int node = i;
        restarts.add(pool.submit(() -> cluster.restart(node, everyMember)));
      }
      for (Future<NodeProcess> f : restarts) {
        f.get(5, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    cluster.awaitMembers(3);
    up.addAll(List.of(0, 1, 2));
    log("every node restarted on its data");
    awaitSettled("after the restart");
    checkAcknowledged("after the restart");
    checkPlacement("after the restart", members);

    // ---- the race happened: drops while writes to the same repositories were in flight
    int raced = reportDrops(logsOfTheWrites, logsOfTheRun);
    if (!mismatches.isEmpty()) {
      Path report = Path.of("target", "droprace-" + SEED + ".txt");
      mismatches.write(report);
      throw new AssertionError(mismatches.report(20) + "full report: " + report.toAbsolutePath());
    }
    if (raced < MIN_RACED_DROPS) {
      throw new AssertionError("only " + raced + " drops happened while a write to the same repository was in flight"
          + " (at least " + MIN_RACED_DROPS + " expected): the test did not create the race it is about");
    }
    log(String.format("done in %.1f s", (System.nanoTime() - startNanos) / 1e9));
  }

  // ------------------------------------------------------------------ writers

  /**
   * One writer: owns tags {@code w<index>-<k>} in every repository and runs one operation at a time
   * through a random running node: a push (three blobs, each uploaded monolithically, in two steps
   * or in two chunks, the shared layer sometimes mounted from another repository, then the manifest
   * under a tag), a held push (three upload sessions opened, then finished after 1 to 5 s: the
   * sessions' node may drop the repository meanwhile), or a tag overwrite with a manifest it pushed.
   */
  private final class Writer implements Runnable {
    private final int index;
    private final Random rng;
    private final ChaosClient http = new ChaosClient(Duration.ofSeconds(REQUEST_TIMEOUT_SECONDS));
    /** Manifests this writer got acknowledged, per repository. */
    private final Map<String, List<byte[]>> mine = new HashMap<>();

    Writer(int index) {
      this.index = index;
      this.rng = new Random(SEED * 1_000_003L + index);
    }

    @Override
    public void run() {
      for (int n = 0; n < MAX_OPS && !stop.get(); n++) {
        // the first round pushes into every repository, so that each exists before the third node joins
        String repo = n < REPOS ? repo((n + index * 5) % REPOS) : repo(rng.nextInt(REPOS));
        TagRecord t = tag(repo, "w" + index + "-" + rng.nextInt(TAGS_PER_WRITER));
        int node = pick(rng.nextInt(3));
        List<byte[]> acked = mine.getOrDefault(repo, List.of());
        int kind = n < REPOS ? 99 : rng.nextInt(100);
        long started = System.nanoTime();
        String what;
        String outcome;
        if (kind < 25 && !acked.isEmpty()) {
          what = "tag overwrite";
          outcome = putManifest(t, node, acked.get(rng.nextInt(acked.size())), what);
        } else if (kind < 55) {
          what = "held push";
          outcome = heldPush(t, node, n);
        } else {
          what = "push";
          outcome = push(t, node, n);
        }
        ops.add(new Op(repo, node, what, started, System.nanoTime(), outcome));
      }
    }

    private Result send(String method, String url, byte[] body, Map<String, String> headers) {
      return http.send(method, url, body, headers);
    }

    private String push(TagRecord t, int node, int n) {
      String repo = t.repository;
      byte[][] blobs = blobs(repo, n);
      int sharedFrom = rng.nextInt(100) < 25 ? rng.nextInt(REPOS) : -1;
      if (sharedFrom >= 0 && !repo(sharedFrom).equals(repo)) {
        blobs[1] = sharedLayer(repo(sharedFrom));
      }
      String failed = null;
      for (int i = 0; i < blobs.length && failed == null; i++) {
        failed = i == 1 && sharedFrom >= 0 && !repo(sharedFrom).equals(repo)
            ? mount(repo, node, blobs[i], repo(sharedFrom)) : upload(repo, node, blobs[i]);
      }
      return failed != null ? failed : putManifest(t, node, manifest(blobs), "push");
    }

    /** Opens an upload session for each blob, waits 1 to 5 s, then finishes them and puts the manifest. */
    private String heldPush(TagRecord t, int node, int n) {
      String repo = t.repository;
      byte[][] blobs = blobs(repo, n);
      List<Open> sessions = new ArrayList<>();
      for (byte[] blob : blobs) {
        Open o = open(repo, node, blob, rng.nextBoolean());
        if (o == null) {
          return "start";
        }
        sessions.add(o);
      }
      sleep(1000 + rng.nextInt(4000)); // the repository may move meanwhile, and its former replica drop it
      for (Open o : sessions) {
        String failed = finish(o);
        if (failed != null) {
          return failed;
        }
      }
      return putManifest(t, node, manifest(blobs), "held push");
    }

    /** The config, shared layer and own layer of a new image. */
    private byte[][] blobs(String repo, int n) {
      byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"repository\":\"" + repo + "\",\"writer\":"
          + index + ",\"op\":" + n + ",\"seed\":" + SEED + "}").getBytes(StandardCharsets.UTF_8);
      byte[] own = Images.random(512 + rng.nextInt(4096), SEED * 7_919L + index * 1_000_000L + n);
      return new byte[][] {config, sharedLayer(repo), own};
    }

    /** Puts a manifest under a tag; returns the status (or failure). */
    private String putManifest(TagRecord t, int node, byte[] manifest, String what) {
      Result r = send("PUT", urls.get(node) + "/v2/" + t.repository + "/manifests/" + t.tag,
          manifest, Map.of("Content-Type", MediaTypes.OCI_MANIFEST));
      String digest = Digest.sha256(manifest).toString();
      t.wrote(digest, r, what + " via node-" + node + " -> " + r.describe() + " at " + elapsed());
      if (r.is(201)) {
        ackedManifests.computeIfAbsent(t.repository, k -> new ConcurrentHashMap<>()).put(digest, manifest);
        mine.computeIfAbsent(t.repository, k -> new ArrayList<>()).add(manifest);
      }
      outcomes.merge(what + " " + r.describe(), 1, Integer::sum);
      return r.describe();
    }

    /** Uploads a blob: monolithic, or a session finished in one PUT or after a first chunk; null once 201. */
    private String upload(String repo, int node, byte[] blob) {
      int style = rng.nextInt(3);
      if (style == 0) {
        String digest = Digest.sha256(blob).toString();
        Result r = send("POST", urls.get(node) + "/v2/" + repo
            + "/blobs/uploads/?digest=" + digest, blob, OCTETS);
        return acked(repo, digest, r, "monolithic upload") ? null : "monolithic " + r.describe();
      }
      Open o = open(repo, node, blob, style == 2);
      return o == null ? "start" : finish(o);
    }

    /** Starts an upload session (and sends the first half when {@code chunked}); null when that failed. */
    private Open open(String repo, int node, byte[] blob, boolean chunked) {
      String digest = Digest.sha256(blob).toString();
      Result session = send("POST", urls.get(node) + "/v2/" + repo + "/blobs/uploads/",
          null, Map.of());
      if (!session.is(202) || session.header("Location") == null) {
        outcomes.merge("upload start " + session.describe(), 1, Integer::sum);
        return null;
      }
      String location = absolute(node, session.header("Location"));
      if (!chunked) {
        return new Open(repo, digest, location, blob, -1);
      }
      int half = blob.length / 2;
      Result patch = send("PATCH", location, Arrays.copyOfRange(blob, 0, half),
          Map.of("Content-Type", "application/octet-stream", "Content-Range", "0-" + (half - 1)));
      if (!patch.is(202) || patch.header("Location") == null) {
        outcomes.merge("upload chunk " + patch.describe(), 1, Integer::sum);
        return null;
      }
      return new Open(repo, digest, absolute(node, patch.header("Location")),
          Arrays.copyOfRange(blob, half, blob.length), half);
    }

    /** The finishing PUT of a session (with the rest of the blob); null once 201. */
    private String finish(Open o) {
      Map<String, String> headers = o.from() < 0 ? OCTETS : Map.of("Content-Type", "application/octet-stream",
          "Content-Range", o.from() + "-" + (o.from() + o.rest().length - 1));
      Result put = send("PUT", o.location() + (o.location().contains("?") ? "&" : "?") + "digest=" + o.digest(),
          o.rest(), headers);
      return acked(o.repo(), o.digest(), put, "upload finish") ? null : "finish " + put.describe();
    }

    /** A cross-repository mount of another repository's shared layer; an upload when it answers 202. */
    private String mount(String repo, int node, byte[] blob, String from) {
      String digest = Digest.sha256(blob).toString();
      Result r = send("POST", urls.get(node) + "/v2/" + repo + "/blobs/uploads/?mount=" + digest
          + "&from=" + from, null, Map.of());
      if (acked(repo, digest, r, "mount")) {
        return null;
      }
      if (!r.is(202) || r.header("Location") == null) {
        return "mount " + r.describe();
      }
      return finish(new Open(repo, digest, absolute(node, r.header("Location")), blob, -1));
    }

    /** Whether a blob upload (or mount) was acknowledged; records it if so. */
    private boolean acked(String repo, String digest, Result r, String what) {
      outcomes.merge(what + " " + r.describe(), 1, Integer::sum);
      if (r.is(201)) {
        ackedBlobs.computeIfAbsent(repo, k -> ConcurrentHashMap.newKeySet()).add(digest);
        return true;
      }
      return false;
    }
  }

  /** The record of a tag (created on first use). */
  private TagRecord tag(String repo, String tag) {
    return tags.computeIfAbsent(repo + " " + tag, k -> new TagRecord(repo, tag));
  }

  /** An open upload session: the rest of its blob goes from offset {@code from} (-1: the whole blob, no range). */
  private record Open(String repo, String digest, String location, byte[] rest, int from) {}

  /** An image manifest of a config and two layers. */
  private static byte[] manifest(byte[][] blobs) {
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", Digest.sha256(blobs[0]), blobs[0].length)
        + ",\"layers\":["
        + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.sha256(blobs[1]), blobs[1].length)
        + "," + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.sha256(blobs[2]),
            blobs[2].length)
        + "]}").getBytes(StandardCharsets.UTF_8);
  }

  private String absolute(int node, String location) {
    return location.startsWith("http") ? location : urls.get(node) + location;
  }

  /** A layer every image of a repository shares (and other repositories mount). */
  private static byte[] sharedLayer(String repo) {
    return Images.random(3000, SEED * 31L + repo.hashCode());
  }

  private static String repo(int i) {
    return String.format("droprace/r%02d", i);
  }

  /** The first running node at or after {@code slot} (cyclically). */
  private int pick(int slot) {
    for (int i = 0; i < 3; i++) {
      int n = (slot + i) % 3;
      if (up.contains(n)) {
        return n;
      }
    }
    return 0; // never: at most one node is away while the writers run
  }

  // ------------------------------------------------------------------ watching the drops

  /**
   * Polls every running node's own storage ({@code /api/v1/storage/usage}) until the writers stop and
   * records each repository that vanished between two polls of a node (and any that came back).
   */
  private void pollUsage() {
    Map<Integer, Map<String, Long>> seenAt = new HashMap<>(); // node -> repository -> start of the poll that saw it
    Map<Integer, Map<String, Long>> goneAt = new HashMap<>();
    try {
      while (!stop.get()) {
        for (int node = 0; node < 3; node++) {
          if (!up.contains(node)) {
            seenAt.remove(node); // away or restarting: its next poll starts afresh
            goneAt.remove(node);
            continue;
          }
          long sent = System.nanoTime();
          Result r = admin.get(urls.get(node) + "/api/v1/storage/usage", Map.of());
          long answered = System.nanoTime();
          if (!r.is(200) || !up.contains(node)) {
            continue;
          }
          Set<String> held = new TreeSet<>();
          JSON.readTree(r.body()).path("repositories").forEach(e -> held.add(e.path("name").asText()));
          Map<String, Long> before = seenAt.computeIfAbsent(node, k -> new HashMap<>());
          Map<String, Long> gone = goneAt.computeIfAbsent(node, k -> new HashMap<>());
          for (var e : new ArrayList<>(before.entrySet())) {
            if (!held.contains(e.getKey())) {
              disappearances.add(new Disappearance(node, e.getKey(), e.getValue(), answered));
              before.remove(e.getKey());
              gone.put(e.getKey(), answered);
            }
          }
          for (String repository : held) {
            Long wentAt = gone.remove(repository);
            if (wentAt != null) {
              reappearances.add(new Disappearance(node, repository, wentAt, answered));
            }
            before.put(repository, sent);
          }
        }
        Thread.sleep(100);
      }
    } catch (Throwable t) {
      testBugs.add(t);
    }
  }

  /**
   * Prints the drops (from the node logs: during the writes and in all), the drops refused because a
   * write landed while the repository was copied, and the disappearances the usage poller saw,
   * matched with the writers' requests; returns how many drops happened while a write to the same
   * repository was in flight.
   */
  private int reportDrops(Map<Integer, String> logsOfTheWrites, Map<Integer, String> logsOfTheRun) {
    for (int i = 0; i < 3; i++) {
      // a pass logs its drops when it ends: one cut short by a stop is missing (the poller still saw them)
      log("node-" + i + ": " + dropped(logsOfTheWrites.get(i)) + " repositories dropped while the writers ran ("
          + dropped(logsOfTheRun.get(i)) + " until settled), " + refused(logsOfTheWrites.get(i)) + " drops refused"
          + " because the repository changed while it was copied (" + refused(logsOfTheRun.get(i)) + ")");
    }
    // drops while a write operation on the same repository was in flight
    int raced = 0;
    List<String> examples = new ArrayList<>();
    for (Disappearance d : disappearances) {
      Op racing = null;
      for (Op o : ops) {
        if (o.repository().equals(d.repository()) && o.startNanos() < d.toNanos() && o.endNanos() > d.fromNanos()
            && (racing == null || o.endNanos() - o.startNanos() < racing.endNanos() - racing.startNanos())) {
          racing = o;
        }
      }
      if (racing != null) {
        raced++;
        if (examples.size() < 5) {
          examples.add(d.repository() + " left node-" + d.node() + " between " + at(d.fromNanos()) + " and "
              + at(d.toNanos()) + " while a " + racing.kind() + " through node-" + racing.node() + " ran from "
              + at(racing.startNanos()) + " to " + at(racing.endNanos()) + " -> " + racing.outcome());
        }
      }
    }
    int landedAfter = 0;
    for (Disappearance d : reappearances) {
      landedAfter += d.toNanos() < leaveFrom || d.fromNanos() > leaveTo ? 1 : 0;
    }
    log(disappearances.size() + " repositories left a node while the writers ran (usage polled), " + raced
        + " of them while a write operation on the same repository was in flight; " + landedAfter + " repositories"
        + " came back on a node that had dropped them and did not own them (a write or a copy landed after the drop)"
        + " and left again (" + (reappearances.size() - landedAfter) + " more came back"
        + " while node-1 was away and the others owned everything)");
    examples.forEach(e -> log("  e.g. " + e));
    return raced;
  }

  /** Every node's log so far (a restarted node's earlier process first). */
  private Map<Integer, String> logs() throws java.io.IOException {
    Map<Integer, String> out = new TreeMap<>();
    for (int i = 0; i < cluster.nodes().size(); i++) {
      out.put(i, retired.getOrDefault(i, "") + cluster.node(i).output());
    }
    return out;
  }

  /** How many repositories the rebalancing passes in a log dropped. */
  private static int dropped(String log) {
    int n = 0;
    Matcher m = DROPPED.matcher(log);
    while (m.find()) {
      n += Integer.parseInt(m.group(1));
    }
    return n;
  }

  /** How many drops a log shows refused because the repository changed while it was copied. */
  private static int refused(String log) {
    int n = 0;
    Matcher m = REFUSED.matcher(log);
    while (m.find()) {
      n++;
    }
    return n;
  }

  // ------------------------------------------------------------------ checks

  /**
   * Waits until every node sees every member and its rebalancing is idle (no pass running, nothing
   * pending or failed) for 3 s; a mismatch when it does not within {@value #SETTLE_SECONDS} s.
   */
  private void awaitSettled(String when) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLE_SECONDS);
    long idleSince = -1;
    while (System.nanoTime() < deadline) {
      if (idle()) {
        if (idleSince < 0) {
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince >= TimeUnit.SECONDS.toNanos(3)) {
          log("rebalancing settled " + when);
          return;
        }
      } else {
        idleSince = -1;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("rebalancing did not settle within " + SETTLE_SECONDS + " s " + when + ": "
        + clusterStatuses());
  }

  private boolean idle() {
    for (int i = 0; i < 3; i++) {
      Result r = admin.get(urls.get(i) + "/api/v1/cluster", Map.of());
      if (!r.is(200)) {
        return false;
      }
      try {
        JsonNode s = JSON.readTree(r.body());
        JsonNode reb = s.path("rebalancing");
        if (s.path("members").size() != 3 || s.path("draining").size() != 0 || reb.path("running").asBoolean(true)
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
    for (int i = 0; i < 3; i++) {
      Result r = admin.get(urls.get(i) + "/api/v1/cluster", Map.of());
      b.append("node-").append(i).append(": ").append(r.is(200) ? r.text() : r.describe()).append("; ");
    }
    return b.toString();
  }

  /**
   * Through every node: every tag with an acknowledged write names an allowed manifest (its body
   * hashing to the digest), and that manifest's blobs are there with the right bytes; every
   * acknowledged manifest is there by digest, and its blobs through one node.
   */
  private void checkAcknowledged(String when) throws Exception {
    long started = System.nanoTime();
    int before = mismatches.size();
    ChaosClient http = new ChaosClient(Duration.ofSeconds(REQUEST_TIMEOUT_SECONDS));
    List<TagRecord> acked = new ArrayList<>();
    for (TagRecord t : tags.values()) {
      if (t.acked != null) {
        acked.add(t);
      }
    }
    Set<String> blobsChecked = ConcurrentHashMap.newKeySet();
    Parallel.each(acked, t -> {
      for (int node = 0; node < 3; node++) {
        Result r = http.get(urls.get(node) + "/v2/" + t.repository + "/manifests/" + t.tag, ACCEPT);
        String value = manifestValue(r);
        if (!t.allowed().contains(value)) {
          mismatches.add(value.equals(ABSENT) ? "tag-lost " + when : "tag-wrong " + when, t.repository, t.tag,
              "node-" + node, t.describe(), value + " " + r.describe());
        } else if (!value.equals(ABSENT)) {
          checkBlobs(http, t.repository, node, r.body(), blobsChecked, when);
        }
      }
    });
    List<String[]> manifests = new ArrayList<>();
    ackedManifests.forEach((repo, byDigest) -> byDigest.keySet().forEach(d -> manifests.add(new String[] {repo, d})));
    Parallel.each(manifests, m -> {
      for (int node = 0; node < 3; node++) {
        Result r = http.send("HEAD", urls.get(node) + "/v2/" + m[0] + "/manifests/" + m[1], null, ACCEPT);
        if (!r.is(200) || !m[1].equals(r.header("Docker-Content-Digest"))) {
          mismatches.add("manifest-lost " + when, m[0], m[1], "node-" + node, "200", r.describe());
        }
      }
    });
    // every blob upload answered 201 (referenced by an acknowledged manifest or not: no GC runs), through one node
    List<String[]> blobs = new ArrayList<>();
    ackedBlobs.forEach((repo, digests) -> digests.forEach(d -> blobs.add(new String[] {repo, d})));
    Parallel.each(blobs, b -> checkBlob(http, b[0], Math.floorMod((b[1] + when).hashCode(), 3), b[1], blobsChecked, when));
    log(String.format("%s: %d acknowledged tags and %d acknowledged manifests checked through every node, %d"
        + " acknowledged blobs, %d blob reads in all, in %.1f s: %d mismatches", when, acked.size(), manifests.size(),
        blobs.size(), blobsChecked.size(), (System.nanoTime() - started) / 1e9, mismatches.size() - before));
  }

  private void checkBlobs(ChaosClient http, String repo, int node, byte[] manifest, Set<String> checked, String when)
      throws Exception {
    JsonNode m = JSON.readTree(manifest);
    List<String> digests = new ArrayList<>();
    digests.add(m.path("config").path("digest").asText());
    m.path("layers").forEach(l -> digests.add(l.path("digest").asText()));
    for (String d : digests) {
      checkBlob(http, repo, node, d, checked, when);
    }
  }

  /** A blob of a repository read through a node (once per check): there, with the right bytes. */
  private void checkBlob(ChaosClient http, String repo, int node, String d, Set<String> checked, String when) {
    if (!checked.add(node + " " + repo + " " + d)) {
      return;
    }
    Result b = http.get(urls.get(node) + "/v2/" + repo + "/blobs/" + d, Map.of());
    if (!b.is(200)) {
      mismatches.add("blob-missing " + when, repo, d, "node-" + node, "200", b.describe() + " " + b.text());
    } else if (!Digest.sha256(b.body()).toString().equals(d)) {
      mismatches.add("blob-corrupt " + when, repo, d, "node-" + node, d, Digest.sha256(b.body()).toString());
    }
  }

  /** A manifest GET: its digest (checked against the body), {@code absent} on 404, else a description. */
  private static String manifestValue(Result r) {
    if (r.is(404)) {
      return ABSENT;
    }
    String digest = r.header("Docker-Content-Digest");
    if (!r.is(200) || digest == null) {
      return "unreadable";
    }
    if (!Digest.sha256(r.body()).toString().equals(digest)) {
      return "body " + Digest.sha256(r.body()) + " under header " + digest;
    }
    return digest;
  }

  /**
   * Each node's own storage: every repository is listed on exactly its owners, and a node lists no
   * repository it does not own (not even an empty one).
   */
  private void checkPlacement(String when, List<String> members) throws Exception {
    Map<String, Set<String>> holders = new TreeMap<>();
    for (int node = 0; node < 3; node++) {
      Result r = admin.get(urls.get(node) + "/api/v1/storage/usage", Map.of());
      if (!r.is(200)) {
        mismatches.add("usage-unreadable " + when, "(node)", "", "node-" + node, "200", r.describe());
        continue;
      }
      for (JsonNode e : JSON.readTree(r.body()).path("repositories")) {
        holders.computeIfAbsent(e.path("name").asText(), k -> new TreeSet<>()).add("node-" + node);
      }
    }
    for (int i = 0; i < REPOS; i++) {
      holders.putIfAbsent(repo(i), Set.of());
    }
    holders.forEach((repo, on) -> {
      Set<String> owners = ConsistencyIT.owners(repo, members);
      if (!on.equals(owners)) {
        mismatches.add("placement " + when, repo, "", "", "held by its owners " + owners, "held by " + on);
      }
    });
    log(when + ": placement of " + holders.size() + " repositories checked on every node");
  }

  /**
   * A killed node's database, key by key: no key at all of a repository the node does not own; on an
   * owner, every acknowledged manifest and an allowed value of every acknowledged tag; and nothing
   * half-visible or inconsistent ({@link MetadataChecks#verify}).
   */
  private void checkDatabase(int node, List<String> members) throws Exception {
    String name = "node-" + node;
    Path data = dir.resolve("node" + node);
    MetadataChecks.Report report = MetadataChecks.verify(data);
    report.problems().forEach(p -> mismatches.add("database-inconsistent", "(database)", "", name, "consistent", p));
    MetadataChecks.Inventory db = MetadataChecks.inventory(data);
    int owned = 0;
    for (var e : db.keys().entrySet()) {
      if (!ConsistencyIT.owners(e.getKey(), members).contains(name)) {
        mismatches.add("ghost", e.getKey(), "", name, "no key on a node that does not own it", "keys " + e.getValue());
      }
    }
    for (int i = 0; i < REPOS; i++) {
      String repo = repo(i);
      if (!ConsistencyIT.owners(repo, members).contains(name)) {
        continue;
      }
      owned++;
      Map<String, String> heldTags = db.tags().getOrDefault(repo, Map.of());
      Set<String> heldManifests = db.manifests().getOrDefault(repo, Set.of());
      for (String digest : ackedManifests.getOrDefault(repo, Map.of()).keySet()) {
        if (!heldManifests.contains(digest)) {
          mismatches.add("owner-lacks-manifest", repo, digest, name, "recorded on disk", "missing");
        }
      }
      for (TagRecord t : tags.values()) {
        if (t.repository.equals(repo) && t.acked != null
            && !t.allowed().contains(heldTags.getOrDefault(t.tag, ABSENT))) {
          mismatches.add("owner-tag-wrong", repo, t.tag, name, t.describe(), heldTags.getOrDefault(t.tag, ABSENT));
        }
      }
    }
    log(name + "'s database: " + db.keys().size() + " repositories with keys, " + owned + " owned, "
        + report.manifests() + " manifest records, " + report.problems().size() + " inconsistencies");
  }

  // ------------------------------------------------------------------ plumbing

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

  private static void sleep(int millis) {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private String elapsed() {
    return at(System.nanoTime());
  }

  private String at(long nanos) {
    return String.format("%.2fs", (nanos - startNanos) / 1e9);
  }

  private void log(String line) {
    System.out.println("[droprace " + elapsed() + "] " + line);
  }
}
