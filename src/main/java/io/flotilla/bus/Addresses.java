package io.flotilla.bus;

import io.flotilla.bus.Messages.ScanResultGet;
import io.flotilla.bus.Messages.ScanResultPut;
import io.flotilla.bus.Messages.ScanResultSet;
import io.flotilla.bus.Messages.ApiKeySet;
import io.flotilla.bus.Messages.ApplyDelete;
import io.flotilla.bus.Messages.CancelTask;
import io.flotilla.bus.Messages.CancelUpload;
import io.flotilla.bus.Messages.ContentSet;
import io.flotilla.bus.Messages.GetContent;
import io.flotilla.bus.Messages.SubmitTask;
import io.flotilla.bus.Messages.TaskAccepted;
import io.flotilla.bus.Messages.CaughtUp;
import io.flotilla.bus.Messages.CollectGarbage;
import io.flotilla.bus.Messages.DeleteBlob;
import io.flotilla.bus.Messages.DeleteManifest;
import io.flotilla.bus.Messages.DeleteRepository;
import io.flotilla.bus.Messages.Deleted;
import io.flotilla.bus.Messages.Done;
import io.flotilla.bus.Messages.Fingerprints;
import io.flotilla.bus.Messages.GetApiKeys;
import io.flotilla.bus.Messages.GetBlobBytes;
import io.flotilla.bus.Messages.GetFingerprints;
import io.flotilla.bus.Messages.GetInventory;
import io.flotilla.bus.Messages.GetRefStates;
import io.flotilla.bus.Messages.GetManifest;
import io.flotilla.bus.Messages.GetPrefs;
import io.flotilla.bus.Messages.PrefSet;
import io.flotilla.bus.Messages.GetPullCounts;
import io.flotilla.bus.Messages.PullCountTable;
import io.flotilla.bus.Messages.GetUpload;
import io.flotilla.bus.Messages.GetTokenKey;
import io.flotilla.bus.Messages.TokenKeyInfo;
import io.flotilla.bus.Messages.GetUsage;
import io.flotilla.bus.Messages.ListCatalog;
import io.flotilla.bus.Messages.ListReferrers;
import io.flotilla.bus.Messages.ListTags;
import io.flotilla.bus.Messages.MountBlob;
import io.flotilla.bus.Messages.MembershipProof;
import io.flotilla.bus.Messages.Mounted;
import io.flotilla.bus.Messages.ProveMembership;
import io.flotilla.bus.Messages.PullBlob;
import io.flotilla.bus.Messages.PullManifest;
import io.flotilla.bus.Messages.PutManifestRequest;
import io.flotilla.bus.Messages.SearchGraphQlAnswer;
import io.flotilla.bus.Messages.SearchGraphQlRequest;
import io.flotilla.bus.Messages.SearchReply;
import io.flotilla.bus.Messages.SearchRequest;
import io.flotilla.bus.Messages.StartUpload;
import io.flotilla.bus.Messages.StatBlob;
import io.flotilla.bus.Messages.SyncRepository;
import io.flotilla.storage.StorageTypes.BlobBytes;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.CatalogPage;
import io.flotilla.storage.StorageTypes.GcReport;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.RefStates;
import io.flotilla.storage.StorageTypes.RepoInventory;
import io.flotilla.storage.StorageTypes.SyncResult;
import io.flotilla.storage.StorageTypes.TagPage;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.flotilla.storage.StorageTypes.Usage;
import java.time.Duration;
import java.util.List;

/** Every event bus address of Flotilla, in one place. Naming: {@code flotilla.<area>.<noun>.<verb>}. */
public final class Addresses {
  private static final Duration READ = Duration.ofSeconds(10);
  private static final Duration WRITE = Duration.ofSeconds(60);

