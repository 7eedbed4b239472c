package io.flotilla.cluster;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.bus.BusRegistryClient;
import io.flotilla.bus.Messages.ApplyDelete;
import io.flotilla.bus.Messages.Deleted;
import io.flotilla.bus.Messages.GetRefStates;
import io.flotilla.bus.Messages.PullBlob;
import io.flotilla.bus.Messages.PullManifest;
import io.flotilla.bus.Messages.SyncRepository;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.Reference;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.CatalogPage;
import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.RefStates;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.TagPage;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.flotilla.storage.StorageTypes.Usage;
import io.flotilla.storage.UploadStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * The storage API on a clustered node: every repository-scoped call goes over the bus to the
 * repository's owners ({@link Placement} over the current {@link ClusterView}); upload sessions are
 * reached at the node named in their id; the catalog fans out to every member. A single-member
 * cluster routes everything to itself, through the same path.
 *
 * <ul>
 *   <li>Manifest, tag and referrer reads go to the owners that are not catching up ({@link CatchUp}),
 *       this node first when it is one, then the primary: their "not found" is the answer. Only when
 *       no such owner answers (all down, or all just joined) do they go on to every other member
 *       (the data may still sit on a former owner while membership changes), then to the owners that
 *       are catching up. Blob reads try every member (a layer may sit only where it was uploaded).
 *   <li>A manifest PUT is stored on the primary, then every other live owner pulls it (with the
 *       blobs and child manifests it references) from the primary; the push is acknowledged once
 *       the write quorum (all live owners by default) holds it durably. If the primary lacks a
 *       referenced blob that another member has (a layer pushed before the owners changed), the
 *       primary first copies the repository from the other members, then the PUT is retried once.
 *   <li>Deletes are stamped with a time and applied on every other owner, which records a tombstone
 *       (so no older copy brings the content back), then on the primary, which reports the delete;
 *       the client gets 202 once every live owner applied it and one of them held it. Other
 *       members apply it too, best effort.
 *   <li>A mount whose source repository lives on another node copies the blob to the primary.
 * </ul>
 */
public final class RoutingStorage implements RegistryStorage {
  /** Outcomes of a read that mean "try another node". */
  private static final Set<OciError> TRY_ELSEWHERE =
      Set.of(OciError.NAME_UNKNOWN, OciError.MANIFEST_UNKNOWN, OciError.BLOB_UNKNOWN, OciError.UNAVAILABLE);
  /** Answers of an owner that is not catching up that settle a manifest or tag read. */
  private static final Set<OciError> FINAL_MISS = Set.of(OciError.NAME_UNKNOWN, OciError.MANIFEST_UNKNOWN);

  private static final System.Logger LOG = System.getLogger(RoutingStorage.class.getName());
  /**
   * How long after a change of the members a manifest or tag read merges every member's record: views
   * converge within about a second, and the copies that moved are synced by the next rebalancing pass.
   */
  static final long SETTLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

  private final Vertx vertx;
  private final Membership membership;
  private final String localNode;
  private final ClusterCatalog catalog;
  private final int replicationFactor;
  private final int writeQuorum;
  private final ConcurrentHashMap<String, RegistryStorage> clients = new ConcurrentHashMap<>();
  /** This node's own storage, called directly: a call to this node needs no bus hop. */
  private volatile RegistryStorage local;
  private final CatchUp catchUp;

  /**
   * @param replicationFactor owners per repository (capped by the member count)
   * @param writeQuorum owners that must hold a pushed manifest before it is acknowledged; 0 = all
   */
  public RoutingStorage(Vertx vertx, Membership membership, CatchUp catchUp, String localNode, ClusterCatalog catalog,
      int replicationFactor, int writeQuorum) {
    this.vertx = vertx;
    this.catchUp = catchUp;
    this.membership = membership;
    this.localNode = localNode;
    this.catalog = catalog;
    this.replicationFactor = replicationFactor;
    this.writeQuorum = writeQuorum;
  }

