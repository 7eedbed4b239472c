package io.flotilla.scan;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.DataChannelClient;
import io.flotilla.bus.DataMessages.OpenRead;
import io.flotilla.cluster.Member;
import io.flotilla.cluster.Membership;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.Fs;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Brings the configured vulnerability database to this node and switches the cluster to it at once.
 * Each tick: resolve the configured reference through the cluster (any node answers), fetch a new
 * artifact's layers (from the local blobs, else from an owner over the data channel, digest-checked),
 * compile them on a worker, and publish this node's {@link VulnDbState} in a cluster-wide map. The
 * coordinator (the lowest-named member) names a database active once every member of the view is ready
 * with it, and tells everyone on the bus; every node then matches its stored results again. A database
 * that fails to fetch or compile leaves the active one in place and is shown failed. Runs on the
 * verticle's event loop; blocking work on {@code worker}.
 */
public final class VulnDbRollout {
  private static final System.Logger LOG = System.getLogger(VulnDbRollout.class.getName());
  /** The cluster-wide map of database states: {@code node:<name>} per node, {@code active} for the cluster. */
  public static final String MAP = "flotilla.scan.vulndb";
  static final String ACTIVE = "active";

  /** Turns the layers of a database artifact into a compiled database. Blocking. */
  @FunctionalInterface
  public interface Compiler {
    VulnDb compile(String digest, List<Path> layers) throws Exception;
  }

  /** Compiles OSV zips (the artifact's layers, in order) with the default limits. */
  public static VulnDb compileOsv(String digest, List<Path> layers) throws Exception {
    List<InputStream> in = new ArrayList<>();
    try {
      for (Path p : layers) {
        in.add(new java.io.BufferedInputStream(Files.newInputStream(p), 1 << 16));
      }
      return OsvImporter.read(digest, in, OsvImporter.Limits.DEFAULTS);
    } finally {
      for (InputStream s : in) {
        s.close();
      }
    }
  }

  private final Vertx vertx;
  private final String nodeId;
  private final Membership membership;
  private final RegistryStorage cluster;
  private final BlobStore blobs;
  private final DataChannelClient data;
  private final Path dir;
  private final String repository;
  private final String tag;
  private final int replicas;
  private final Compiler compiler;
  private final Scanner scanner;
  private final WorkerExecutor worker;
  private final Map<String, VulnDb> compiled = new LinkedHashMap<>();
  private String working = "";
  private String state = "absent";
  private String error = "";
  private String failedDigest = "";
  private long failedMillis;
  private boolean ticking;