  public static final Address<GetManifest, ManifestContent> MANIFEST_GET =
      new Address<>("flotilla.storage.manifest.get", GetManifest.class, ManifestContent.class, READ);
  public static final Address<PutManifestRequest, ManifestPut> MANIFEST_PUT =
      new Address<>("flotilla.storage.manifest.put", PutManifestRequest.class, ManifestPut.class, WRITE);
  public static final Address<DeleteManifest, Done> MANIFEST_DELETE =
      new Address<>("flotilla.storage.manifest.delete", DeleteManifest.class, Done.class, WRITE);
  public static final Address<ListTags, TagPage> TAGS_LIST =
      new Address<>("flotilla.storage.tags.list", ListTags.class, TagPage.class, READ);
  public static final Address<ListReferrers, Referrers> REFERRERS_LIST =
      new Address<>("flotilla.storage.referrers.list", ListReferrers.class, Referrers.class, READ);
  public static final Address<ListCatalog, CatalogPage> CATALOG_LIST =
      new Address<>("flotilla.storage.catalog.list", ListCatalog.class, CatalogPage.class, READ);
  public static final Address<StatBlob, BlobInfo> BLOB_STAT =
      new Address<>("flotilla.storage.blob.stat", StatBlob.class, BlobInfo.class, READ);
  public static final Address<DeleteBlob, Done> BLOB_DELETE =
      new Address<>("flotilla.storage.blob.delete", DeleteBlob.class, Done.class, WRITE);
  public static final Address<DeleteRepository, Done> REPOSITORY_DELETE =
      new Address<>("flotilla.storage.repository.delete", DeleteRepository.class, Done.class, WRITE);
  /** As long as {@link #REPLICA_BLOB}: the target's primary copies the blob when the source lives elsewhere. */
  public static final Address<MountBlob, Mounted> BLOB_MOUNT =
      new Address<>("flotilla.storage.blob.mount", MountBlob.class, Mounted.class, Duration.ofMinutes(10));
  public static final Address<StartUpload, UploadStatus> UPLOAD_START =
      new Address<>("flotilla.storage.upload.start", StartUpload.class, UploadStatus.class, WRITE);
  public static final Address<GetUpload, UploadStatus> UPLOAD_GET =
      new Address<>("flotilla.storage.upload.get", GetUpload.class, UploadStatus.class, READ);
  public static final Address<CancelUpload, Done> UPLOAD_CANCEL =
      new Address<>("flotilla.storage.upload.cancel", CancelUpload.class, Done.class, WRITE);
  public static final Address<GetUsage, Usage> USAGE_GET =
      new Address<>("flotilla.storage.usage.get", GetUsage.class, Usage.class, READ);
  public static final Address<CollectGarbage, GcReport> GC_RUN =
      new Address<>("flotilla.storage.gc.run", CollectGarbage.class, GcReport.class, Duration.ofMinutes(30));

  /**
   * Negotiates a read of a blob region over the target's data channel (see {@link DataChannelServer}):
   * the reply names the endpoint and a single-use ticket; the bytes then cross a TCP connection.
   */
  public static final Address<DataMessages.DataReadRequest, DataMessages.DataGrant> DATA_READ =
      new Address<>("flotilla.data.read", DataMessages.DataReadRequest.class, DataMessages.DataGrant.class, READ);
  /** Negotiates a write into a server-side handler over the target's data channel. */
  public static final Address<DataMessages.DataWriteRequest, DataMessages.DataGrant> DATA_WRITE =
      new Address<>("flotilla.data.write", DataMessages.DataWriteRequest.class, DataMessages.DataGrant.class, READ);

  /** What a node holds of a repository (replication). */
  public static final Address<GetInventory, RepoInventory> REPLICA_INVENTORY =
      new Address<>("flotilla.replica.inventory.get", GetInventory.class, RepoInventory.class, READ);
  /**
   * A node's record of a tag, a manifest or every tag, with times (reads that merge the copies while
   * membership changes). Short: a read waits for the slowest member.
   */
  public static final Address<GetRefStates, RefStates> REPLICA_REFS =
      new Address<>("flotilla.replica.refs.get", GetRefStates.class, RefStates.class, Duration.ofSeconds(5));
  /** Copy a whole repository from a source node (rebalancing, hand-off, re-replication). */
  public static final Address<SyncRepository, SyncResult> REPLICA_SYNC =
      new Address<>("flotilla.replica.repository.sync", SyncRepository.class, SyncResult.class, Duration.ofMinutes(30));
  /** Copy one pushed manifest and what it references from its primary (write replication). */
  public static final Address<PullManifest, SyncResult> REPLICA_MANIFEST =
      new Address<>("flotilla.replica.manifest.pull", PullManifest.class, SyncResult.class, Duration.ofMinutes(10));
  /** Copy one blob from another node (mount across owners). */
  public static final Address<PullBlob, SyncResult> REPLICA_BLOB =
      new Address<>("flotilla.replica.blob.pull", PullBlob.class, SyncResult.class, Duration.ofMinutes(10));