  /** The node name of a repository's primary owner (this node when the view is empty). */
  public String primaryOf(String repository) {
    return membership.placement().primary(repository).map(Member::nodeName).orElse(localNode);
  }

  /** The node names of a repository's owners, primary first (this node alone when the view is empty). */
  public List<String> ownersOf(String repository) {
    List<String> owners = new ArrayList<>();
    for (Member m : membership.placement().owners(repository, replicationFactor)) {
      owners.add(m.nodeName());
    }
    return owners.isEmpty() ? List.of(localNode) : owners;
  }

  private RegistryStorage client(String node) {
    RegistryStorage self = local;
    if (self != null && node.equals(localNode)) {
      return self;
    }
    return clients.computeIfAbsent(node, n -> new BusRegistryClient(vertx, n, n.equals(localNode)));
  }

  /**
   * Calls to this node go straight to {@code storage} (what its storage verticle serves) instead of
   * through the event bus: the local hop cost two thread hand-offs and a reply registration per
   * request, a large part of a manifest GET. Set once at start, after the storage stack is built.
   */
  public void serveLocally(RegistryStorage storage) {
    this.local = storage;
  }

  private RegistryStorage primary(String repository) {
    return client(primaryOf(repository));
  }

  /**
   * The node holding an upload session: the one named in its id while it is a member; otherwise
   * this node (a session created before a restart under another name lives on this disk).
   */
  public String holderOf(String uploadId) {
    String node = UploadStore.nodeOf(uploadId);
    return node != null && membership.current().contains(node) ? node : localNode;
  }

  private RegistryStorage holder(String uploadId) {
    return client(holderOf(uploadId));
  }

  /**
   * This node first when it is an owner (its copy is as good as the primary's and needs no bus
   * hop), then the owners, primary first, then every other member, for reads that may fall back.
   */
  private List<String> readOrder(String repository) {
    List<String> owners = ownersOf(repository);
    List<String> order = new ArrayList<>();
    if (owners.contains(localNode)) {
      order.add(localNode);
    }
    for (String owner : owners) {
      if (!order.contains(owner)) {
        order.add(owner);
      }
    }
    for (String n : membership.current().nodeNames()) {
      if (!order.contains(n)) {
        order.add(n);
      }
    }
    return order;
  }

  /** Asks the nodes in order until one answers with something other than "not here". */
  private <T> Future<T> read(String repository, java.util.function.BiFunction<String, RegistryStorage, Future<T>> call) {
    List<String> order = readOrder(repository);
    return attempt(order, 0, call, null);
  }

  private <T> Future<T> attempt(List<String> order, int i, java.util.function.BiFunction<String, RegistryStorage, Future<T>> call,
      Throwable first) {
    String node = order.get(i);
    return call.apply(node, client(node)).recover(err -> {
      Throwable firstErr = first == null ? err : first;
      boolean elsewhere = err instanceof OciException e && TRY_ELSEWHERE.contains(e.error());
      if (!elsewhere || i + 1 >= order.size()) {
        return Future.failedFuture(firstErr);
      }
      return attempt(order, i + 1, call, firstErr);
    });
  }

  /**
   * The placement this node routes by, the one before it (null before any change was seen), the view
   * they were computed from, and when this node first saw a change of the members or their states.
   */
  private record Placements(ClusterView view, List<String> members, Placement current, Placement previous,
      long changedNanos) {}

  private final java.util.concurrent.atomic.AtomicReference<Placements> placements =
      new java.util.concurrent.atomic.AtomicReference<>(new Placements(null, List.of(), null, null, System.nanoTime()));

  /**
   * The current placement, remembering the previous one whenever the placed members change. Views
   * are immutable and replaced at every change, so an unchanged one costs one comparison.
   */
  private Placements placements() {
    while (true) {
      ClusterView view = membership.current();
      Placements seen = placements.get();
      if (seen.view() == view) {
        return seen;
      }
      Placement now = membership.placement();
      List<String> members = now.view().nodeNames();
      Placements next = new Placements(view, members, now,
          seen.members().equals(members) ? seen.previous() : seen.current(), System.nanoTime());
      if (placements.compareAndSet(seen, next)) {
        return next;
      }
    }
  }