  public VulnDbRollout(Vertx vertx, String nodeId, Membership membership, RegistryStorage cluster, BlobStore blobs,
      DataChannelClient data, Path dataDir, String repository, String tag, int replicas, Compiler compiler,
      Scanner scanner, WorkerExecutor worker) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.membership = membership;
    this.cluster = cluster;
    this.blobs = blobs;
    this.data = data;
    this.dir = dataDir.resolve("_scan").resolve("db");
    this.repository = repository;
    this.tag = tag;
    this.replicas = replicas;
    this.compiler = compiler;
    this.scanner = scanner;
    this.worker = worker;
  }

  private Future<AsyncMap<String, String>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /** One round: resolve, fetch and compile if new, publish, and activate what the cluster names active. */
  public Future<Void> tick() {
    if (ticking) {
      return Future.succeededFuture();
    }
    ticking = true;
    RequestContext ctx = RequestContext.internal("vulndb");
    return cluster.getManifest(ctx, repository, tag).map(m -> m.digest()).recover(err -> {
      if (err instanceof OciException o && (o.error() == OciError.MANIFEST_UNKNOWN || o.error() == OciError.NAME_UNKNOWN)) {
        return Future.succeededFuture("");
      }
      return Future.failedFuture(err);
    }).compose(configured -> map().compose(m -> m.get(ACTIVE).compose(active -> {
      String want = configured.isEmpty() ? (active == null ? "" : active) : configured;
      Future<Void> prepared = prepare(want);
      if (active != null && !active.equals(want) && !compiled.containsKey(active)) {
        prepared = prepared.compose(v -> prepare(active)); // joined late: the cluster still uses the older one
      }
      return prepared.compose(v -> publish(m, want))
          .compose(v -> coordinate(m, want, active))
          .compose(v -> m.get(ACTIVE))
          .compose(this::switchTo);
    }))).eventually(() -> {
      ticking = false;
      return Future.succeededFuture();
    }).recover(err -> {
      LOG.log(System.Logger.Level.DEBUG, "vulnerability database round failed: " + err);
      return Future.succeededFuture();
    });
  }

  /** Fetches and compiles {@code digest} unless it is compiled, or failed less than ten minutes ago. */
  private Future<Void> prepare(String digest) {
    if (digest.isEmpty()) {
      if (compiled.isEmpty()) {
        state = "absent";
        working = "";
      }
      return Future.succeededFuture();
    }
    if (compiled.containsKey(digest)) {
      working = digest;
      state = "ready";
      error = "";
      return Future.succeededFuture();
    }
    if (digest.equals(failedDigest) && System.currentTimeMillis() - failedMillis < 600_000) {
      return Future.succeededFuture();
    }
    working = digest;
    state = "fetching";
    error = "";
    return fetch(digest).compose(files -> {
      state = "compiling";
      long started = System.nanoTime();
      return worker.executeBlocking(() -> compiler.compile(digest, files), false).onSuccess(db -> {
        LOG.log(System.Logger.Level.INFO, "vulnerability database " + digest + " compiled in "
            + (System.nanoTime() - started) / 1_000_000 + " ms");
      });
    }).transform(ar -> {
      if (ar.succeeded()) {
        compiled.put(digest, ar.result());
        while (compiled.size() > 2) { // the active one and the next
          String oldest = compiled.keySet().iterator().next();
          if (oldest.equals(scanner.activeDb())) {
            break;
          }
          compiled.remove(oldest);
        }
        state = "ready";
        error = "";
      } else {
        state = "failed";
        error = String.valueOf(ar.cause().getMessage());
        failedDigest = digest;
        failedMillis = System.currentTimeMillis();
        LOG.log(System.Logger.Level.WARNING, "vulnerability database " + digest + " failed: " + error);
      }
      return Future.succeededFuture();
    });
  }

  /** The artifact's layers as local files, each checked against its digest. */
  private Future<List<Path>> fetch(String digest) {
    RequestContext ctx = RequestContext.internal("vulndb");
    return cluster.getManifest(ctx, repository, digest).compose(content -> {
      Manifest m;
      try {
        m = ManifestParser.parse(content.body(), content.mediaType());
      } catch (RuntimeException e) {
        return Future.failedFuture(new IOException("not a vulnerability database: the artifact is not a manifest"));
      }
      if (m.isIndex() || m.layers().isEmpty()) {
        return Future.failedFuture(new IOException("not a vulnerability database: the artifact has no layers"));
      }
      Path into = dir.resolve(Digest.parse(digest).hex());
      Future<List<Path>> all = worker.executeBlocking(() -> {
        Fs.createDirectoriesDurably(into);
        return new ArrayList<Path>();
      }, false);
      for (Descriptor layer : m.layers()) {
        all = all.compose(list -> layer(ctx, layer.digest(), into).map(p -> {
          list.add(p);
          return list;
        }));
      }
      return all;
    });
  }

  private Future<Path> layer(RequestContext ctx, Digest layer, Path into) {
    Path target = into.resolve(layer.hex());
    return worker.executeBlocking(() -> {
      if (Files.exists(target)) {
        return Optional.of(target);
      }
      if (blobs.size(layer) >= 0) {
        return Optional.of(blobs.path(layer)); // held here: verified when it was stored, read in place
      }
      return Optional.<Path>empty();
    }, false).compose(local -> local.map(Future::succeededFuture).orElseGet(() -> remote(ctx, layer, into, target)));
  }

  /** Streams the layer from an owner of the database's repository over the data channel. */
  private Future<Path> remote(RequestContext ctx, Digest layer, Path into, Path target) {
    List<String> owners = membership.placement().owners(repository, replicas).stream().map(Member::nodeName)
        .filter(n -> !n.equals(nodeId)).toList();
    if (owners.isEmpty()) {
      return Future.failedFuture(new IOException("layer " + layer + " of the database is on no other node"));
    }
    Path part = into.resolve(layer.hex() + ".part");
    return data.open(owners.get(0), OpenRead.whole(ctx, layer.toString())).compose(stream -> vertx.fileSystem()
        .open(part.toString(), new OpenOptions().setWrite(true).setCreate(true).setTruncateExisting(true))
        .compose(file -> stream.pipeTo(file)))
        .compose(v -> worker.executeBlocking(() -> verify(part, layer, target), false));
  }

  private static Path verify(Path part, Digest expected, Path target) throws IOException {
    MessageDigest md = expected.algorithm().newHasher();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(part)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    if (!HexFormat.of().formatHex(md.digest()).equals(expected.hex())) {
      Files.deleteIfExists(part);
      throw new IOException("layer " + expected + " of the database does not match its digest");
    }
    Fs.moveAtomic(part, target);
    return target;
  }

  private Future<Void> publish(AsyncMap<String, String> m, String want) {
    VulnDb db = compiled.get(working);
    VulnDbState s = new VulnDbState(nodeId, working, state, error, db == null ? 0 : db.stats().records(),
        scanner.activeDb(), System.currentTimeMillis(), scanner.stats());
    return m.put("node:" + nodeId, s.toJson().encode());
  }

  /** On the coordinator: names {@code want} active once every member is ready with it. */
  private Future<Void> coordinate(AsyncMap<String, String> m, String want, String active) {
    List<String> members = membership.current().isEmpty() ? List.of(nodeId) : membership.current().nodeNames();
    if (want.isEmpty() || want.equals(active) || !members.stream().sorted().findFirst().orElse(nodeId).equals(nodeId)) {
      return Future.succeededFuture();
    }
    List<Future<String>> states = members.stream().map(n -> m.get("node:" + n)).toList();
    return Future.all(states).compose(all -> {
      for (Future<String> f : states) {
        if (f.result() == null) {
          return Future.succeededFuture();
        }
        VulnDbState s = VulnDbState.of(new JsonObject(f.result()));
        if (!s.digest().equals(want) || !s.state().equals("ready")) {
          return Future.succeededFuture();
        }
      }
      LOG.log(System.Logger.Level.INFO, "every member is ready with vulnerability database " + want + ": activating it");
      return m.put(ACTIVE, want).onSuccess(v -> vertx.eventBus().publish(Addresses.SCAN_DB_ACTIVATE, want));
    });
  }

  /** Matches with {@code active} from now on, if it is compiled here and not already in use. */
  public Future<Void> switchTo(String active) {
    if (active == null || active.isEmpty() || active.equals(scanner.activeDb())) {
      return Future.succeededFuture();
    }
    VulnDb db = compiled.get(active);
    if (db == null) {
      return Future.succeededFuture(); // compiled on a later round
    }
    scanner.activate(db).onSuccess(n -> LOG.log(System.Logger.Level.INFO, "matched " + n
        + " stored scans again with " + active));
    return Future.succeededFuture();
  }

  /** Every member's state and the active database, for {@code GET /api/v1/vulndb}. */
  public Future<JsonObject> status() {
    List<String> members = membership.current().isEmpty() ? List.of(nodeId) : membership.current().nodeNames();
    return map().compose(m -> {
      List<Future<String>> states = members.stream().map(n -> m.get("node:" + n)).toList();
      Future<String> active = m.get(ACTIVE);
      List<Future<?>> all = new ArrayList<>(states);
      all.add(active);
      return Future.join(all).transform(ignored -> {
        io.vertx.core.json.JsonArray nodes = new io.vertx.core.json.JsonArray();
        for (int i = 0; i < members.size(); i++) {
          Future<String> f = states.get(i);
          nodes.add(f.succeeded() && f.result() != null ? new JsonObject(f.result())
              : new JsonObject().put("node", members.get(i)).put("state", "unknown"));
        }
        return Future.succeededFuture(new JsonObject().put("database", repository + ":" + tag)
            .put("active", active.succeeded() && active.result() != null ? active.result() : "")
            .put("nodes", nodes));
      });
    });
  }
}
