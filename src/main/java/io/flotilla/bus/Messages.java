package io.flotilla.bus;

import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.PutManifest;
import java.util.List;
import java.util.Map;

/**
 * Request records of the storage addresses. Each carries the caller's {@link RequestContext}
 * (identity and request id) so whichever node does the work can apply policy and emit events.
 */
public final class Messages {
  private Messages() {}

  public record GetManifest(RequestContext ctx, String repository, String reference) {}

  public record PutManifestRequest(RequestContext ctx, PutManifest manifest) {}

  public record DeleteManifest(RequestContext ctx, String repository, String reference, boolean presentElsewhere) {}

  public record ListTags(RequestContext ctx, String repository, int n, String last) {}

  public record ListReferrers(RequestContext ctx, String repository, String subject, String artifactType) {}

  public record ListCatalog(RequestContext ctx, int n, String last) {}

  public record StatBlob(RequestContext ctx, String repository, String digest) {}

  public record DeleteBlob(RequestContext ctx, String repository, String digest) {}

  public record DeleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {}

  public record MountBlob(RequestContext ctx, String repository, String digest, String from) {}

  public record StartUpload(RequestContext ctx, String repository) {}

  public record GetUpload(RequestContext ctx, String repository, String uploadId) {}

  public record CancelUpload(RequestContext ctx, String repository, String uploadId) {}

  public record GetUsage(RequestContext ctx) {}

  public record CollectGarbage(RequestContext ctx, boolean dryRun) {}

  /** Asks a node for what it holds of a repository. */
  public record GetInventory(RequestContext ctx, String repository) {}

  /**
   * Asks a node for its record of one tag or manifest ({@code reference}), or of every tag
   * ({@code reference} null), with times and tombstones (reads while membership changes).
   */
  public record GetRefStates(RequestContext ctx, String repository, String reference) {}

  /** Asks a node to copy onto itself everything {@code source} holds of a repository that it lacks. */
  public record SyncRepository(RequestContext ctx, String repository, String source) {}

  /**
   * Asks a node to copy one manifest (its blobs and child manifests first) of a repository from
   * {@code source}, and to point {@code tag} (nullable) at it as a new write.
   */
  public record PullManifest(RequestContext ctx, String repository, String source, String digest, String tag,
      long createdMillis, long tagMillis, long tagReplaced) {}

  /**
   * Asks a node to apply a delete stamped {@code millis}: of a tag or manifest ({@code reference}), or
   * of the whole repository ({@code reference} null). {@code fresh}: a client's delete, stamped after
   * what the node holds (and refused while an index lists the manifest); otherwise a copied delete
   * that loses to newer writes. {@code owner}: the node owns the repository and records the delete
   * even if it holds nothing of it (a node that does not own it applies it only to a copy it holds).
   * {@code checkOnly}: only check that the delete would be allowed, change nothing. The reply says
   * whether the node held what was (or would be) deleted.
   */
  public record ApplyDelete(RequestContext ctx, String repository, String reference, long millis, boolean fresh,
      boolean owner, boolean checkOnly) {}

  /** Reply of {@link ApplyDelete}. */
  public record Deleted(boolean present) {}

  /** Asks a node for its fingerprints of some repositories (0 for one it does not hold). */
  public record GetFingerprints(RequestContext ctx, List<String> repositories) {}

  /** Reply of {@link GetFingerprints}: repository -> fingerprint. */
  public record Fingerprints(Map<String, Long> fingerprints) {}

  /**
   * Tells a node that {@code from} finished a rebalancing pass in which every repository the node
   * owns and {@code from} holds was copied to it (see cluster.CatchUp).
   */
  public record CaughtUp(String from) {}

  /** Asks a node to copy a blob that {@code source} stores into {@code repository} (a cross-node mount). */
  public record PullBlob(RequestContext ctx, String repository, String source, String digest, long size) {}

  /** Asks a node for a small blob's bytes in one message (replication of small blobs). */
  public record GetBlobBytes(RequestContext ctx, String digest) {}

  /** Reply of operations that return nothing but success. */
  public record Done() {}

  /** Reply of a mount: whether the blob was linked. */
  public record Mounted(boolean mounted) {}