  /**
   * Whether there are other members and they changed less than {@link #SETTLE_NANOS} ago, or some
   * member's copies may be behind (it is catching up): then nodes may route by different placements for a moment, or an
   * owner may not have received the last write yet, and a manifest or tag read merges every member's
   * record ({@link RefMerge}) instead of trusting the first owner that answers.
   */
  private boolean unsettled(Placements p) {
    return p.view() != null && p.view().size() > 1
        && (System.nanoTime() - p.changedNanos() < SETTLE_NANOS || catchUp.anyCatchingUp());
  }

  /** Asks every member for its record of {@code reference} (null: every tag); members that fail are left out. */
  private Future<Map<String, RefStates>> refStates(RequestContext ctx, String repository, String reference) {
    List<String> nodes = membership.current().nodeNames();
    List<Future<RefStates>> asked = new ArrayList<>();
    GetRefStates q = new GetRefStates(RequestContext.internal(ctx.requestId()), repository, reference);
    for (String node : nodes) {
      asked.add(Bus.request(vertx, Addresses.REPLICA_REFS, node, node.equals(localNode), q));
    }
    return Future.join(asked).transform(ignored -> {
      Map<String, RefStates> out = new java.util.LinkedHashMap<>();
      if (nodes.contains(localNode) && asked.get(nodes.indexOf(localNode)).succeeded()) {
        out.put(localNode, asked.get(nodes.indexOf(localNode)).result()); // this node first: no hop to fetch from it
      }
      for (int i = 0; i < nodes.size(); i++) {
        if (asked.get(i).succeeded()) {
          out.putIfAbsent(nodes.get(i), asked.get(i).result());
        }
      }
      return Future.succeededFuture(out);
    });
  }

  /**
   * A manifest read while membership is unsettled: the owners' answer (as when settled) and every
   * member's record, merged by last writer wins. The owners' answer stands when it names the winning
   * manifest, or when it is bad input; else the winner is fetched from a member that holds it, or the
   * read misses when the merge says deleted. When no member answered, the owners' answer stands.
   */
  private Future<ManifestContent> mergedManifest(RequestContext ctx, String repository, String reference) {
    Future<ManifestContent> owned = readOwned(repository, (node, s) -> s.getManifest(ctx, repository, reference));
    Future<Map<String, RefStates>> states = refStates(ctx, repository, reference);
    return Future.join(owned, states).transform(ignored -> {
      if (owned.failed() && !isMiss(owned.cause()) || states.failed() || states.result().isEmpty()) {
        return owned;
      }
      Map<String, RefStates> copies = states.result();
      Reference ref;
      try {
        ref = Reference.parse(reference);
      } catch (OciException e) {
        return owned;
      }
      String winner = ref.isDigest()
          ? (RefMerge.manifest(ref.digest().toString(), copies.values()) ? ref.digest().toString() : null)
          : RefMerge.tag(ref.tag().value(), copies.values()).orElse(null);
      if (winner == null) {
        return owned.failed() ? owned : Future.failedFuture(RefMerge.exists(copies.values())
            ? OciError.MANIFEST_UNKNOWN.with("manifest " + reference + " is not known in " + repository)
            : OciError.NAME_UNKNOWN.with("repository " + repository + " is not known"));
      }
      if (owned.succeeded() && owned.result().digest().equals(winner)) {
        return owned;
      }
      List<String> holders = RefMerge.holders(winner, copies);
      if (holders.isEmpty()) {
        return owned;
      }
      return attempt(holders, 0, (node, s) -> s.getManifest(ctx, repository, winner), null);
    });
  }

