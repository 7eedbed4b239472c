package io.flotilla.bus;

import io.flotilla.bus.DataMessages.OpenWrite;
import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobStore;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.Map;

/**
 * Serves this node's blob bytes to other nodes over its data channel ({@link DataChannelServer}):
 * reads of blob files, and forwarded upload bodies (chunks of a session this node holds, last chunks
 * that finish it, whole blobs for a repository this node owns), each a write purpose handed to the
 * local {@link BlobTransfer} (the verifying upload path). Thin: parameters in, local call, result out.
 * Deploy one instance: it binds the data port.
 */
public final class BlobTransferVerticle extends VerticleBase {
  /** Write purposes and their parameters, shared with the routing side. */
  public static final String APPEND = "upload.append";
  public static final String FINISH = "upload.finish";
  public static final String MONOLITHIC = "upload.monolithic";
  public static final String P_REPOSITORY = "repository";
  public static final String P_UPLOAD = "upload";
  public static final String P_DIGEST = "digest";
  public static final String P_RANGE_START = "rangeStart";

  private final String nodeId;
  private final BlobStore files;
  private final BlobTransfer local;
  private final DataChannelOptions options;
  private final DataChannelStats stats;
  private DataChannelServer server;

  public BlobTransferVerticle(String nodeId, BlobStore files, BlobTransfer local, DataChannelOptions options,
      DataChannelStats stats) {
    this.nodeId = nodeId;
    this.files = files;
    this.local = local;
    this.options = options;
    this.stats = stats;
  }

  /** The data port bound (useful when 0 was configured); -1 before start. */
  public int dataPort() {
    return server == null ? -1 : server.port();
  }

  @Override
  public Future<?> start() {
    return DataChannelServer.start(vertx, nodeId, options, digest -> files.path(Digest.parse(digest)), stats)
        .map(s -> {
          server = s;
          s.handleWrites(APPEND, (open, body) -> local.append(open.ctx(), repository(open), param(open, P_UPLOAD), body,
                  rangeStart(open), open.length())
              .map(offset -> new UploadStatus(repository(open).value(), param(open, P_UPLOAD), offset)));
          s.handleWrites(FINISH, (open, body) -> local.finish(open.ctx(), repository(open), param(open, P_UPLOAD),
              Digest.parse(param(open, P_DIGEST)), body, rangeStart(open), open.length()));
          s.handleWrites(MONOLITHIC, (open, body) -> local.monolithic(open.ctx(), repository(open),
              Digest.parse(param(open, P_DIGEST)), body, open.length()));
          return s;
        });
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private static RepositoryName repository(OpenWrite open) {
    return RepositoryName.of(param(open, P_REPOSITORY));
  }

  private static String param(OpenWrite open, String name) {
    String v = open.params().get(name);
    if (v == null) {
      throw OciError.BLOB_UPLOAD_INVALID.with("forwarded upload lacks " + name);
    }
    return v;
  }

  private static long rangeStart(OpenWrite open) {
    String v = open.params().get(P_RANGE_START);
    return v == null ? -1 : Long.parseLong(v);
  }

  /** Parameters of a forwarded write. */
  public static Map<String, String> params(String repository, String upload, String digest, long rangeStart) {
    var m = new java.util.HashMap<String, String>();
    m.put(P_REPOSITORY, repository);
    if (upload != null) {
      m.put(P_UPLOAD, upload);
    }
    if (digest != null) {
      m.put(P_DIGEST, digest);
    }
    if (rangeStart >= 0) {
      m.put(P_RANGE_START, Long.toString(rangeStart));
    }
    return m;
  }
}
