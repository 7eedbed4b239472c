package io.flotilla.scan;

import io.flotilla.cluster.Member;
import io.flotilla.cluster.Membership;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.ManifestMeta;
import io.flotilla.storage.MetadataStore;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * A node's scanner: a queue of image manifests to scan ({@link ScanQueue}), run on a bounded worker
 * pool, one scan per digest at a time; the results kept in the {@link ScanStore} and handed to the repository's other
 * owners; and the active database, under which every stored result is matched again (no layer read)
 * when it changes. Scans run where the repository's primary owner is, where its layers are local.
 * Answers search's questions ({@link ScanResults}) from memory.
 *
 * <p>Threads: queue operations are synchronized and may be called from any thread; scans run on
 * {@code workers}; futures complete on the caller's context or a worker thread.
 */
public final class Scanner implements ScanResults {
  private static final System.Logger LOG = System.getLogger(Scanner.class.getName());

  /** Why a scan is queued; lower runs first. */
  public enum Priority { ON_DEMAND, PUSH, SWEEP }


  private final Vertx vertx;
  private final String nodeId;
  private final ScanStore store;
  private final ImageScanner images;
  private final MetadataStore metadata;
  private final Membership membership;
  private final int replicas;
  private final EventSink events;
  private final WorkerExecutor workers;
  private final Duration deadline;
  private final String reservedRepository;
  private final ScanQueue queue;
  private final Set<String> notImages = ConcurrentHashMap.newKeySet();
  private final AtomicLong scans = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong rematches = new AtomicLong();
  private volatile BiConsumer<String, ImageScan> replicate = (repository, scan) -> {};
  private volatile java.util.function.Function<List<String>, Future<List<ImageScan>>> peers =
      digests -> Future.succeededFuture(List.of());
  private volatile ImageScanner.Db active = ImageScanner.Db.NONE;
  private volatile VulnDb activeDb;