  /**
   * A small blob's bytes in one reply (replication): a data-channel transfer costs a negotiation
   * round trip and a TCP connection (with TLS, a handshake), more than the bytes of a config or a
   * small layer.
   */
  public static final Address<GetBlobBytes, BlobBytes> REPLICA_BLOB_BYTES =
      new Address<>("flotilla.replica.blob.bytes", GetBlobBytes.class, BlobBytes.class, READ);

  /** Apply a delete with a given time (a client's delete on the other owners, or a copied one). */
  public static final Address<ApplyDelete, Deleted> REPLICA_DELETE =
      new Address<>("flotilla.replica.delete", ApplyDelete.class, Deleted.class, WRITE);
  /** A node's fingerprints of some repositories (rebalancing skips owners whose copy agrees). */
  public static final Address<GetFingerprints, Fingerprints> REPLICA_FINGERPRINTS =
      new Address<>("flotilla.replica.fingerprints.get", GetFingerprints.class, Fingerprints.class, READ);
  /** A rebalancing pass has copied a node everything it owns from the sender (see cluster.CatchUp). */
  public static final Address<CaughtUp, Done> REPLICA_CAUGHT_UP =
      new Address<>("flotilla.replica.caughtup", CaughtUp.class, Done.class, READ);

  /** The public key of one of this node's token signing keys (any node verifies any node's tokens). */
  public static final Address<GetTokenKey, TokenKeyInfo> AUTH_TOKEN_KEY =
      new Address<>("flotilla.auth.tokenkey.get", GetTokenKey.class, TokenKeyInfo.class, READ);
  /** API keys created or revoked on the sender, to merge (see auth.ApiKeyReplication). */
  public static final Address<ApiKeySet, Done> APIKEYS_PUSH =
      new Address<>("flotilla.auth.apikeys.push", ApiKeySet.class, Done.class, Duration.ofSeconds(5));
  /** Every API key a node holds (anti-entropy: start, membership changes and every 30 s). */
  public static final Address<GetApiKeys, ApiKeySet> APIKEYS_GET =
      new Address<>("flotilla.auth.apikeys.get", GetApiKeys.class, ApiKeySet.class, Duration.ofSeconds(5));
  /** Stars and bookmarks toggled on the sender, to merge (see search.PrefsReplication). */
  public static final Address<PrefSet, Done> PREFS_PUSH =
      new Address<>("flotilla.search.prefs.push", PrefSet.class, Done.class, Duration.ofSeconds(5));
  /** Every star and bookmark record a node holds (anti-entropy: start, membership changes and every 30 s). */
  public static final Address<GetPrefs, PrefSet> PREFS_GET =
      new Address<>("flotilla.search.prefs.get", GetPrefs.class, PrefSet.class, Duration.ofSeconds(10));

  /** Content records (remotes, settings, versions, ...) written on the sender, to merge (content.ContentReplication). */
  public static final Address<ContentSet, Done> CONTENT_PUSH =
      new Address<>("flotilla.content.push", ContentSet.class, Done.class, Duration.ofSeconds(5));
  /** Every content record a node holds (anti-entropy: start, membership changes and every 30 s). */
  public static final Address<GetContent, ContentSet> CONTENT_GET =
      new Address<>("flotilla.content.get", GetContent.class, ContentSet.class, Duration.ofSeconds(15));
  /** A task for a repository's primary owner to queue and run (content.TaskRunner). */
  public static final Address<SubmitTask, TaskAccepted> CONTENT_TASK_SUBMIT =
      new Address<>("flotilla.content.task.submit", SubmitTask.class, TaskAccepted.class, Duration.ofSeconds(10));
  /** Cancels a task on the node that runs it. */
  public static final Address<CancelTask, Done> CONTENT_TASK_CANCEL =
      new Address<>("flotilla.content.task.cancel", CancelTask.class, Done.class, Duration.ofSeconds(5));