  /** A tag listing while membership is unsettled: every member's tags merged by last writer wins. */
  private Future<TagPage> mergedTags(RequestContext ctx, String repository, int n, String last) {
    Future<TagPage> owned = readOwned(repository, (node, s) -> s.listTags(ctx, repository, n, last));
    Future<Map<String, RefStates>> states = refStates(ctx, repository, null);
    return Future.join(owned, states).transform(ignored -> {
      if (owned.failed() && !isMiss(owned.cause()) || states.failed() || states.result().isEmpty()) {
        return owned;
      }
      var copies = states.result().values();
      if (!RefMerge.exists(copies)) {
        return owned.failed() ? owned : Future.failedFuture(OciError.NAME_UNKNOWN.with("repository " + repository
            + " is not known"));
      }
      RefMerge.Page page = RefMerge.page(RefMerge.tags(copies), n, last);
      return Future.succeededFuture(new TagPage(owned.succeeded() ? owned.result().name() : repository, page.tags(),
          page.more()));
    });
  }

  /** "Not found" or "unavailable": an answer that another copy may change. */
  private static boolean isMiss(Throwable err) {
    return err instanceof OciException e && TRY_ELSEWHERE.contains(e.error());
  }

  /**
   * Asks the owners that are not catching up; their "not found" is final. Owners that were owners
   * before the last change of the placed members come first (this node first among them): a node
   * that just gained the repository (another left or drained) may hold an older copy until the
   * rebalancing pass reaches it. When none of them answered, asks every other member, then the
   * catching-up owners.
   */
  private <T> Future<T> readOwned(String repository, BiFunction<String, RegistryStorage, Future<T>> call) {
    Placements p = placements();
    List<String> owners = new ArrayList<>();
    p.current().owners(repository, replicationFactor).forEach(m -> owners.add(m.nodeName()));
    if (owners.isEmpty()) {
      owners.add(localNode);
    }
    java.util.Set<String> before = new java.util.HashSet<>();
    if (p.previous() != null) {
      p.previous().owners(repository, replicationFactor).forEach(m -> before.add(m.nodeName()));
    }
    List<String> current = new ArrayList<>();
    List<String> gained = new ArrayList<>();
    List<String> behind = new ArrayList<>();
    if (owners.contains(localNode) && !catchUp.isCatchingUp(localNode) && (before.isEmpty() || before.contains(localNode))) {
      current.add(localNode);
    }
    for (String owner : owners) {
      if (current.contains(owner)) {
        continue;
      }
      if (catchUp.isCatchingUp(owner)) {
        behind.add(owner);
      } else if (before.isEmpty() || before.contains(owner)) {
        current.add(owner);
      } else {
        gained.add(owner);
      }
    }

    List<String> rest = new ArrayList<>();
    for (String n : membership.current().nodeNames()) {
      if (!owners.contains(n)) {
        rest.add(n);
      }
    }
    rest.addAll(behind);
    return ownersFirst(current, 0, call, null)
        .recover(err -> settled(err) || gained.isEmpty() ? Future.failedFuture(err) : ownersFirst(gained, 0, call, null))
        .recover(err -> settled(err) || rest.isEmpty() ? Future.failedFuture(err) : attempt(rest, 0, call, null));
  }

  /** A final miss, or an answer that no other node would change (bad input, say). */
  private static boolean settled(Throwable err) {
    return !(err instanceof OciException e) || FINAL_MISS.contains(e.error()) || !TRY_ELSEWHERE.contains(e.error());
  }