  /** Asks the node that made a token signing key for its public half (see auth.TokenKeys). */
  public record GetTokenKey(String kid) {}

  /** A token verification key as it travels: X.509 SubjectPublicKeyInfo, and until when it verifies. */
  public record TokenKeyInfo(String kid, byte[] encoded, long validUntilMillis) {}

  /**
   * One API key as nodes exchange it (auth.ApiKey on the wire): the SHA-256 of its secret, never the
   * secret. {@code expiresMillis} and {@code revokedMillis} are 0 for never and not revoked.
   */
  public record ApiKeyEntry(String id, String user, String name, long createdMillis, long expiresMillis,
      long revokedMillis, String secretSha256) {}

  /**
   * API keys: pushed to every member after a create or revoke (reply {@link Done}), and a node's
   * reply to {@link GetApiKeys}. {@code unconfirmed}: the sender was down long enough to doubt its
   * own keys (see auth.ApiKeys), so what it lacks says nothing about what others should forget.
   */
  public record ApiKeySet(List<ApiKeyEntry> keys, boolean unconfirmed) {
    public ApiKeySet {
      keys = List.copyOf(keys == null ? List.of() : keys);
    }
  }

  /** Asks a node for every API key it holds (anti-entropy); {@code from} is the asking node. */
  public record GetApiKeys(String from) {}

  /**
   * One star or bookmark decision as nodes exchange it (search.PrefsStore.Pref on the wire):
   * {@code kind} is {@code STAR} or {@code BOOKMARK}; the later (millis, node) of one key wins.
   */
  public record PrefEntry(String user, String repository, String kind, boolean on, long millis, String node) {}

  /** Star and bookmark records: pushed after a toggle, or a node's whole set (the reply to {@link GetPrefs}). */
  public record PrefSet(List<PrefEntry> prefs) {
    public PrefSet {
      prefs = List.copyOf(prefs == null ? List.of() : prefs);
    }
  }

  /** Asks a node for every star and bookmark record it holds (anti-entropy); {@code from} is the asking node. */
  public record GetPrefs(String from) {}

  /** One content object (content.ContentRecord on the wire): kind, key, revision, writer, tombstone, JSON body. */
  public record ContentEntry(String kind, String key, long rev, String node, boolean deleted, String body) {}

  /** Content records: pushed after a write, or a node's whole set (the reply to {@link GetContent}). */
  public record ContentSet(List<ContentEntry> records) {
    public ContentSet {
      records = List.copyOf(records == null ? List.of() : records);
    }
  }

  /** Asks a node for every content record it holds (anti-entropy); {@code from} is the asking node. */
  public record GetContent(String from) {}

  /**
   * A task for the repository's primary owner to queue and run (content.TaskRunner): its id, its
   * name ({@code sync}, {@code push}), the repository, its parameters as JSON, and who asked.
   */
  public record SubmitTask(String id, String name, String repository, String params, String identity) {}

  /** A task was queued: its id and the node that runs it. */
  public record TaskAccepted(String id, String node) {}

  /** Asks the node running a task to cancel it. */
  public record CancelTask(String id, String identity) {}

  /**
   * A member's challenge to another ({@code cluster.MemberProof}): answer with this nonce, your node
   * name and your Hazelcast member UUID.
   */
  public record ProveMembership(String nonce, String challenger) {}

  /** Reply of {@link ProveMembership}: the nonce echoed, with the replying node's name and member UUID. */
  public record MembershipProof(String nonce, String nodeName, String memberUuid) {}

