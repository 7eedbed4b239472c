package io.flotilla.cluster;

import io.flotilla.bus.BusRegistryClient;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.CatalogPage;
import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.TagPage;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.flotilla.storage.StorageTypes.Usage;
import io.flotilla.storage.UploadStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The storage API on a clustered node: every repository-scoped call goes over the bus to the
 * repository's primary owner ({@link Placement} over the current {@link ClusterView}); upload
 * sessions are reached at the node named in their id; the catalog fans out to every member.
 * Reads that find nothing at the owner (the data may still sit on a former owner while membership
 * changes) fall back to the other members in turn. A single-member cluster routes everything to
 * itself, through the same path. Replication to further owners is not done here yet.
 */
public final class RoutingStorage implements RegistryStorage {
  /** Outcomes of a read that mean "try another node". */
  private static final Set<OciError> TRY_ELSEWHERE =
      Set.of(OciError.NAME_UNKNOWN, OciError.MANIFEST_UNKNOWN, OciError.BLOB_UNKNOWN, OciError.UNAVAILABLE);

  private final Vertx vertx;
  private final Membership membership;
  private final String localNode;
  private final ClusterCatalog catalog;
  private final ConcurrentHashMap<String, BusRegistryClient> clients = new ConcurrentHashMap<>();

  public RoutingStorage(Vertx vertx, Membership membership, String localNode, ClusterCatalog catalog) {
    this.vertx = vertx;
    this.membership = membership;
    this.localNode = localNode;
    this.catalog = catalog;
  }

  /** The node name of a repository's primary owner (this node when the view is empty). */
  public String primaryOf(String repository) {
    return membership.placement().primary(repository).map(Member::nodeName).orElse(localNode);
  }

  private BusRegistryClient client(String node) {
    return clients.computeIfAbsent(node, n -> new BusRegistryClient(vertx, n, n.equals(localNode)));
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

  /** The primary first, then every other member, for reads that may fall back. */
  private List<String> readOrder(String repository) {
    String first = primaryOf(repository);
    List<String> order = new ArrayList<>();
    order.add(first);
    for (String n : membership.current().nodeNames()) {
      if (!n.equals(first)) {
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

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return read(repository, (node, s) -> s.getManifest(ctx, repository, reference));
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    return read(repository, (node, s) -> s.listTags(ctx, repository, n, last));
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    return primary(repository).referrers(ctx, repository, subject, artifactType);
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return read(repository, (node, s) -> s.statBlob(ctx, repository, digest)
        .map(info -> new BlobInfo(info.digest(), info.size(), node.equals(localNode) ? null : node)));
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return primary(request.repository()).putManifest(ctx, request);
  }

  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference) {
    return primary(repository).deleteManifest(ctx, repository, reference);
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return primary(repository).deleteBlob(ctx, repository, digest);
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return primary(repository).mountBlob(ctx, repository, digest, from);
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
