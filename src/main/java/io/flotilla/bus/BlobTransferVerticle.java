package io.flotilla.bus;

import io.flotilla.bus.StreamMessages.OpenWrite;
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
 * Serves this node's blob bytes to other nodes: reads of blob files, and forwarded upload bodies
 * (chunks of a session this node holds, last chunks that finish it, whole blobs for a repository
 * this node owns), each a {@link BlobStreamServer} write purpose handed to the local
 * {@link BlobTransfer}. Thin: parameters in, local call, result out.
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
  private BlobStreamServer server;

  public BlobTransferVerticle(String nodeId, BlobStore files, BlobTransfer local) {
    this.nodeId = nodeId;
    this.files = files;
    this.local = local;
  }

  @Override
  public Future<?> start() {
    return BlobStreamServer.start(vertx, nodeId, StreamOptions.DEFAULTS, digest -> files.path(Digest.parse(digest)))
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