  /**
   * Tries {@code owners} in order: an answer other than "not found" or "unavailable" (bad input, say)
   * is the answer; otherwise fails with a final miss if one answered "not found", else with the first
   * failure.
   */
  private <T> Future<T> ownersFirst(List<String> owners, int i, BiFunction<String, RegistryStorage, Future<T>> call,
      Throwable miss) {
    if (i >= owners.size()) {
      return Future.failedFuture(miss != null ? miss : OciError.UNAVAILABLE.with("no owner of the repository answered"));
    }
    String node = owners.get(i);
    return call.apply(node, client(node)).recover(err -> {
      if (!(err instanceof OciException e && TRY_ELSEWHERE.contains(e.error()))) {
        return Future.failedFuture(err);
      }
      boolean notFound = FINAL_MISS.contains(((OciException) err).error());
      return ownersFirst(owners, i + 1, call, notFound || miss == null ? err : miss);
    });
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    if (unsettled(placements())) {
      return mergedManifest(ctx, repository, reference);
    }
    return readOwned(repository, (node, s) -> s.getManifest(ctx, repository, reference));
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    if (unsettled(placements())) {
      return mergedTags(ctx, repository, n, last);
    }
    return readOwned(repository, (node, s) -> s.listTags(ctx, repository, n, last));
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    return readOwned(repository, (node, s) -> s.referrers(ctx, repository, subject, artifactType));
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return read(repository, (node, s) -> s.statBlob(ctx, repository, digest)
        .map(info -> new BlobInfo(info.digest(), info.size(), node.equals(localNode) ? null : node)));
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    String repository = request.repository();
    List<String> owners = ownersOf(repository);
    String primary = owners.get(0);
    return client(primary).putManifest(ctx, request)
        .recover(err -> {
          if (!(err instanceof OciException e && e.error() == OciError.MANIFEST_BLOB_UNKNOWN)
              || membership.current().size() < 2) {
            return Future.failedFuture(err);
          }
          return copyFromOthers(ctx, repository, primary)
              .compose(v -> copyReferencedBlobs(ctx, repository, primary, request))
              .compose(v -> client(primary).putManifest(ctx, request));
        })
        .compose(put -> replicate(ctx, repository, owners, put, Reference.parse(request.reference())));
  }

  /** Asks {@code target} to copy the repository from every other member (those without it copy nothing). */
  private Future<Void> copyFromOthers(RequestContext ctx, String repository, String target) {
    Future<Void> chain = Future.succeededFuture();
    for (String source : membership.current().nodeNames()) {
      if (!source.equals(target)) {
        chain = chain.compose(v -> Bus.request(vertx, Addresses.REPLICA_SYNC, target, target.equals(localNode),
            new SyncRepository(ctx, repository, source)).<Void>mapEmpty().recover(err -> Future.succeededFuture()));
      }
    }
    return chain;
  }

