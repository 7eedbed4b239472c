package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;

/**
 * The byte path's half of {@link DistributionStorage}: blob downloads of a base path read the bytes
 * of the repository it serves; uploads into a base path are DENIED.
 */
public final class DistributionBytes implements BlobTransfer {
  private final BlobTransfer delegate;
  private final DistributionStorage distributions;
  private final ContentIndex index;

  public DistributionBytes(BlobTransfer delegate, DistributionStorage distributions, ContentIndex index) {
    this.delegate = delegate;
    this.distributions = distributions;
    this.index = index;
  }

  @Override
  public Future<Long> append(RequestContext ctx, RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength) {
    return denied(repository).compose(v -> delegate.append(ctx, repository, uploadId, body, rangeStart, expectedLength));
  }

  @Override
  public Future<BlobInfo> finish(RequestContext ctx, RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength) {
    return denied(repository).compose(v -> delegate.finish(ctx, repository, uploadId, expected, body, rangeStart,
        expectedLength));
  }

  @Override
  public Future<BlobInfo> monolithic(RequestContext ctx, RepositoryName repository, Digest expected,
      ReadStream<Buffer> body, long expectedLength) {
    return denied(repository).compose(v -> delegate.monolithic(ctx, repository, expected, body, expectedLength));
  }

  @Override
  public Future<Void> send(RequestContext ctx, RepositoryName repository, BlobInfo blob, long offset, long length,
      HttpServerResponse response) {
    if (index.distribution(repository.value()).isEmpty()) {
      return delegate.send(ctx, repository, blob, offset, length, response);
    }
    return delegate.send(ctx, RepositoryName.of(distributions.bytesOf(repository.value())), blob, offset, length,
        response);
  }

  private Future<Void> denied(RepositoryName repository) {
    return index.distribution(repository.value()).isPresent()
        ? Future.failedFuture(OciError.DENIED.with(repository + " is a distribution's base path: it is read-only"))
        : Future.succeededFuture();
  }
}
