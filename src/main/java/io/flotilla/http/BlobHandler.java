package io.flotilla.http;

import io.flotilla.oci.Digest;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.OciException;
import io.flotilla.storage.BlobStorage;
import io.flotilla.storage.BlobTransfer;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;

/**
 * {@code /v2/<name>/blobs/<digest>}: GET/HEAD with single byte ranges (206/416), served from the
 * local blob file with zero-copy {@code sendFile}; DELETE unlinks the blob from the repository.
 */
final class BlobHandler {
  private final BlobStorage storage;
  private final BlobTransfer files;

  BlobHandler(BlobStorage storage, BlobTransfer files) {
    this.storage = storage;
    this.files = files;
  }

  Future<Void> handle(Exchange x) {
    HttpMethod m = x.request().method();
    if (m == HttpMethod.GET || m == HttpMethod.HEAD) {
      return get(x, m == HttpMethod.HEAD);
    }
    if (m == HttpMethod.DELETE) {
      return storage.deleteBlob(x.ctx(), x.route().name(), x.route().ref())
          .compose(v -> x.response().setStatusCode(202).putHeader("Content-Length", "0").end());
    }
    return Future.failedFuture(OciError.UNSUPPORTED.with(m + " is not supported on blobs"));
  }

  private Future<Void> get(Exchange x, boolean head) {
    return storage.statBlob(x.ctx(), x.route().name(), x.route().ref()).compose(info -> {
      HttpServerResponse r = x.response();
      long size = info.size();
      r.putHeader("Docker-Content-Digest", info.digest())
          .putHeader("ETag", "\"" + info.digest() + "\"")
          .putHeader("Accept-Ranges", "bytes")
          .putHeader("Content-Type", "application/octet-stream");
      long[] range = parseRange(x.request().getHeader("Range"), size);
      long offset = 0;
      long length = size;
      if (range != null) {
        offset = range[0];
        length = range[1] - range[0] + 1;
        r.setStatusCode(206).putHeader("Content-Range", "bytes " + range[0] + "-" + range[1] + "/" + size);
      }
      r.putHeader("Content-Length", Long.toString(length));
      if (head) {
        return r.end();
      }
      if (length == 0) {
        return r.end();
      }
      return files.send(x.ctx(), RepositoryName.of(x.route().name()), info, offset, length, r);
    });
  }

  /**
   * Parses a single {@code bytes=} range against the blob size; null for no (or an ignorable)
   * Range header, RANGE_INVALID (416) when it cannot be satisfied.
   */
  static long[] parseRange(String header, long size) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
      return null;
    }
    String spec = h.substring(6).trim();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      throw unsatisfiable(size);
    }
    try {
      String a = spec.substring(0, dash).trim();
      String b = spec.substring(dash + 1).trim();
      long start;
      long end;
      if (a.isEmpty()) {
        long suffix = Long.parseLong(b);
        if (suffix <= 0) {
          throw unsatisfiable(size);
        }
        start = Math.max(0, size - suffix);
        end = size - 1;
      } else {
        start = Long.parseLong(a);
        end = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
      }
      if (start < 0 || start >= size || end < start) {
        throw unsatisfiable(size);
      }
      return new long[] {start, end};
    } catch (NumberFormatException e) {
      throw unsatisfiable(size);
    }
  }

  private static OciException unsatisfiable(long size) {
    return new RangeNotSatisfiable(size);
  }

  /** A 416 that must carry {@code Content-Range: bytes *}{@code /size}. */
  static final class RangeNotSatisfiable extends OciException {
    final long size;

    RangeNotSatisfiable(long size) {
      super(OciError.RANGE_INVALID, "requested range not satisfiable for a blob of " + size + " bytes");
      this.size = size;
    }
  }
}
