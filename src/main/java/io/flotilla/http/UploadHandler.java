package io.flotilla.http;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.BlobStorage;
import io.flotilla.storage.BlobTransfer;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.flotilla.storage.StorageTypes.UploadStatus;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;

/**
 * Blob uploads: {@code POST /v2/<name>/blobs/uploads/} (new session, monolithic with
 * {@code ?digest=}, or cross-repository mount with {@code ?mount=&from=}) and
 * {@code /v2/<name>/blobs/uploads/<id>}: PATCH chunks (Content-Range checked, 416 out of order),
 * PUT to finish, GET status, DELETE to cancel.
 */
final class UploadHandler {
  private final BlobStorage storage;
  private final BlobTransfer uploads;

  UploadHandler(BlobStorage storage, BlobTransfer uploads) {
    this.storage = storage;
    this.uploads = uploads;
  }

  Future<Void> start(Exchange x) {
    if (x.request().method() != HttpMethod.POST) {
      return Future.failedFuture(OciError.UNSUPPORTED.with(x.request().method() + " is not supported on uploads"));
    }
    RepositoryName name = RepositoryName.of(x.route().name());
    String mount = x.param("mount");
    String from = x.param("from");
    if (mount != null && from != null && !from.isEmpty() && x.mountAllowed()) {
      Digest digest = Digest.parse(mount);
      RepositoryName.of(from);
      return storage.mountBlob(x.ctx(), name.value(), digest.toString(), from).compose(mounted -> mounted
          ? created(x, new BlobInfo(digest.toString(), -1))
          : newSession(x));
    }
    String digest = x.param("digest");
    if (digest != null) {
      Digest expected = Digest.parse(digest);
      return uploads.monolithic(x.ctx(), name, expected, x.request(), x.contentLength())
          .compose(info -> created(x, info));
    }
    return newSession(x);
  }

  private Future<Void> newSession(Exchange x) {
    return storage.startUpload(x.ctx(), x.route().name()).compose(s -> status(x, s, 202));
  }

  Future<Void> handle(Exchange x) {
    HttpMethod m = x.request().method();
    String name = x.route().name();
    String id = x.route().ref();
    if (m == HttpMethod.GET) {
      return storage.uploadStatus(x.ctx(), name, id).compose(s -> status(x, s, 204));
    }
    if (m == HttpMethod.DELETE) {
      return storage.cancelUpload(x.ctx(), name, id)
          .compose(v -> x.response().setStatusCode(204).end());
    }
    RepositoryName repo = RepositoryName.of(name);
    long[] range = contentRange(x);
    if (m == HttpMethod.PATCH) {
      return uploads.append(x.ctx(), repo, id, x.request(), range == null ? -1 : range[0], x.contentLength())
          .compose(offset -> status(x, new UploadStatus(name, id, offset), 202));
    }
    if (m == HttpMethod.PUT) {
      String digest = x.param("digest");
      if (digest == null) {
        throw OciError.DIGEST_INVALID.with("digest query parameter is required to finish an upload");
      }
      Digest expected = Digest.parse(digest);
      boolean body = x.hasBody();
      return uploads.finish(x.ctx(), repo, id, expected, body ? x.request() : null, range == null ? -1 : range[0],
          body ? x.contentLength() : -1).compose(info -> created(x, info));
    }
    return Future.failedFuture(OciError.UNSUPPORTED.with(m + " is not supported on uploads"));
  }

  /** Parses {@code Content-Range: <start>-<end>} (optionally {@code bytes }-prefixed); null when absent. */
  static long[] contentRange(Exchange x) {
    String h = x.request().getHeader("Content-Range");
    if (h == null) {
      return null;
    }
    String v = h.trim();
    if (v.startsWith("bytes")) {
      v = v.substring(5).trim();
      if (v.startsWith("=")) {
        v = v.substring(1).trim();
      }
    }
    int slash = v.indexOf('/');
    if (slash >= 0) {
      v = v.substring(0, slash);
    }
    int dash = v.indexOf('-');
    try {
      long start = Long.parseLong(v.substring(0, dash).trim());
      long end = Long.parseLong(v.substring(dash + 1).trim());
      long len = x.contentLength();
      if (start < 0 || end < start || (len >= 0 && len != end - start + 1)) {
        throw OciError.RANGE_INVALID.with("Content-Range " + h + " does not match the body");
      }
      return new long[] {start, end};
    } catch (RuntimeException e) {
      if (e instanceof io.flotilla.oci.OciException) {
        throw e;
      }
      throw OciError.RANGE_INVALID.with("malformed Content-Range: " + h);
    }
  }

  private static Future<Void> status(Exchange x, UploadStatus s, int code) {
    return x.response().setStatusCode(code)
        .putHeader("Location", "/v2/" + s.repository() + "/blobs/uploads/" + s.id())
        .putHeader("Range", "0-" + Math.max(0, s.offset() - 1))
        .putHeader("Docker-Upload-UUID", s.id())
        .putHeader("Content-Length", "0")
        .end();
  }

  private static Future<Void> created(Exchange x, BlobInfo info) {
    HttpServerResponse r = x.response().setStatusCode(201)
        .putHeader("Location", "/v2/" + x.route().name() + "/blobs/" + info.digest())
        .putHeader("Docker-Content-Digest", info.digest())
        .putHeader("Content-Length", "0");
    return r.end();
  }
}
