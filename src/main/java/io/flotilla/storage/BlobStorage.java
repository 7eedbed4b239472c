package io.flotilla.storage;

import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.vertx.core.Future;

/**
 * Blob metadata and upload sessions: the blob half of the storage API (the bytes themselves move
 * through {@link BlobUploads} and the blob files, on the node that holds them).
 */
public interface BlobStorage {
  Future<BlobInfo> statBlob(RequestContext ctx, String repository, String digest);

  Future<Void> deleteBlob(RequestContext ctx, String repository, String digest);

  /** Links a blob of {@code from} into {@code repository}; false when it cannot (then upload). */
  Future<Boolean> mountBlob(RequestContext ctx, String repository, String digest, String from);

  Future<UploadStatus> startUpload(RequestContext ctx, String repository);

  Future<UploadStatus> uploadStatus(RequestContext ctx, String repository, String uploadId);

  Future<Void> cancelUpload(RequestContext ctx, String repository, String uploadId);
}
