package io.flotilla.scan;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.Messages.ScanResultGet;
import io.flotilla.bus.Messages.ScanResultPut;
import io.flotilla.bus.Messages.ScanResultSet;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.MetadataStore;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The scanning verticle: wires the node's {@link Scanner} and {@link VulnDbRollout} to the bus and to
 * time. Serves {@link Addresses#SCAN_RESULT_PUT} (results from primaries) and hears
 * {@link Addresses#SCAN_DB_ACTIVATE}; queues the image manifests of repositories that changed here;
 * runs a rollout round every few seconds, a sweep for unscanned images every minute, and drops the
 * layer inventories of blobs this node no longer holds every hour.
 */
public final class ScanVerticle extends AbstractVerticle {
  private static final System.Logger LOG = System.getLogger(ScanVerticle.class.getName());

  private final Scanner scanner;
  private final VulnDbRollout rollout;
  private final MetadataStore metadata;
  private final BlobStore blobs;
  private final LayerCache layers;
  private final String nodeId;
  private final long rolloutMillis;
  private final Set<String> changed = ConcurrentHashMap.newKeySet();

  /** @param rolloutMillis how often the database is looked for (and the coordinator checks readiness) */
  public ScanVerticle(Scanner scanner, VulnDbRollout rollout, MetadataStore metadata, BlobStore blobs, LayerCache layers,
      String nodeId, long rolloutMillis) {
    this.scanner = scanner;
    this.rollout = rollout;
    this.metadata = metadata;
    this.blobs = blobs;
    this.layers = layers;
    this.nodeId = nodeId;
    this.rolloutMillis = rolloutMillis;
  }

  @Override
  public void start(Promise<Void> started) {
    scanner.onScanned((repository, scan) -> {
      List<String> owners = scanner.otherOwners(repository);
      if (owners.isEmpty()) {
        return;
      }
      ScanResultPut put = new ScanResultPut(repository, ScanJson.write(scan));
      for (String owner : owners) {
        Bus.request(vertx, Addresses.SCAN_RESULT_PUT, owner, false, put).onFailure(err -> LOG.log(
            System.Logger.Level.DEBUG, "scan result of " + scan.digest() + " not handed to " + owner + ": " + err));
      }
    });
    scanner.onPeers(this::askPeers);
    metadata.onChange(changed::add);
    vertx.eventBus().<String>consumer(Addresses.SCAN_DB_ACTIVATE, msg -> rollout.switchTo(msg.body()));
    vertx.setPeriodic(1000, id -> queueChanged());
    vertx.setPeriodic(10, rolloutMillis, id -> rollout.tick());
    vertx.setPeriodic(3000, 60_000, id -> vertx.executeBlocking(scanner::sweep, false)
        .compose(todo -> scanner.adoptOrQueue(Scanner.Priority.SWEEP, todo))
        .onFailure(err -> LOG.log(System.Logger.Level.WARNING, "scan sweep failed: " + err)));
    vertx.setPeriodic(60_000, 3_600_000, id -> vertx.executeBlocking(() -> layers.sweep(d -> blobs.size(d) >= 0), false)
        .onSuccess(n -> {
          if (n > 0) {
            LOG.log(System.Logger.Level.INFO, "dropped " + n + " layer inventories of blobs no longer held");
          }
        }));
    Bus.serve(vertx, Addresses.SCAN_RESULT_GET, nodeId, get -> vertx.executeBlocking(() ->
        new ScanResultSet(scanner.held(get.digests()).stream().map(ScanJson::write).toList()), false));
    Bus.serve(vertx, Addresses.SCAN_RESULT_PUT, nodeId, put -> vertx.executeBlocking(() -> {
      scanner.accept(ScanJson.read(put.scan(), ImageScan.class));
      return new Done();
    }, false)).<Void>mapEmpty().onComplete(started);
  }

  private void queueChanged() {
    if (changed.isEmpty()) {
      return;
    }
    List<String> repos = new ArrayList<>(changed);
    changed.removeAll(repos);
    vertx.executeBlocking(() -> scanner.unscanned(repos), false)
        .compose(todo -> scanner.adoptOrQueue(Scanner.Priority.PUSH, todo))
        .onFailure(err -> LOG.log(System.Logger.Level.WARNING, "queueing scans failed: " + err));
  }

  /** Every other member's stored results of {@code digests}, newest first per digest. */
  private Future<List<ImageScan>> askPeers(List<String> digests) {
    List<String> others = scanner.otherMembers();
    if (others.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    List<Future<ScanResultSet>> calls = new ArrayList<>();
    for (String node : others) {
      calls.add(Bus.request(vertx, Addresses.SCAN_RESULT_GET, node, false, new ScanResultGet(digests)));
    }
    return Future.join(calls).transform(ignored -> {
      java.util.Map<String, ImageScan> newest = new java.util.HashMap<>();
      for (Future<ScanResultSet> f : calls) {
        if (f.failed()) {
          continue;
        }
        for (byte[] json : f.result().scans()) {
          try {
            ImageScan s = ScanJson.read(json, ImageScan.class);
            newest.merge(s.digest(), s, (a, b) -> a.scannedMillis() >= b.scannedMillis() ? a : b);
          } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "a peer's scan result did not parse: " + e);
          }
        }
      }
      return Future.succeededFuture(List.copyOf(newest.values()));
    });
  }
}