  /**
   * One search query as a member answers it ({@code io.flotilla.search}): the operation and its
   * arguments, the page the caller asked for, and the view the query started with, so that every
   * member agrees which of them answers for a repository.
   *
   * @param operation {@code repos}, {@code images}, {@code repo} (one repository's summary and images),
   *     {@code referrers} or {@code layers} (an image's layer lists, for base/derived queries)
   * @param text the search text or reference, as the operation reads it (may be empty)
   * @param repository the one repository of a single-repository operation, or empty
   * @param baseLayers ordered layer lists of the image that base/derived queries compare with (may be empty)
   * @param baseDigests that image's manifest digests: those manifests are never its own base or derivative
   * @param filter {@code Os}, {@code Arch} (lowercased), {@code HasToBeSigned}, {@code IsStarred},
   *     {@code IsBookmarked}, as strings; absent keys do not filter
   * @param members the view's node names; {@code catchingUp} those of them that may hold stale copies
   * @param keysOnly answer the hits' sort keys without summaries (the first round of a deep page)
   * @param only when not empty, answer for these repositories only, owner or not (the second round of
   *     a deep page: the summaries of the page's hits, from the members that listed them)
   */
  public record SearchRequest(RequestContext ctx, String operation, String text, String repository,
      List<List<String>> baseLayers, List<String> baseDigests, Map<String, List<String>> filter, int limit, int offset,
      String sort, List<String> members, List<String> catchingUp, int replicas, boolean keysOnly, List<String> only) {
    public SearchRequest {
      only = only == null ? List.of() : List.copyOf(only);
      text = text == null ? "" : text;
      repository = repository == null ? "" : repository;
      baseLayers = baseLayers == null ? List.of() : List.copyOf(baseLayers);
      baseDigests = baseDigests == null ? List.of() : List.copyOf(baseDigests);
      filter = filter == null ? Map.of() : Map.copyOf(filter);
      members = members == null ? List.of() : List.copyOf(members);
      catchingUp = catchingUp == null ? List.of() : List.copyOf(catchingUp);
    }

    /** This request asking for the keys only, or for the full hits of {@code repositories} only. */
    public SearchRequest round(boolean keys, List<String> repositories, int newLimit, int newOffset) {
      return new SearchRequest(ctx, operation, text, repository, baseLayers, baseDigests, filter, newLimit, newOffset, sort,
          members, catchingUp, replicas, keys, repositories);
    }
  }

  /**
   * One result of a search: the keys every sort order reads, and the summary the query returns
   * (a GraphQL-shaped JSON object: {@code RepoSummary}, {@code ImageSummary}, {@code Referrer} ...).
   *
   * @param updated the LastUpdated time in epoch nanoseconds, 0 when unknown
   */
  public record SearchHit(String repo, String tag, String digest, long rank, long updated, long downloads,
      long stars, Map<String, Object> summary) {
    public SearchHit {
      tag = tag == null ? "" : tag;
      digest = digest == null ? "" : digest;
    }
  }

  /**
   * A member's answer: its best {@code offset + limit} hits in the requested order (all of them for
   * a limit of 0) and how many it has in all.
   */
  public record SearchReply(List<SearchHit> hits, int total) {
    public SearchReply {
      hits = hits == null ? List.of() : List.copyOf(hits);
    }
  }

  /** Asks a node for its pull count table ({@code search.PullCounts}); {@code from} is the asking node. */
  public record GetPullCounts(String from) {}

  /** A node's pull count table in {@code PullCounts}' compact binary form (the reply to {@link GetPullCounts}). */
  public record PullCountTable(byte[] table) {}

  /**
   * A whole GraphQL search request from an in-cluster consumer, answered like
   * {@code /v2/_zot/ext/search} for the identity in {@code ctx} (the cluster admits only its members,
   * so a member's word for the identity is taken).
   *
   * @param variables may be null
   * @param operationName may be null
   */
  public record SearchGraphQlRequest(RequestContext ctx, String query, String operationName,
      Map<String, Object> variables) {}

  /** The answer to a {@link SearchGraphQlRequest}: the HTTP status the endpoint would give and the JSON body. */
  public record SearchGraphQlAnswer(int status, String json) {}

  /**
   * A scan result for a repository's other owners (scan.Scanner): the image scan in scanning's JSON form
   * ({@code scan.ScanJson} of an {@code ImageScan}), with its package list, so a failover scans nothing.
   */
  public record ScanResultPut(String repository, byte[] scan) {}

  /** Asks a node for its stored scans of these manifest digests (scan.Scanner, before scanning itself). */
  public record ScanResultGet(List<String> digests) {
    public ScanResultGet {
      digests = digests == null ? List.of() : List.copyOf(digests);
    }
  }

  /** The stored scans a node holds of the digests asked for, each in scanning's JSON form (may be fewer). */
  public record ScanResultSet(List<byte[]> scans) {
    public ScanResultSet {
      scans = scans == null ? List.of() : List.copyOf(scans);
    }
  }
}
