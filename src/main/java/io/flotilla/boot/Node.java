package io.flotilla.boot;

import io.flotilla.auth.ApiKeyApi;
import io.flotilla.auth.ApiKeyReplication;
import io.flotilla.auth.ApiKeys;
import io.flotilla.bus.BlobTransferVerticle;
import io.flotilla.bus.DataChannelClient;
import io.flotilla.bus.DataChannelOptions;
import io.flotilla.bus.DataChannelStats;
import io.flotilla.bus.RecordCodec;
import io.flotilla.bus.StorageVerticle;
import io.flotilla.cluster.CatchUp;
import io.flotilla.search.ClusterSearch;
import io.flotilla.search.LocalSearch;
import io.flotilla.search.PrefsReplication;
import io.flotilla.search.PrefsStore;
import io.flotilla.search.PullCounts;
import io.flotilla.search.PullCountsVerticle;
import io.flotilla.search.UserPrefs;
import io.flotilla.search.SearchGraphQl;
import io.flotilla.search.SearchQueries;
import io.flotilla.search.SearchIndex;
import io.flotilla.search.SearchVerticle;
import io.flotilla.cluster.ClusterCatalog;
import io.flotilla.cluster.ClusterStatus;
import io.flotilla.cluster.LongAbsence;
import io.flotilla.cluster.TagConflicts;
import io.flotilla.cluster.RoutingBlobTransfer;
import io.flotilla.cluster.RoutingStorage;
import io.flotilla.cluster.ClusterTls;
import io.flotilla.cluster.MemberProof;
import io.flotilla.cluster.Membership;
import io.flotilla.cluster.PeerWatch;
import io.flotilla.cluster.Rebalancer;
import io.flotilla.cluster.RemoteMounts;
import io.flotilla.cluster.ReplicationVerticle;
import io.flotilla.cluster.Replicator;
import io.flotilla.config.FlotillaConfig;
import io.flotilla.config.ScanConfig;
import io.flotilla.content.ContentApi;
import io.flotilla.scan.ImageScanner;
import io.flotilla.scan.LayerCache;
import io.flotilla.scan.PullPolicy;
import io.flotilla.scan.ScanLimits;
import io.flotilla.scan.ScanResults;
import io.flotilla.scan.ScanStore;
import io.flotilla.scan.ScanVerticle;
import io.flotilla.scan.Scanner;
import io.flotilla.scan.VulnDbApi;
import io.flotilla.scan.VulnDbRollout;
import io.flotilla.content.ContentEventTap;
import io.flotilla.content.ContentIndex;
import io.flotilla.content.ContentReplication;
import io.flotilla.content.ContentService;
import io.flotilla.content.ContentStore;
import io.flotilla.content.ContentVerticle;
import io.flotilla.content.DistributionBytes;
import io.flotilla.content.DistributionStorage;
import io.flotilla.events.EventHub;
import io.flotilla.events.EventJournal;
import io.flotilla.events.EventingBlobTransfer;
import io.flotilla.events.EventingStorage;
import io.flotilla.events.EventsVerticle;
import io.flotilla.events.StoredEvents;
import io.flotilla.events.WebhookApi;
import io.flotilla.events.WebhookMetrics;
import io.flotilla.events.WebhookTargets;
import io.flotilla.http.AccessLog;
import io.flotilla.auth.AccessPolicy;
import io.flotilla.auth.Action;
import io.flotilla.auth.Authenticator;
import io.flotilla.auth.Htpasswd;
import io.flotilla.auth.LoginThrottle;
import io.flotilla.auth.TokenKeyVerticle;
import io.flotilla.auth.TokenKeys;
import io.flotilla.auth.TokenService;
import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages;
import io.flotilla.http.HttpVerticle;
import io.flotilla.http.TokenEndpoint;
import java.time.Clock;
import java.util.Optional;
import io.flotilla.http.OpsRoutes;
import io.flotilla.http.RegistryMetrics;
import io.flotilla.http.RequestObserver;
import io.flotilla.http.ServerTls;
import io.flotilla.http.TlsReloader;
import io.flotilla.http.V2Api;
import io.flotilla.content.PullThrough;
import io.flotilla.content.PullThroughSources;
import io.flotilla.content.RemoteSources;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.BlobUploads;
import io.flotilla.storage.EventSink;
import io.flotilla.storage.LocalBlobTransfer;
import io.flotilla.storage.LocalRegistry;
import io.flotilla.storage.MetadataStore;
import io.flotilla.storage.ReplicaStore;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.UploadStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.flotilla.storage.RegistryStorage;
import io.vertx.core.Promise;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One running Flotilla node: a clustered Vert.x (Hazelcast), this node's storage served on the
 * bus, and the HTTP front end. {@link #start} brings it up in order; {@link #stop} takes it down
 * gracefully (not ready, finish in-flight requests, leave the cluster). Usable in-process by tests.
 */
public final class Node {
  private static final System.Logger LOG = System.getLogger(Node.class.getName());
  /** How often the clients' certificate files are looked at for a change. */
  private static final long TLS_POLL_MILLIS = 5000;
  /** How long a node waits at start for a member with its name to drop out (a killed predecessor). */
  private static final long NAMESAKE_WAIT_MILLIS = 10_000;
  /** How long a stop's undeploying may take beyond {@code http.shutdownTimeout} before the node leaves the cluster. */
  private static final long UNDEPLOY_MARGIN_MILLIS = 10_000;

  private final FlotillaConfig config;
  private final Vertx vertx;
  private final ExecutorService io;
  private final AccessLog accessLog;
  private final Membership membership;
  private final com.hazelcast.core.HazelcastInstance hazelcast;
  /** Admits members that proved they hold the cluster certificate; null with cluster TLS off. */
  private final MemberProof proof;
  private CatchUp catchUp;
  private final List<String> deployments = new ArrayList<>();
  private final List<HttpVerticle> httpVerticles = new ArrayList<>();
  private volatile boolean ready;
  private Htpasswd users;
  private volatile RoutingStorage storage;
  private long gcTimer = -1;
  private long heartbeatTimer = -1;
  private Rebalancer rebalancer;
  private EventJournal journal;
  /** The metadata database; closed when the node stops or fails to start. */
  private MetadataStore metadata;
  private ReplicationVerticle replicationVerticle;
  /** The clients' certificate as loaded at start (null without TLS), and what reloads it. */
  private ServerTls.Loaded tls;
  private TlsReloader tlsReloader;
  private ApiKeys apiKeys;
  private ApiKeyReplication apiKeyReplication;
  private PrefsStore userPrefs;
  private ContentStore contentStore;
  private ScanStore scanStore;
  private VulnDbRollout vulnDb;
  private Scanner scanner;
  private ContentService content;
  private ContentVerticle contentVerticle;
  private PrefsReplication prefsReplication;
  private volatile Runnable onLeft = () -> {};
  private Future<Void> stopped;
  private final DataChannelStats dataStats = new DataChannelStats();
  private DataChannelClient dataClient;
  private BlobTransferVerticle blobTransfer;
  /** The cluster-wide blob byte path (routed to the repository's primary, replicated, pulls reported). */
  private volatile io.flotilla.storage.BlobTransfer bytes;
  /** Which repositories the v2 API serves on demand from an upstream (read on every miss). */
  private volatile PullThroughSources pullThroughSources = PullThroughSources.NONE;

  private Node(FlotillaConfig config, Vertx vertx, ExecutorService io, AccessLog accessLog, Membership membership,
      com.hazelcast.core.HazelcastInstance hazelcast, MemberProof proof) {
    this.config = config;
    this.proof = proof;
    this.hazelcast = hazelcast;
    this.membership = membership;
    this.vertx = vertx;
    this.io = io;
    this.accessLog = accessLog;
  }

  /** Starts a node; the future completes once it serves HTTP. */
  public static Future<Node> start(FlotillaConfig config) {
    // a bad htpasswd file is a configuration error: refuse before joining the cluster
    Htpasswd users = config.auth().enabled() ? Htpasswd.load(config.auth().htpasswd()) : null;
    if (users == null) {
      LOG.log(System.Logger.Level.WARNING, "ACCESS CONTROL IS OFF: no auth section is configured, so anyone who"
          + " reaches this node can push, pull, delete and use the admin API. Configure auth.htpasswd and"
          + " auth.policies for anything but development (see docs/security.md).");
    }
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    VertxOptions options = new VertxOptions()
        .setMetricsOptions(metricsOptions());
    // One address for the event bus too: a host name with several addresses (localhost: ::1 and
    // 127.0.0.1) would otherwise let peers dial an address nothing listens on.
    String busHost = config.cluster().host().equals("0.0.0.0") ? "0.0.0.0" : HazelcastSetup.resolve(config.cluster().host());
    options.getEventBusOptions().setHost(busHost).setClusterPublicHost(busHost);
    ClusterTls tls = ClusterTls.of(config.cluster().tls());
    if (tls != null) {
      tls.applyTo(options.getEventBusOptions());
      LOG.log(System.Logger.Level.INFO, "cluster TLS is on: the event bus runs over mutual TLS against "
          + config.cluster().tls().ca() + ", and members count only once they prove they hold a certificate");
    } else {
      LOG.log(System.Logger.Level.WARNING, "cluster TLS is off: any process that reaches the Hazelcast and event-bus "
          + "ports can join the cluster, read and write repository traffic and be placed as an owner. Set "
          + "cluster.tls.cert, cluster.tls.key and cluster.tls.ca (see docs/security.md) for anything but development");
    }
    String httpAddress = config.http().host() + ":" + config.http().port();
    HazelcastClusterManager cluster = new HazelcastClusterManager(
        HazelcastSetup.build(config.cluster(), config.nodeName(), httpAddress));
    // The outcome is handed over outside Vert.x: after a failed start Vert.x is closed, and a future
    // of its own would then have no event loop left to tell the caller on (the start would hang).
    java.util.concurrent.CompletableFuture<Node> started = new java.util.concurrent.CompletableFuture<>();
    Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(prometheus))
        .withClusterManager(cluster).buildClustered()
        .onFailure(started::completeExceptionally)
        .onSuccess(vertx -> {
          AtomicInteger n = new AtomicInteger();
          ExecutorService io = Executors.newFixedThreadPool(Math.max(4, 4 * Runtime.getRuntime().availableProcessors()),
              r -> {
                Thread t = new Thread(r, "flotilla-io-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
          RecordCodec.registerAll(vertx.eventBus());
          var hz = cluster.getHazelcastInstance();
          Future<MemberProof> proving = tls == null ? Future.succeededFuture() : MemberProof.start(vertx, hz, config.nodeName());
          proving.compose(proof -> {
            Membership.Gate gate = proof == null ? Membership.Gate.ALL : proof;
            Membership membership = Membership.start(hz, config.cluster().replicationFactor(), gate);
            if (proof != null) {
              proof.challenge(membership::recompute);
            }
            // a second node under a name already in the cluster stops here, before it serves anything
            return vertx.executeBlocking(() -> {
              Membership.awaitUniqueName(hz, config.nodeName(), NAMESAKE_WAIT_MILLIS, gate);
              return null;
            }, false).compose(unique -> {
              PeerWatch.follow(vertx, membership);
              Node node = new Node(config, vertx, io, config.http().accessLog() ? new AccessLog() : null, membership,
                  hz, proof);
              node.users = users;
              return node.deploy(prometheus).onFailure(err -> {
                if (node.metadata != null) {
                  node.metadata.close();
                }
              }).map(node);
            });
          }).onSuccess(started::complete).onFailure(err ->
              // closed on a plain thread: closing Vert.x from one of its own event loops would not complete
              new Thread(() -> vertx.close().onComplete(x -> started.completeExceptionally(err)),
                  "flotilla-start-failed").start());
        });
    return Future.fromCompletionStage(started);
  }

  /**
   * Vert.x metrics on {@code /metrics}: JVM, pools, verticles and TCP connections. Vert.x's
   * per-message event bus metrics and per-request HTTP server metrics are off: they register
   * meters on every message and request and cost more than half of the manifest GET throughput.
   * The registry's own request metrics ({@code flotilla_http_*}, by route, method and status)
   * cover the same ground at a fraction of the cost. HTTP client and named-pool metrics are off
   * too: the only HTTP clients are the webhook dispatchers', which replace their client after a
   * failed attempt; the new client's pool gauges collide with the old one's (same pool name) and a
   * scrape of /metrics could then hang (seen in EventsIT). Webhook figures have their own metrics.
   */
  private static MicrometerMetricsOptions metricsOptions() {
    MicrometerMetricsOptions m = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true);
    m.addDisabledMetricsCategory(MetricsDomain.EVENT_BUS);
    m.addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER);
    m.addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT);
    m.addDisabledMetricsCategory(MetricsDomain.NAMED_POOLS);
    for (String extra : System.getProperty("flotilla.metrics.disabled", "").split(",")) {
      if (!extra.isBlank()) {
        m.addDisabledMetricsCategory(extra.trim());
      }
    }
    return m;
  }

  private Future<Void> deploy(PrometheusMeterRegistry prometheus) {
    java.nio.file.Path eventsDir = config.storage().dataDir().resolve("events");
    var storageConfig = config.storage();
    MetadataStore metadata = new MetadataStore(storageConfig.dataDir());
    this.metadata = metadata;
    BlobStore blobs = new BlobStore(storageConfig.dataDir());
    UploadStore uploads = new UploadStore(storageConfig.dataDir(), io, config.nodeName());
    String nodeId = config.nodeName();
    WebhookTargets targets = new WebhookTargets(config.events().allowPrivateWebhookTargets());
    long startedMillis = System.currentTimeMillis();
    return vertx.executeBlocking(() -> {
      // configuration that can only be checked against the files and the network: ConfigExceptions
      tls = config.http().tls() == null ? null : ServerTls.load(vertx, config.http().tls());
      targets.checkConfigured(config.events().webhooks());
      Files.createDirectories(storageConfig.dataDir());
      metadata.load();
      uploads.load();
      membership.loadStates(nodeId);
      // back after longer than deletes are remembered: its copies must not bring deleted content back
      LongAbsence.onStart(hazelcast, membership, metadata, nodeId, storageConfig.tombstoneRetention(),
          System.currentTimeMillis());
      apiKeys = ApiKeys.open(storageConfig.dataDir());
      userPrefs = PrefsStore.open(storageConfig.dataDir(), nodeId);
      contentStore = ContentStore.open(storageConfig.dataDir(), nodeId);
      scanStore = ScanStore.open(storageConfig.dataDir());
      catchUp = CatchUp.start(hazelcast, membership, nodeId, metadata.holdsContent(),
          () -> proof != null && !proof.unproven().isEmpty());
      journal = EventJournal.open(eventsDir.resolve("journal"), 16L * 1024 * 1024, config.events().journalMaxBytes(),
          new StoredEvents(metadata));
      return null;
    }).compose(v -> {
      // a walk of every blob file: in the background, so start-up does not grow with the data
      vertx.executeBlocking(() -> blobs.startupWalk(startedMillis), false).onComplete(ar -> {
        if (ar.failed()) {
          LOG.log(System.Logger.Level.WARNING, "removing temp files left by a crash failed: " + ar.cause());
        } else if (ar.result() > 0) {
          LOG.log(System.Logger.Level.INFO, "removed " + ar.result() + " temp file(s) left in blobs/ by a crash");
        }
      });
      EventHub hub = config.events().enabled()
          ? new EventHub(vertx, journal, nodeId, config.http().host() + ":" + config.http().port())
          : null;
      ContentIndex contentIndex = new ContentIndex(contentStore);
      // pushes into managed repositories make their next version (content lifecycle)
      ContentEventTap contentTap = new ContentEventTap(
          hub == null ? EventSink.NONE : hub, contentIndex);
      EventSink events = contentTap;
      // pushes are reported by the local storage itself, once durable
      AccessPolicy policy = new AccessPolicy(config.auth());
      // every member filters the catalog by the caller's read access before it answers a fan-out
      LocalRegistry local = new LocalRegistry(vertx, storageConfig, metadata, blobs, uploads, events, policy::mayRead);
      LocalBlobTransfer localBytes = new LocalBlobTransfer(new BlobUploads(vertx, uploads, blobs, metadata), blobs, events);
      EventsVerticle eventsVerticle = new EventsVerticle(journal, eventsDir, config.events().webhooks(),
          config.events().kafka(), targets);
      ReplicaStore replicas = new ReplicaStore(vertx, metadata, blobs, storageConfig.deleteEnabled(),
          storageConfig.gcGrace().toMillis());
      int instances = config.http().effectiveInstances();
      int replicationFactor = config.cluster().replicationFactor();
      // manifest pulls this node serves are counted on the way to the event sink (search's DownloadCount)
      PullCounts pullCounts = new PullCounts(nodeId);
      rebalancer = new Rebalancer(vertx, membership, nodeId, replicas, replicationFactor, catchUp);
      TagConflicts conflicts = new TagConflicts(events, nodeId);
      DataChannelOptions dataOptions = dataChannelOptions();
      dataClient = new DataChannelClient(vertx, nodeId, dataOptions, dataStats);
      Replicator replicator = new Replicator(vertx, nodeId, replicas, local, localBytes, dataClient, conflicts);
      RoutingStorage client = storage = new RoutingStorage(vertx, membership, catchUp, nodeId,
          new ClusterCatalog(vertx, membership, nodeId, replicationFactor), replicationFactor, config.cluster().writeQuorum());
      // a mount whose source lives on another node is completed (copied) here, so it is reported here, once
      EventingStorage reported = new EventingStorage(new RemoteMounts(local, client, replicator), pullCounts.tap(events),
          metadata::cachedOrder);
      // vulnerability scanning: results are read where they are kept, on the repositories' owners
      ScanConfig scanConfig = config.scan();
      LayerCache layerCache = new LayerCache(storageConfig.dataDir());
      WorkerExecutor scanWorkers = vertx.createSharedWorkerExecutor("flotilla-scan", scanConfig.workers(), 30,
          java.util.concurrent.TimeUnit.MINUTES);
      scanner = new Scanner(vertx, nodeId, scanStore, new ImageScanner(blobs, layerCache, ScanLimits.DEFAULTS), metadata,
          membership, replicationFactor, events, scanWorkers, scanConfig.workers(), scanConfig.deadline(),
          scanConfig.databaseRepository());
      ScanResults scanResults = scanConfig.enabled() ? scanner : ScanResults.DISABLED;
      RegistryStorage ownerSide = scanConfig.policies().isEmpty() ? reported
          : new PullPolicy(reported, scanConfig.policies(), scanResults);
      VulnDbRollout rollout = new VulnDbRollout(vertx, nodeId, membership, client, blobs, dataClient,
          storageConfig.dataDir(), scanConfig.databaseRepository(), scanConfig.databaseTag(), replicationFactor,
          VulnDbRollout::compileOsv, scanner, vertx.createSharedWorkerExecutor("flotilla-vulndb", 1, 60,
              java.util.concurrent.TimeUnit.MINUTES));
      this.vulnDb = rollout;
      // calls to this node skip the bus
      client.serveLocally(ownerSide);
      // in-cluster consumers' subscriptions are heard before the first request is served
      Future<Void> hubStarted = hub == null ? Future.succeededFuture() : hub.start();
      return hubStarted.compose(started -> vertx.deployVerticle(() -> new StorageVerticle(ownerSide, nodeId),
              new DeploymentOptions().setInstances(instances)))
          .compose(id -> {
            deployments.add(id);
            // one instance: it binds the data port (connections are few and long; sendFile costs no CPU)
            return vertx.deployVerticle(blobTransfer = new BlobTransferVerticle(nodeId, blobs, localBytes, dataOptions,
                dataStats));
          })
          .compose(id -> {
            deployments.add(id);
            return vertx.deployVerticle(eventsVerticle);
          })
          .compose(id -> {
            deployments.add(id);
            return vertx.deployVerticle(replicationVerticle = new ReplicationVerticle(
                replicator, nodeId, rebalancer, catchUp,
                config.cluster().rebalanceInterval().toMillis()));
          })
          .compose(id -> {
            deployments.add(id);
            // before HTTP: its first round brings the keys created while this node was away
            return vertx.deployVerticle(apiKeyReplication = new ApiKeyReplication(apiKeys, membership, nodeId));
          })
          .compose(id -> {
            deployments.add(id);
            // before search and HTTP: its first round brings the stars and bookmarks toggled while this node was away
            return vertx.deployVerticle(prefsReplication = new PrefsReplication(userPrefs, membership, nodeId));
          })
          .compose(id -> {
            deployments.add(id);
            // before HTTP: its first round brings the remotes, versions, distributions and tasks written while this node was away
            return vertx.deployVerticle(new ContentReplication(contentStore, membership, nodeId,
                ContentReplication.ROUND_MILLIS));
          })
          .compose(id -> {
            deployments.add(id);
            // before HTTP: pull counts for search, loaded and merged with the peers'
            return vertx.deployVerticle(new PullCountsVerticle(nodeId, pullCounts,
                storageConfig.dataDir().resolve("search").resolve("pulls.bin"), membership));
          })
          .compose(id -> {
            deployments.add(id);
            // scanning: the database rollout, results from primaries, scans of what changed here
            return config.scan().enabled()
                ? vertx.deployVerticle(new ScanVerticle(scanner, rollout, metadata, blobs, layerCache, nodeId, 2000))
                : Future.succeededFuture((String) null);
          })
          .compose(id -> {
            if (id != null) {
              deployments.add(id);
            }
            // before HTTP: the index is built from the metadata store, then this node answers its part of searches
            SearchIndex searchIndex = new SearchIndex(metadata, blobs);
            return vertx.deployVerticle(new SearchVerticle(nodeId, searchIndex,
                new LocalSearch(nodeId, searchIndex, policy::mayRead, mayDelete(policy, storageConfig.deleteEnabled()),
                    userPrefs, pullCounts, scanResults)));
          })
          .compose(id -> {
            deployments.add(id);
            var bytes = this.bytes = EventingBlobTransfer.reportingPulls(
                new RoutingBlobTransfer(vertx, nodeId, localBytes, client, dataClient), events);
            content = new ContentService(vertx, contentStore, contentIndex, membership, nodeId, client);
            // repositories served on demand from an upstream: misses are fetched, served and stored
            if (pullThroughSources == PullThroughSources.NONE) {
              pullThroughSources = new RemoteSources(vertx, contentIndex, storageConfig.dataDir());
            }
            PullThrough pullThrough = new PullThrough(vertx, repo -> pullThroughSources.source(repo), client, bytes,
                pullCounts.tap(events));
            // distributions are served at their base paths; base paths are read-only
            DistributionStorage served = new DistributionStorage(pullThrough.storage(), contentIndex, content);
            DistributionBytes servedBytes = new DistributionBytes(pullThrough.bytes(), served, contentIndex);
            RegistryMetrics metrics = new RegistryMetrics(prometheus);
            metrics.gauge("flotilla_storage_used_bytes", "de-duplicated bytes of stored blobs", blobs::storedBytes);
            Scanner sc = scanner;
            metrics.counter("flotilla_scan_layer_read_bytes", "layer bytes scans read from blobs since start (compressed)",
                sc, x -> x.stats().layerBytesRead());
            metrics.counter("flotilla_scan_scans", "images scanned from their layers since start", sc, x -> x.stats().scans());
            metrics.counter("flotilla_scan_failures", "scans that failed since start", sc, x -> x.stats().failures());
            metrics.counter("flotilla_scan_rematches", "stored scans matched again with a database since start", sc,
                x -> x.stats().rematches());
            metrics.gauge("flotilla_scan_queued", "images waiting to be scanned", sc::queued);
            metrics.gauge("flotilla_scan_stored", "image scans stored on this node", () -> sc.stats().stored());
            metrics.gauge("flotilla_storage_blobs", "stored blobs", blobs::storedBlobs);
            metrics.gauge("flotilla_apikeys_live", "API keys that authenticate now", apiKeys::liveCount);
            metrics.counter("flotilla_tag_conflicts", "tag values lost to a concurrent write (a split cluster) since start",
                conflicts, TagConflicts::count);
            metrics.gauge("flotilla_upload_sessions", "open upload sessions", () -> uploads.all().size());
            metrics.gauge("flotilla_rebalance_running", "1 while a rebalancing pass runs",
                () -> rebalancer.status().running() ? 1 : 0);
            metrics.gauge("flotilla_rebalance_pending", "repositories left to copy in the current pass",
                () -> rebalancer.status().pending());
            metrics.gauge("flotilla_rebalance_moved_total", "repositories confirmed on their owners since start",
                () -> rebalancer.status().totalMoved());
            metrics.gauge("flotilla_rebalance_failed_total", "repository copies that failed since start",
                () -> rebalancer.status().totalFailed());
            metrics.gauge("flotilla_rebalance_dropped_total",
                "repositories this node dropped since start, once confirmed on their new owners",
                () -> rebalancer.status().totalDropped());
            metrics.gauge("flotilla_rebalance_copied_bytes_total", "bytes the owners copied from this node since start",
                () -> rebalancer.status().bytesCopied());
            metrics.gauge("flotilla_datachannel_sent_bytes_total", "blob bytes this node sent over the data channel",
                dataStats::sentBytes);
            metrics.gauge("flotilla_datachannel_received_bytes_total",
                "blob bytes this node received over the data channel", dataStats::receivedBytes);
            metrics.gauge("flotilla_datachannel_transfers_completed_total",
                "data-channel transfers that ended complete (this node at either end)", dataStats::completedTransfers);
            metrics.gauge("flotilla_datachannel_transfers_failed_total",
                "data-channel transfers that ended early (this node at either end)", dataStats::failedTransfers);
            metrics.gauge("flotilla_datachannel_refused_total",
                "connections to the data port refused for a bad ticket", dataStats::refusedConnections);
            metrics.gauge("flotilla_datachannel_open_connections", "data-channel connections open now",
                dataStats::openConnections);
            if (accessLog != null) {
              metrics.gauge("flotilla_access_log_dropped_lines", "access log lines dropped under load", accessLog::dropped);
            }
            RequestObserver observer = new RequestObserver(metrics, accessLog);
            Authenticator auth = authenticator(policy, prometheus);
            // zot's search API: queries fan out over the bus to every member's search verticle
            SearchGraphQl search = new SearchGraphQl(new SearchQueries(
                new ClusterSearch(vertx, membership, catchUp::isCatchingUp, nodeId, replicationFactor), policy::mayRead, pullCounts.counted(),
                scanResults));
            // the same API for in-cluster consumers, on the bus
            Bus.serve(vertx, Addresses.SEARCH_GRAPHQL, nodeId,
                call -> search.execute(call.ctx(), call.query(), call.operationName(), call.variables())
                    .map(a -> new Messages.SearchGraphQlAnswer(a.status(), a.json())));
            V2Api api = new V2Api(nodeId, served, servedBytes, storageConfig.maxManifestBytes(),
                storageConfig.maxPageSize(), observer, auth, config.http().tls() != null, search, prefsReplication);
            TokenEndpoint tokenEndpoint = auth == null ? null : new TokenEndpoint(auth);
            // the publishing verticle: content tasks, periodic syncs (before HTTP: leftovers are failed first)
            return vertx.deployVerticle(contentVerticle = new ContentVerticle(content, membership,
                nodeId, client, bytes, events, storageConfig.dataDir(), 1000, contentTap))
                .compose(contentId -> {
                  deployments.add(contentId);
                  return vertx.deployVerticle(() -> {
              HttpVerticle h = new HttpVerticle(config.http(), tls == null ? null : tls.options(), api, vx -> {
                var router = OpsRoutes.router(vx, prometheus, () -> ready, client,
                    () -> ClusterStatus.of(membership, proof == null ? List.of() : proof.unproven(), nodeId,
                        replicationFactor, rebalancer.status()), this::leave, auth);
                WebhookApi.mount(vx, router, eventsVerticle.webhooks());
                ApiKeyApi.mount(router, apiKeyReplication, config.auth().enabled());
                ContentApi.mount(router, content);
                if (config.scan().enabled()) {
                  VulnDbApi.mount(router, rollout);
                }
                return router;
              }, observer, tokenEndpoint);
              synchronized (httpVerticles) {
                httpVerticles.add(h);
              }
              return h;
            }, new DeploymentOptions().setInstances(instances).setThreadingModel(ThreadingModel.EVENT_LOOP))
                .compose(httpId -> {
                  deployments.add(httpId);
                  return vertx.executeBlocking(() -> {
                    membership.announce(nodeId, Membership.NodeState.SERVING);
                    return null;
                  }, false);
                })
                .map(x -> {
                  startTlsReloader();
                  WebhookMetrics.start(vertx, prometheus, eventsVerticle.webhooks(), 5000);
                  replicationVerticle.startRebalancing();
                  scheduleGc(client);
                  scheduleHeartbeat();
                  ready = true;
                  return null;
                });
                });
          });
    });
  }

  /**
   * The data channel's settings: bound on the cluster host, mutual TLS with the cluster certificate
   * when cluster TLS is on.
   */
  private DataChannelOptions dataChannelOptions() {
    var c = config.cluster();
    String bind = c.host().equals("0.0.0.0") ? "0.0.0.0" : HazelcastSetup.resolve(c.host());
    String advertised = bind;
    if (bind.equals("0.0.0.0")) {
      try {
        advertised = java.net.InetAddress.getLocalHost().getHostAddress();
      } catch (java.net.UnknownHostException e) {
        throw new io.flotilla.config.ConfigException("cluster.host", "0.0.0.0 needs a resolvable local host name: " + e);
      }
    }
    ClusterTls tls = ClusterTls.of(c.tls());
    return new DataChannelOptions(bind, c.effectiveDataPort(), advertised, c.dataIdleTimeout(),
        DataChannelOptions.TICKET_TTL, tls == null ? null : tls.keyCert(), tls == null ? null : tls.trust());
  }

  /** The data channel's port actually bound. */
  public int dataPort() {
    return blobTransfer == null ? -1 : blobTransfer.dataPort();
  }

  /** Watches the clients' certificate files (and SIGHUP) and serves new ones on every listener. */
  private void startTlsReloader() {
    if (tls == null) {
      return;
    }
    tlsReloader = new TlsReloader(vertx, config.http().tls(), tls, options -> {
      List<HttpVerticle> all;
      synchronized (httpVerticles) {
        all = List.copyOf(httpVerticles);
      }
      return Future.all(all.stream().map(h -> h.updateTls(options)).toList());
    }, TLS_POLL_MILLIS);
    tlsReloader.start();
  }

  /** Access control, when configured: token keys served on the bus, rotated on schedule. */
  /** (identity, repository) -> may the caller delete images there (search's {@code IsDeletable}). */
  private static java.util.function.BiPredicate<String, String> mayDelete(AccessPolicy policy, boolean deleteEnabled) {
    return (identity, repository) -> deleteEnabled
        && (!policy.enabled() || policy.may(policy.principal(identity), repository, Action.DELETE));
  }

  private Authenticator authenticator(AccessPolicy policy, PrometheusMeterRegistry prometheus) {
    if (users == null) {
      return null;
    }
    var auth = config.auth();
    TokenKeys keys = new TokenKeys(config.nodeName(), auth.tokenTtl(), Clock.systemUTC());
    TokenService tokens = new TokenService(keys, auth.tokenTtl(), Clock.systemUTC(),
        (node, kid) -> Bus.request(vertx, Addresses.AUTH_TOKEN_KEY, node, false, new Messages.GetTokenKey(kid)));
    vertx.deployVerticle(new TokenKeyVerticle(keys, config.nodeName(), auth.keyRotation().toMillis()))
        .onSuccess(deployments::add);
    return new Authenticator(vertx, policy, users, apiKeys::verify, tokens,
        new LoginThrottle(auth.loginFailures(), Clock.systemUTC()), Clock.systemUTC(), prometheus);
  }

  /** Records the node's sign of life in its metadata database now and then (see {@link LongAbsence}). */
  private void scheduleHeartbeat() {
    long every = LongAbsence.heartbeat(config.storage().tombstoneRetention()).toMillis();
    heartbeatTimer = vertx.setPeriodic(every, t -> vertx.executeBlocking(() -> {
      metadata.markAlive(System.currentTimeMillis());
      return null;
    }, false).onFailure(e -> LOG.log(System.Logger.Level.WARNING, "recording this node's sign of life failed", e)));
  }

  private void scheduleGc(RoutingStorage client) {
    long every = config.storage().gcInterval().toMillis();
    if (every > 0) {
      gcTimer = vertx.setPeriodic(every, t -> client.collectGarbage(RequestContext.internal("gc"), false)
          .onSuccess(r -> LOG.log(System.Logger.Level.INFO, "gc: deleted " + r.blobsDeleted() + " blobs ("
              + r.bytesFreed() + " bytes), " + r.linksRemoved() + " links, " + r.uploadsRemoved() + " uploads"))
          .onFailure(e -> LOG.log(System.Logger.Level.WARNING, "gc failed", e)));
    }
  }

  /** The HTTP port actually bound. */
  public int httpPort() {
    synchronized (httpVerticles) {
      return httpVerticles.get(0).actualPort();
    }
  }

  /** The admin listener's port actually bound, or -1 when the admin API shares the public port. */
  public int adminPort() {
    synchronized (httpVerticles) {
      return httpVerticles.get(0).adminPort();
    }
  }

  /** Whether clients are served TLS. */
  public boolean tls() {
    return tls != null;
  }

  /** How many times a new client certificate was installed since start. */
  public long tlsReloads() {
    return tlsReloader == null ? 0 : tlsReloader.reloads();
  }

  /** How many client certificate reloads failed (the previous certificate was kept) since start. */
  public long tlsReloadFailures() {
    return tlsReloader == null ? 0 : tlsReloader.failures();
  }

  public boolean ready() {
    return ready;
  }

  public Vertx vertx() {
    return vertx;
  }

  /**
   * The registry's storage API as the HTTP layer uses it (routed to owners, replicated): for tools
   * that load or inspect a node in-process without HTTP, such as {@code bench/ScaleLoad.java}.
   */
  public io.flotilla.storage.RegistryStorage storage() {
    return storage;
  }

  /**
   * The blob byte path the HTTP layer uses (routed to the repository's primary node, replicated to
   * its other owners): for in-process work that stores blobs, such as a sync from an upstream.
   */
  public io.flotilla.storage.BlobTransfer blobTransfer() {
    return bytes;
  }

  /**
   * Sets which repositories are served on demand from an upstream (remotes with {@code policy:
   * onDemand}); takes effect for the next request. {@link PullThroughSources#NONE} turns it off.
   */
  public void pullThroughSources(PullThroughSources sources) {
    this.pullThroughSources = java.util.Objects.requireNonNull(sources, "sources");
  }

  public FlotillaConfig config() {
    return config;
  }

  /** Runs {@code action} after a leave asked for through the admin API has completed. */
  public void onLeft(Runnable action) {
    onLeft = action;
  }

  /** Graceful leave asked for through the admin API: {@link #stop}, then the {@link #onLeft} action. */
  private void leave() {
    stop().onComplete(ar -> new Thread(onLeft, "flotilla-left").start());
  }

  /**
   * Graceful stop: not ready; when other members remain, mark this node draining and wait (up to
   * {@code cluster.handoffTimeout}) until every repository held here is on its new owners; then
   * finish in-flight requests, undeploy and leave the cluster. Calling it again returns the same future.
   */
  public synchronized Future<Void> stop() {
    if (stopped == null) {
      // The shutdown runs on a plain thread: closing Vert.x from one of its own event loops would
      // leave the close's completion with no loop to run on.
      java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
      handOff().onComplete(ar -> new Thread(() -> shutdown().onComplete(closed -> {
        if (closed.succeeded()) {
          done.complete(null);
        } else {
          done.completeExceptionally(closed.cause());
        }
      }), "flotilla-stop").start());
      stopped = Future.fromCompletionStage(done);
    }
    return stopped;
  }

  private Future<Void> handOff() {
    ready = false;
    long timeout = config.cluster().handoffTimeout().toMillis();
    String self = config.nodeName();
    if (membership.current().size() < 2 || timeout == 0 || rebalancer == null) {
      return Future.succeededFuture();
    }
    if (!membership.anotherServing(self)) {
      LOG.log(System.Logger.Level.WARNING, "leaving without a hand-off: no other member serves (they are "
          + "draining or starting), so nobody can take this node's repositories; its disk keeps them");
      return Future.succeededFuture();
    }
    LOG.log(System.Logger.Level.INFO, "leaving: handing repositories off to their new owners");
    // The timeout holds for the whole hand-off, the announcement included: this node acts on its
    // draining state at once, and the others learn it when the states map holds it. That put waits on
    // the member owning the entry's partition, which may have stopped answering without being
    // suspected yet; waiting for it first (as before) held a SIGTERM for a minute or more.
    Promise<Boolean> announced = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, timeout), t -> announced.tryComplete(false));
    membership.announceAsync(self, Membership.NodeState.DRAINING).whenComplete((v, err) -> {
      if (err != null) {
        LOG.log(System.Logger.Level.WARNING, "announcing this node's draining state failed: " + err);
      }
      announced.tryComplete(err == null);
    });
    return rebalancer.settle(timeout).compose(done -> announced.future().map(held -> {
      vertx.cancelTimer(timer);
      if (!held) {
        LOG.log(System.Logger.Level.WARNING, "leaving: the cluster has not confirmed this node's draining state"
            + " (a member does not answer); the others learn it when it lands or when this node leaves");
      }
      LOG.log(done ? System.Logger.Level.INFO : System.Logger.Level.WARNING, done
          ? "leaving: every repository is on its new owners" : "leaving: hand-off incomplete after " + timeout + " ms");
      return (Void) null;
    }));
  }

  private Future<Void> shutdown() {
    if (gcTimer >= 0) {
      vertx.cancelTimer(gcTimer);
    }
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    LongAbsence.forget(hazelcast, config.nodeName());
    if (tlsReloader != null) {
      tlsReloader.stop();
    }
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.compose(v -> vertx.undeploy(id));
    }
    // Undeploying takes this node's event-bus consumers out of the cluster: Hazelcast operations, each
    // waiting on the member that owns its partition. A member that stopped answering and is not
    // suspected yet holds each of them for Hazelcast's call timeout (a minute), one after another, and
    // the stop with them. Past the HTTP drain plus a margin, the node leaves the cluster at once:
    // what still waits on it fails fast, and the stop goes on to close the stores.
    long bound = config.http().shutdownTimeout().toMillis() + UNDEPLOY_MARGIN_MILLIS;
    java.util.concurrent.atomic.AtomicBoolean forcedLeave = new java.util.concurrent.atomic.AtomicBoolean();
    long leaveTimer = vertx.setTimer(bound, t -> {
      forcedLeave.set(true);
      LOG.log(System.Logger.Level.WARNING, "stopping: services still undeploying after " + bound + " ms (a cluster "
          + "member does not answer); leaving the cluster at once");
      new Thread(() -> {
        try {
          hazelcast.getLifecycleService().terminate();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "leaving the cluster failed: " + e);
        }
      }, "flotilla-leave").start();
    });
    Future<Void> undeployed = chain.andThen(ar -> vertx.cancelTimer(leaveTimer)).recover(err -> {
      if (!forcedLeave.get()) {
        return Future.failedFuture(err);
      }
      // expected: consumers could not be taken out of a cluster this node has left
      LOG.log(System.Logger.Level.INFO, "stopping: undeploying ended after leaving the cluster: " + err);
      return Future.succeededFuture();
    });
    return undeployed.eventually(() -> {
      if (catchUp != null) {
        catchUp.close();
      }
      if (proof != null) {
        proof.close();
      }
      membership.close();
      return vertx.close();
    }).andThen(ar -> {
      io.shutdown();
      if (journal != null) {
        journal.close();
      }
      try {
        metadata.markAlive(System.currentTimeMillis()); // a clean stop: the absence starts now
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "recording the stop time failed: " + e.getMessage());
      }
      metadata.close();
      if (accessLog != null) {
        accessLog.close();
      }
    });
  }
}
