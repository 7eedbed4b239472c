package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.streams.ReadStream;

/**
 * The byte half of the storage API: moving blob bytes in (uploads) and out (downloads). On a single
 * node it is the local fast path ({@link LocalBlobTransfer}: upload files and zero-copy
 * {@code sendFile}); on a cluster the routing layer streams the bytes to and from the node that
 * holds the upload session or the blob. Called on an event loop; failures are OciExceptions (and
 * {@link BlobUploads.RangeMismatch} for out-of-order chunks).
 */
public interface BlobTransfer {
  /** Appends a request body to an upload session; returns the new acknowledged offset. */
  Future<Long> append(RequestContext ctx, RepositoryName repository, String uploadId, ReadStream<Buffer> body,
      long rangeStart, long expectedLength);

  /** Finishes an upload session (optional last body, digest check, commit). */
  Future<BlobInfo> finish(RequestContext ctx, RepositoryName repository, String uploadId, Digest expected,
      ReadStream<Buffer> body, long rangeStart, long expectedLength);

  /** Stores a whole blob sent in one request. */
  Future<BlobInfo> monolithic(RequestContext ctx, RepositoryName repository, Digest expected, ReadStream<Buffer> body,
      long expectedLength);

  /** Sends bytes {@code [offset, offset + length)} of a blob (as located by a stat) as the response body. */
  Future<Void> send(RequestContext ctx, RepositoryName repository, BlobInfo blob, long offset, long length, HttpServerResponse response);
}