  /**
   * @param reservedRepository the database artifact's repository: never scanned
   * @param concurrency scans at once ({@code workers}' size)
   */
  public Scanner(Vertx vertx, String nodeId, ScanStore store, ImageScanner images, MetadataStore metadata,
      Membership membership, int replicas, EventSink events, WorkerExecutor workers, int concurrency,
      Duration deadline, String reservedRepository) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.store = store;
    this.images = images;
    this.metadata = metadata;
    this.membership = membership;
    this.replicas = replicas;
    this.events = events;
    this.workers = workers;
    this.deadline = deadline;
    this.reservedRepository = reservedRepository;
    this.queue = new ScanQueue(workers, concurrency, this::run);
  }

  /** Who receives each fresh result to hand it to the repository's other owners. */
  public void onScanned(BiConsumer<String, ImageScan> replicator) {
    this.replicate = replicator;
  }

  /** Who asks the other members for results they hold, before this node scans an image itself. */
  public void onPeers(java.util.function.Function<List<String>, Future<List<ImageScan>>> askPeers) {
    this.peers = askPeers;
  }

  // --- ScanResults ---------------------------------------------------------------------------------

  @Override
  public boolean enabled() {
    return activeDb != null;
  }

  @Override
  public String activeDb() {
    return active.digest();
  }

  @Override
  public Optional<ImageScan> stored(String digest) {
    String db = active.digest();
    return store.get(digest).filter(s -> activeDb != null && s.dbDigest().equals(db));
  }

  @Override
  public Future<ImageScan> scanNow(String repository, String digest) {
    Optional<ImageScan> done = stored(digest);
    if (done.isPresent()) {
      return Future.succeededFuture(done.get());
    }
    if (activeDb == null) {
      return Future.failedFuture(new IllegalStateException("cve search is disabled"));
    }
    Future<ImageScan> scan = adopt(List.of(digest)).compose(found -> {
      Optional<ImageScan> adopted = stored(digest);
      return adopted.isPresent() ? Future.succeededFuture(adopted.get())
          : submit(Priority.ON_DEMAND, repository, digest);
    });
    Promise<ImageScan> bounded = Promise.promise();
    long timer = vertx.setTimer(deadline.toMillis(), t -> bounded.tryFail(new IllegalStateException(
        "the scan of " + digest + " did not finish within " + deadline.toSeconds() + " s")));
    scan.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        bounded.tryComplete(ar.result());
      } else {
        bounded.tryFail(ar.cause());
      }
    });
    return bounded.future();
  }

  @Override
  public boolean reserved(String repository) {
    return reservedRepository.equals(repository);
  }

  @Override
  public Optional<Advisory> advisory(String id) {
    VulnDb db = activeDb;
    return db == null ? Optional.empty() : db.advisory(id);
  }

  @Override
  public Set<String> manifestsWith(String id) {
    if (activeDb == null) {
      return Set.of();
    }
    String db = active.digest();
    Set<String> out = new HashSet<>();
    for (String d : store.manifestsWith(id)) {
      if (store.get(d).map(s -> s.dbDigest().equals(db)).orElse(false)) {
        out.add(d);
      }
    }
    return out;
  }

  // --- queue ---------------------------------------------------------------------------------------

  /** Queues manifest {@code digest} of {@code repository}; the future completes with its scan. */
  public Future<ImageScan> submit(Priority priority, String repository, String digest) {
    return queue.submit(priority, repository, digest);
  }

  /** Jobs waiting (not running). */
  public int queued() {
    return queue.queued();
  }

  /** One job, on a worker: the manifest's scan, matched with the active database, stored and handed on. */
  private ImageScan run(ScanQueue.Job job) throws IOException {
    ImageScanner.Db db = active;
    long now = System.currentTimeMillis();
    Optional<ImageScan> stored = store.load(job.digest());
    ImageScan result;
    if (stored.isPresent() && stored.get().analyzerVersion() == LayerInventory.ANALYZER_VERSION) {
      if (stored.get().dbDigest().equals(db.digest())) {
        return stored.get();
      }
      result = ImageScanner.rematch(stored.get(), db, now);
      rematches.incrementAndGet();
    } else {
      ImageScanner.Parsed parsed = images.manifest(job.digest());
      if (parsed.index()) {
        for (Descriptor child : parsed.manifest().manifests()) {
          if (MediaTypes.isImageManifest(child.mediaType())) {
            submit(job.priority(), job.repository(), child.digest().toString());
          }
        }
        throw new IllegalArgumentException(job.digest() + " is an index: its manifests are scanned one by one");
      }
      if (!parsed.image()) {
        notImages.add(job.digest());
        throw new IllegalArgumentException(job.digest() + " is not a container image");
      }
      result = images.scan(job.digest(), parsed.manifest(), db, now);
      scans.incrementAndGet();
      if (result.failed()) {
        failures.incrementAndGet();
        LOG.log(System.Logger.Level.WARNING, "scan of " + job.repository() + "@" + job.digest() + " failed: "
            + result.error());
      }
    }
    store.put(result);
    replicate.accept(job.repository(), result);
    report(job.repository(), result);
    return result;
  }

  /** Records a {@code scan} event; scans without a database (inventory only) are not reported. */
  private void report(String repository, ImageScan scan) {
    if (scan.dbDigest().isEmpty()) {
      return;
    }
    RequestContext ctx = new RequestContext("scan-" + scan.digest(), RequestContext.INTERNAL_IDENTITY, nodeId, "",
        "SCAN", "flotilla-scanner");
    VulnerabilitySummary s = VulnerabilitySummary.of(scan.findings());
    List<String> refs = new ArrayList<>();
    refs.add(scan.failed() ? "error:" + scan.error() : "maxSeverity:" + s.maxSeverity());
    refs.add("count:" + s.count());
    if (!scan.dbDigest().isEmpty()) {
      refs.add("db:" + scan.dbDigest());
    }
    events.record(ctx, new EventSink.Operation("scan", repository, scan.digest(), SCAN_MEDIA_TYPE, -1, null, null,
        refs)).onFailure(err -> LOG.log(System.Logger.Level.DEBUG, "scan event not recorded: " + err));
  }

  /** The media type of {@code scan} events. */
  public static final String SCAN_MEDIA_TYPE = "application/vnd.flotilla.scan.v1+json";

  // --- results from the primary ----------------------------------------------------------------------

  /** Stores a result another owner computed (blocking). Older results never replace newer ones. */
  public void accept(ImageScan scan) throws IOException {
    Optional<ImageScan> mine = store.get(scan.digest());
    if (mine.isPresent() && mine.get().scannedMillis() > scan.scannedMillis()) {
      return;
    }
    store.put(scan);
  }

  // --- database changes ------------------------------------------------------------------------------

  /**
   * Makes {@code db} the active database and matches every stored result with it again on the
   * workers, reading no layer. Completes with the number of results matched again.
   */
  public Future<Integer> activate(VulnDb db) {
    ImageScanner.Db next = new ImageScanner.Db(db.digest(), db::match);
    this.active = next;
    this.activeDb = db;
    LOG.log(System.Logger.Level.INFO, "vulnerability database " + db.digest() + " is active; matching "
        + store.size() + " stored scans again");
    return workers.executeBlocking(() -> {
      int n = 0;
      long now = System.currentTimeMillis();
      // images share (package, version) pairs: one batch matcher remembers their verdicts across images
      VulnDb.BatchMatcher batch = db.batchMatcher(200_000);
      ImageScanner.Db batched = new ImageScanner.Db(next.digest(), batch::match);
      Map<String, String> primaryRepository = primaryRepositories();
      for (String digest : store.digests()) {
        if (active != next) {
          break; // a newer database took over; it matches again itself
        }
        Optional<ImageScan> s = store.load(digest);
        if (s.isPresent() && !s.get().dbDigest().equals(next.digest())) {
          ImageScan rematched = ImageScanner.rematch(s.get(), batched, now);
          store.putDerived(rematched);
          rematches.incrementAndGet();
          n++;
          String repository = primaryRepository.get(digest);
          if (repository != null && !ids(rematched).equals(ids(s.get()))) {
            report(repository, rematched); // the new database changed what this image has: once, by its primary
          }
        }
      }
      store.sync();
      return n;
    }, false);
  }

  private static Set<String> ids(ImageScan scan) {
    Set<String> out = new HashSet<>();
    scan.findings().forEach(f -> out.add(f.id()));
    return out;
  }

  /** For each image manifest held here, a repository this node is the primary of that holds it. Blocking. */
  private Map<String, String> primaryRepositories() {
    Map<String, String> out = new HashMap<>();
    for (RepositoryName name : metadata.repositories()) {
      if (!isPrimary(name.value())) {
        continue;
      }
      for (Digest d : metadata.manifests(name).keySet()) {
        out.putIfAbsent(d.toString(), name.value());
      }
    }
    return out;
  }

  // --- sweep -----------------------------------------------------------------------------------------

  /**
   * The image manifests without a current result of the repositories this node is the primary owner
   * of, by repository; and forgets results of manifests this node no longer holds. Blocking (reads the
   * metadata); call on a worker. Hand the answer to {@link #adoptOrQueue}.
   */
  public Map<String, List<String>> sweep() {
    Set<String> held = new HashSet<>();
    Map<String, List<String>> todo = new HashMap<>();
    for (RepositoryName name : metadata.repositories()) {
      boolean primary = isPrimary(name.value()) && !name.value().equals(reservedRepository);
      for (Map.Entry<Digest, ManifestMeta> e : metadata.manifests(name).entrySet()) {
        String digest = e.getKey().toString();
        held.add(digest);
        if (primary && needsScan(digest, e.getValue())) {
          todo.computeIfAbsent(name.value(), k -> new ArrayList<>()).add(digest);
        }
      }
    }
    for (String digest : store.digests()) {
      if (!held.contains(digest)) {
        try {
          store.remove(digest);
        } catch (IOException e) {
          LOG.log(System.Logger.Level.WARNING, "could not forget the scan of " + digest + ": " + e);
        }
      }
    }
    return todo;
  }

  /** The unscanned image manifests of {@code repositories} this node is the primary of (after pushes). Blocking. */
  public Map<String, List<String>> unscanned(java.util.Collection<String> repositories) {
    Map<String, List<String>> todo = new HashMap<>();
    for (String repository : repositories) {
      if (repository.equals(reservedRepository) || !isPrimary(repository)) {
        continue;
      }
      RepositoryName name;
      try {
        name = RepositoryName.of(repository);
      } catch (RuntimeException e) {
        continue;
      }
      for (Map.Entry<Digest, ManifestMeta> e : metadata.manifests(name).entrySet()) {
        if (needsScan(e.getKey().toString(), e.getValue())) {
          todo.computeIfAbsent(repository, k -> new ArrayList<>()).add(e.getKey().toString());
        }
      }
    }
    return todo;
  }

  private boolean needsScan(String digest, ManifestMeta meta) {
    return MediaTypes.isImageManifest(meta.mediaType()) && !notImages.contains(digest) && stored(digest).isEmpty()
        && !queue.contains(digest);
  }

  /**
   * Takes what other members hold of these manifests' results (a new primary after a failover or a
   * rebalance scans nothing another owner already scanned), then queues the rest. Call on the verticle's
   * context.
   */
  public Future<Void> adoptOrQueue(Priority priority, Map<String, List<String>> byRepository) {
    List<String> all = new ArrayList<>();
    byRepository.values().forEach(all::addAll);
    if (all.isEmpty()) {
      return Future.succeededFuture();
    }
    return adopt(all).map(v -> {
      byRepository.forEach((repository, digests) -> {
        for (String d : digests) {
          if (stored(d).isEmpty()) {
            submit(priority, repository, d);
          }
        }
      });
      return null;
    });
  }

  /** Stores the results of {@code digests} that other members hold and that are current (never fails). */
  private Future<Void> adopt(List<String> digests) {
    return peers.apply(digests).recover(err -> Future.succeededFuture(List.of())).compose(found -> {
      String db = active.digest();
      List<ImageScan> usable = found.stream().filter(s -> s.analyzerVersion() == LayerInventory.ANALYZER_VERSION)
          .toList();
      if (usable.isEmpty()) {
        return Future.succeededFuture();
      }
      return workers.executeBlocking(() -> {
        for (ImageScan s : usable) {
          ImageScan current = s.dbDigest().equals(db) ? s : ImageScanner.rematch(s, active, System.currentTimeMillis());
          accept(current);
        }
        return null;
      }, false);
    });
  }

  /** This node's stored results (with packages) of those of {@code digests} it holds. Blocking. */
  public List<ImageScan> held(List<String> digests) throws IOException {
    List<ImageScan> out = new ArrayList<>();
    for (String d : digests) {
      if (store.get(d).isPresent()) {
        store.load(d).ifPresent(out::add);
      }
    }
    return out;
  }

  /** Whether this node is {@code repository}'s primary owner in the current view (alone: always). */
  public boolean isPrimary(String repository) {
    if (membership.current().isEmpty()) {
      return true;
    }
    return membership.placement().primary(repository).map(Member::nodeName).orElse(nodeId).equals(nodeId);
  }

  /** The members of the current view other than this node. */
  public List<String> otherMembers() {
    return membership.current().nodeNames().stream().filter(n -> !n.equals(nodeId)).toList();
  }

  /** The repository's owners other than this node, in the current view. */
  public List<String> otherOwners(String repository) {
    List<String> out = new ArrayList<>();
    for (Member m : membership.placement().owners(repository, replicas)) {
      if (!m.nodeName().equals(nodeId)) {
        out.add(m.nodeName());
      }
    }
    return out;
  }

  /** Counters for metrics and the vulndb API. */
  public record Stats(long scans, long failures, long rematches, long layerBytesRead, long layersRead,
      long layersCached, int stored, int queued) {}

  public Stats stats() {
    return new Stats(scans.get(), failures.get(), rematches.get(), images.layerBytesRead(), images.layersRead(),
        images.layersCached(), store.size(), queued());
  }
}