  /**
   * A member's proof that it holds the cluster certificate (see cluster.MemberProof): only a node
   * that can speak mutual TLS on the bus can receive the challenge and answer it.
   */
  public static final Address<ProveMembership, MembershipProof> MEMBER_PROVE =
      new Address<>("flotilla.cluster.member.prove", ProveMembership.class, MembershipProof.class, Duration.ofSeconds(5));

  /** All addresses, for codec registration. */
  /**
   * A member's part of a search query (io.flotilla.search): its repositories' matches, best first.
   * Also the documented address for in-cluster consumers: send it to any member with its node name.
   */
  public static final Address<SearchRequest, SearchReply> SEARCH_QUERY =
      new Address<>("flotilla.search.query", SearchRequest.class, SearchReply.class, Duration.ofSeconds(5));

  /** A node's pull count table, asked for by a node that starts (search.PullCounts). */
  public static final Address<GetPullCounts, PullCountTable> SEARCH_PULLS_GET =
      new Address<>("flotilla.search.pulls.get", GetPullCounts.class, PullCountTable.class, Duration.ofSeconds(5));

  /**
   * zot's search API for in-cluster consumers: a whole GraphQL request, answered by the node it is
   * sent to (any member) exactly as {@code /v2/_zot/ext/search} answers it, fan-out included.
   */
  public static final Address<SearchGraphQlRequest, SearchGraphQlAnswer> SEARCH_GRAPHQL =
      new Address<>("flotilla.search.graphql", SearchGraphQlRequest.class, SearchGraphQlAnswer.class,
          Duration.ofSeconds(15));

  /**
   * Published (to every member): a node's changed pull counts ({@code PullCountTable} of its own
   * column, whole values), every couple of seconds while it serves pulls. Not a request: no reply.
   */
  public static final String SEARCH_PULLS_DELTA = "flotilla.search.pulls.delta";

  /** A scan result from a repository's primary owner, for the other owners to store (scan.Scanner). */
  public static final Address<ScanResultPut, Done> SCAN_RESULT_PUT =
      new Address<>("flotilla.scan.result.put", ScanResultPut.class, Done.class, Duration.ofSeconds(10));

  /** A node's stored scans of some manifests, asked for by a new primary before it scans them itself. */
  public static final Address<ScanResultGet, ScanResultSet> SCAN_RESULT_GET =
      new Address<>("flotilla.scan.result.get", ScanResultGet.class, ScanResultSet.class, Duration.ofSeconds(10));

  /**
   * Published (to every member) by the coordinator of database rollouts: the digest of the vulnerability
   * database every member is ready with, to match with from now on (scan.VulnDbRollout). A string, no reply.
   */
  public static final String SCAN_DB_ACTIVATE = "flotilla.scan.vulndb.activate";

  public static final List<Address<?, ?>> ALL = List.of(SEARCH_QUERY, SEARCH_GRAPHQL, SEARCH_PULLS_GET, MANIFEST_GET, MANIFEST_PUT, MANIFEST_DELETE, TAGS_LIST,
      REFERRERS_LIST, CATALOG_LIST, BLOB_STAT, BLOB_DELETE, REPOSITORY_DELETE, BLOB_MOUNT, UPLOAD_START, UPLOAD_GET, UPLOAD_CANCEL,
      USAGE_GET, GC_RUN, DATA_READ, DATA_WRITE, REPLICA_INVENTORY, REPLICA_REFS, REPLICA_SYNC, REPLICA_MANIFEST, REPLICA_BLOB, REPLICA_BLOB_BYTES,
      REPLICA_DELETE, REPLICA_FINGERPRINTS, REPLICA_CAUGHT_UP,
      AUTH_TOKEN_KEY, APIKEYS_PUSH, APIKEYS_GET, PREFS_PUSH, PREFS_GET, MEMBER_PROVE,
      CONTENT_PUSH, CONTENT_GET, CONTENT_TASK_SUBMIT, CONTENT_TASK_CANCEL, SCAN_RESULT_PUT, SCAN_RESULT_GET);

  private Addresses() {}
}
