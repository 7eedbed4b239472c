package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.storage.ForwardingStorage;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.flotilla.storage.StorageTypes.ManifestPut;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.flotilla.storage.StorageTypes.Referrers;
import io.flotilla.storage.StorageTypes.TagPage;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Serves distributions through the registry API: a request for a distribution's base path reads the
 * repository version it serves now. A tag resolves in that version's tag map (one record, so a pull
 * sees the version before a promotion or the one after, never a mix); digests, blobs and referrers are
 * read from the repository; tag lists list the version's tags. Base paths are read-only: writes are
 * DENIED. Every other name passes through untouched.
 */
public final class DistributionStorage extends ForwardingStorage {
  private final ContentIndex index;
  private final ContentService content;

  public DistributionStorage(RegistryStorage delegate, ContentIndex index, ContentService content) {
    super(delegate);
    this.index = index;
    this.content = content;
  }

  /** What a base path serves now: the repository and the version. */
  record Served(String repository, RepoVersion version) {}

  /** The repository and version {@code name} serves, when it is a distribution's base path; NAME_UNKNOWN when it serves nothing yet. */
  Optional<Served> served(String name) {
    Optional<Distribution> d = index.distribution(name);
    if (d.isEmpty()) {
      return Optional.empty();
    }
    Publication p = content.served(d.get()).orElseThrow(() -> OciError.NAME_UNKNOWN.with("distribution "
        + d.get().name() + " serves no publication yet"));
    RepoVersion v = content.version(p.repository(), p.version()).orElseThrow(() -> OciError.NAME_UNKNOWN.with(
        "version " + p.version() + " of " + p.repository() + " is gone"));
    return Optional.of(new Served(p.repository(), v));
  }

  /** {@code f} of what {@code name} serves; a failure of the lookup (NAME_UNKNOWN) as a failed future. */
  private <T> Future<T> serving(String name, java.util.function.Function<Optional<Served>, Future<T>> f) {
    Optional<Served> s;
    try {
      s = served(name);
    } catch (OciException e) {
      return Future.failedFuture(e);
    }
    return f.apply(s);
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    return serving(repository, s -> manifest(ctx, repository, reference, s));
  }

  private Future<ManifestContent> manifest(RequestContext ctx, String repository, String reference, Optional<Served> s) {
    if (s.isEmpty()) {
      return delegate.getManifest(ctx, repository, reference);
    }
    if (Digest.looksLikeDigest(reference)) {
      return delegate.getManifest(ctx, s.get().repository(), reference);
    }
    String digest = s.get().version().tags().get(reference);
    if (digest == null) {
      return Future.failedFuture(OciError.MANIFEST_UNKNOWN.with("no tag " + reference + " in version "
          + s.get().version().number() + " served at " + repository));
    }
    return delegate.getManifest(ctx, s.get().repository(), digest);
  }

  @Override
  public Future<TagPage> listTags(RequestContext ctx, String repository, int n, String last) {
    return serving(repository, s -> tags(ctx, repository, n, last, s));
  }

  private Future<TagPage> tags(RequestContext ctx, String repository, int n, String last, Optional<Served> s) {
    if (s.isEmpty()) {
      return delegate.listTags(ctx, repository, n, last);
    }
    List<String> tags = new ArrayList<>();
    boolean more = false;
    for (String t : s.get().version().tags().keySet()) {
      if (last != null && t.compareTo(last) <= 0) {
        continue;
      }
      if (n >= 0 && tags.size() == n) {
        more = true;
        break;
      }
      tags.add(t);
    }
    return Future.succeededFuture(new TagPage(repository, tags, more));
  }

  @Override
  public Future<Referrers> referrers(RequestContext ctx, String repository, String subject, String artifactType) {
    return serving(repository, s -> delegate.referrers(ctx, s.map(Served::repository).orElse(repository), subject,
        artifactType));
  }

  @Override
  public Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest) {
    return serving(repository, s -> delegate.statBlob(ctx, s.map(Served::repository).orElse(repository), digest));
  }

  @Override
  public Future<ManifestPut> putManifest(RequestContext ctx, PutManifest request) {
    return readOnly(request.repository()).compose(v -> delegate.putManifest(ctx, request));
  }

  /**
   * Deletes as asked, except a manifest (by digest) that a retained version of a managed repository
   * names: DENIED, so that every version stays pullable until retention drops it. Tags may go: the
   * versions keep what they named.
   */
  @Override
  public Future<Void> deleteManifest(RequestContext ctx, String repository, String reference, boolean presentElsewhere) {
    return readOnly(repository).compose(v -> {
      if (Digest.looksLikeDigest(reference) && index.managed(repository).isPresent()) {
        for (RepoVersion version : content.versions(repository)) {
          if (version.tags().containsValue(reference)) {
            return Future.failedFuture(OciError.DENIED.with(reference + " is in version " + version.number() + " of "
                + repository + ": it stays until retention drops that version"));
          }
        }
      }
      return delegate.deleteManifest(ctx, repository, reference, presentElsewhere);
    });
  }

  @Override
  public Future<Void> deleteBlob(RequestContext ctx, String repository, String digest) {
    return readOnly(repository).compose(v -> delegate.deleteBlob(ctx, repository, digest));
  }

  @Override
  public Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from) {
    return readOnly(repository).compose(v -> from == null ? delegate.mountBlob(ctx, repository, digest, null)
        : serving(from, s -> delegate.mountBlob(ctx, repository, digest, s.map(Served::repository).orElse(from))));
  }

  @Override
  public Future<UploadStatus> startUpload(RequestContext ctx, String repository) {
    return readOnly(repository).compose(v -> delegate.startUpload(ctx, repository));
  }

  @Override
  public Future<Void> deleteRepository(RequestContext ctx, String repository, boolean presentElsewhere) {
    return readOnly(repository).compose(v -> delegate.deleteRepository(ctx, repository, presentElsewhere));
  }

  private Future<Void> readOnly(String repository) {
    if (index.distribution(repository).isPresent()) {
      return Future.failedFuture(OciError.DENIED.with(repository + " is a distribution's base path: it is read-only"));
    }
    return Future.succeededFuture();
  }

  /** The repository whose bytes a request for {@code name} reads (itself unless it is a base path). */
  String bytesOf(String name) {
    try {
      return served(name).map(Served::repository).orElse(name);
    } catch (OciException e) {
      return name;
    }
  }
}