  /**
   * Copies to {@code target} each blob the manifest references that it lacks, from a member that
   * has it in the repository (a layer uploaded through another primary while the owners changed:
   * repository syncs copy only what manifests reference, not such uploads).
   */
  private Future<Void> copyReferencedBlobs(RequestContext ctx, String repository, String target, PutManifest request) {
    Manifest m;
    try {
      m = ManifestParser.parse(request.body(), request.contentType());
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
    Future<Void> chain = Future.succeededFuture();
    for (Descriptor b : m.storedBlobs()) {
      String digest = b.digest().toString();
      chain = chain.compose(v -> client(target).statBlob(ctx, repository, digest).<Void>mapEmpty()
          .recover(missing -> read(repository, (node, s) -> s.statBlob(ctx, repository, digest)
                  .map(info -> new BlobInfo(info.digest(), info.size(), node)))
              .compose(found -> Bus.request(vertx, Addresses.REPLICA_BLOB, target, target.equals(localNode),
                  new PullBlob(RequestContext.internal(ctx.requestId()), repository, found.node(), digest, found.size())))
              .<Void>mapEmpty()
              .otherwiseEmpty()));
    }
    return chain;
  }

  /**
   * Starts copying a just-uploaded blob from {@code holder} to the repository's other owners, in the
   * background: the push does not wait (its manifest PUT will, for every blob it references), and a
   * failure only leaves the copy to the manifest PUT or to rebalancing.
   */
  public void replicateBlob(RequestContext ctx, String repository, String holder, BlobInfo blob) {
    for (String owner : ownersOf(repository)) {
      if (!owner.equals(holder)) {
        Bus.request(vertx, Addresses.REPLICA_BLOB, owner, owner.equals(localNode),
            new PullBlob(ctx, repository, holder, blob.digest(), blob.size()))
            .onFailure(err -> LOG.log(System.Logger.Level.DEBUG, "background copy of " + blob.digest() + " to "
                + owner + " failed: " + err.getMessage()));
      }
    }
  }

  /** Has every other owner pull the pushed manifest from the primary; succeeds once the quorum holds it. */
  private Future<ManifestPut> replicate(RequestContext ctx, String repository, List<String> owners, ManifestPut put,
      Reference reference) {
    if (owners.size() < 2) {
      return Future.succeededFuture(put);
    }
    String primary = owners.get(0);
    String tag = reference.isDigest() ? null : reference.tag().value();
    List<Future<?>> copies = new ArrayList<>();
    for (String replica : owners.subList(1, owners.size())) {
      copies.add(Bus.request(vertx, Addresses.REPLICA_MANIFEST, replica, replica.equals(localNode),
          new PullManifest(ctx, repository, primary, put.digest(), tag, put.createdMillis(), put.tagMillis(),
              put.tagReplaced())));
    }
    int required = writeQuorum == 0 ? owners.size() : Math.min(writeQuorum, owners.size());
    return Future.join(copies).transform(ignored -> {
      int held = 1;
      Throwable firstFailure = null;
      for (Future<?> f : copies) {
        if (f.succeeded()) {
          held++;
        } else if (firstFailure == null) {
          firstFailure = f.cause();
        }
      }
      if (held >= required) {
        return Future.succeededFuture(put);
      }
      return Future.failedFuture(new OciException(OciError.UNAVAILABLE, "manifest " + put.digest() + " is stored on "
          + held + " of " + owners.size() + " owners, " + required + " required: "
          + (firstFailure == null ? "" : firstFailure.getMessage()), 503));
    });
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference) {
    return delete(ctx, repository, reference,
        elsewhere -> primary(repository).deleteManifest(ctx, repository, reference, elsewhere));
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference, boolean presentElsewhere) {
    return deleteManifest(ctx, repository, reference);
  }

  /**
   * A client's delete (of a tag or manifest, or of the repository when {@code reference} is null):
   * stamped now, applied on every member but the primary (the owners must all succeed, the rest is
   * best effort), then on the primary, which reports it and answers "not found" only when no copy
   * held it. A refusal (an index lists the manifest) or a failure on an owner fails the delete.
   */
  private Future<Void> delete(RequestContext ctx, String repository, String reference,
      java.util.function.Function<Boolean, Future<Void>> onPrimary) {
    long millis = System.currentTimeMillis();
    List<String> owners = ownersOf(repository);
    String primary = owners.get(0);
    RequestContext internal = RequestContext.internal(ctx.requestId());
    // a refusal (an index lists the manifest) must come before anything is deleted anywhere, and a
    // delete of what no copy holds records nothing (no tombstones for names nobody had)
    Future<Deleted> check = Bus.request(vertx, Addresses.REPLICA_DELETE, primary, primary.equals(localNode),
        new ApplyDelete(internal, repository, reference, millis, true, true, true));
    List<Future<Boolean>> held = new ArrayList<>();
    for (String node : membership.current().nodeNames()) {
      if (!node.equals(primary)) {
        held.add(Bus.request(vertx, Addresses.REPLICA_DELETE, node, node.equals(localNode),
            new ApplyDelete(internal, repository, reference, millis, true, true, true)).map(Deleted::present)
            .otherwise(owners.contains(node))); // an owner that cannot say may hold it
      }
    }
    return Future.join(held).otherwiseEmpty().compose(v -> check).compose(atPrimary -> {
      boolean anywhere = atPrimary.present();
      for (Future<Boolean> f : held) {
        anywhere |= f.succeeded() && f.result();
      }
      if (!anywhere) {
        return Future.failedFuture(reference == null
            ? OciError.NAME_UNKNOWN.with("repository " + repository + " is not known")
            : OciError.MANIFEST_UNKNOWN.with("manifest " + reference + " is not known in " + repository));
      }
      List<Future<Boolean>> onOwners = new ArrayList<>();
      List<Future<Boolean>> onOthers = new ArrayList<>();
      for (String node : membership.current().nodeNames()) {
        if (node.equals(primary)) {
          continue;
        }
        boolean owner = owners.contains(node);
        Future<Boolean> f = Bus.request(vertx, Addresses.REPLICA_DELETE, node, node.equals(localNode),
            new ApplyDelete(internal, repository, reference, millis, true, owner, false)).map(Deleted::present);
        (owner ? onOwners : onOthers).add(f);
      }
      return applied(repository, atPrimary.present(), onOwners, onOthers, onPrimary);
    });
  }

  /**
   * Completes a delete once the other owners applied it: on the primary, which reports it. What the
   * primary held when the delete began counts (a sync may remove it there in between).
   */
  private Future<Void> applied(String repository, boolean atPrimary, List<Future<Boolean>> onOwners,
      List<Future<Boolean>> onOthers, java.util.function.Function<Boolean, Future<Void>> onPrimary) {
    List<Future<?>> all = new ArrayList<>(onOwners);
    all.addAll(onOthers);
    return Future.join(all).transform(ignored -> {
      boolean elsewhere = atPrimary;
      for (Future<Boolean> f : onOwners) {
        if (f.failed()) {
          if (f.cause() instanceof OciException e && e.error() != OciError.UNAVAILABLE && e.error() != OciError.UNKNOWN) {
            return Future.failedFuture(e);
          }
          return Future.failedFuture(new OciException(OciError.UNAVAILABLE, "the delete did not reach every owner of "
              + repository + ": " + f.cause().getMessage(), 503));
        }
        elsewhere |= f.result();
      }
      for (Future<Boolean> f : onOthers) {
        elsewhere |= f.succeeded() && f.result();
      }
      return onPrimary.apply(elsewhere);
    });
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return primary(repository).deleteBlob(ctx, repository, digest)
        .compose(v -> everywhereElse(repository,
            node -> client(node).deleteBlob(RequestContext.internal(ctx.requestId()), repository, digest)));
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository) {
    return delete(ctx, repository, null,
        elsewhere -> primary(repository).deleteRepository(ctx, repository, elsewhere));
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    return deleteRepository(ctx, repository);
  }

  /**
   * Runs a delete on every member but the primary, as internal work (the primary's delete is the one
   * reported as an event); "not there" and failures are ignored.
   */
  private Future<Void> everywhereElse(String repository, java.util.function.Function<String, Future<Void>> delete) {
    String primary = primaryOf(repository);
    List<Future<?>> all = new ArrayList<>();
    for (String node : membership.current().nodeNames()) {
      if (!node.equals(primary)) {
        all.add(delete.apply(node).otherwiseEmpty());
      }
    }
    return Future.join(all).otherwiseEmpty().mapEmpty();
  }

  /**
   * Sent to the target's primary, which completes it whole, also when the source repository lives on
   * other nodes (it copies the blob over: {@link RemoteMounts}), and so reports it once, as the caller's.
   */
  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return client(primaryOf(repository)).mountBlob(ctx, repository, digest, from);
  }

  @Override
  public Future<UploadStatus> startUpload(RequestContext ctx, String repository) {
    return primary(repository).startUpload(ctx, repository);
  }

  @Override
  public Future<UploadStatus> uploadStatus(RequestContext ctx, String repository, String uploadId) {
    return holder(uploadId).uploadStatus(ctx, repository, uploadId);
  }

  @Override
  public Future<Void> cancelUpload(RequestContext ctx, String repository, String uploadId) {
    return holder(uploadId).cancelUpload(ctx, repository, uploadId);
  }

  @Override
  public Future<CatalogPage> catalog(RequestContext ctx, int n, String last) {
    return catalog.page(ctx, n, last);
  }

  @Override
  public Future<Usage> usage(RequestContext ctx) {
    return client(localNode).usage(ctx);
  }

  @Override
  public Future<GcReport> collectGarbage(RequestContext ctx, boolean dryRun) {
    return client(localNode).collectGarbage(ctx, dryRun);
  }
}
