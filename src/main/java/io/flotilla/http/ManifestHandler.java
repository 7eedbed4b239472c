package io.flotilla.http;

import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.ManifestStorage;
import io.flotilla.storage.StorageTypes.PutManifest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;

/**
 * {@code /v2/<name>/manifests/<reference>}: GET/HEAD with content negotiation and ETags, PUT with
 * a bounded body (never more than the manifest limit is read), DELETE of manifests and tags.
 */
final class ManifestHandler {
  private final ManifestStorage storage;
  private final int maxManifestBytes;

  ManifestHandler(ManifestStorage storage, int maxManifestBytes) {
    this.storage = storage;
    this.maxManifestBytes = maxManifestBytes;
  }

  Future<Void> handle(Exchange x) {
    HttpMethod m = x.request().method();
    if (m == HttpMethod.GET || m == HttpMethod.HEAD) {
      return get(x, m == HttpMethod.HEAD);
    }
    if (m == HttpMethod.PUT) {
      return put(x);
    }
    if (m == HttpMethod.DELETE) {
      return storage.deleteManifest(x.ctx(), x.route().name(), x.route().ref())
          .compose(v -> x.response().setStatusCode(202).putHeader("Content-Length", "0").end());
    }
    return Future.failedFuture(OciError.UNSUPPORTED.with(m + " is not supported on manifests"));
  }

  private Future<Void> get(Exchange x, boolean head) {
    try {
      io.flotilla.oci.Reference.parse(x.route().ref());
    } catch (io.flotilla.oci.OciException e) {
      // neither a tag nor a digest: no manifest can have that name (clients and the conformance
      // suite expect 404 here; a PUT with such a reference stays 400 TAG_INVALID)
      return Future.failedFuture(OciError.MANIFEST_UNKNOWN.with("no manifest is named " + x.route().ref()));
    }
    return storage.getManifest(x.ctx(), x.route().name(), x.route().ref()).compose(content -> {
      if (!acceptable(x.request().headers().getAll("Accept"), content.mediaType())) {
        throw OciError.MANIFEST_UNKNOWN.with("manifest is " + content.mediaType()
            + ", which the request's Accept header does not allow");
      }
      HttpServerResponse r = x.response();
      String etag = "\"" + content.digest() + "\"";
      r.putHeader("Docker-Content-Digest", content.digest()).putHeader("ETag", etag);
      String ifNoneMatch = x.request().getHeader("If-None-Match");
      if (ifNoneMatch != null && (ifNoneMatch.contains(etag) || ifNoneMatch.contains(content.digest()))) {
        return r.setStatusCode(304).end();
      }
      r.putHeader("Content-Type", content.mediaType())
          .putHeader("Content-Length", Integer.toString(content.body().length));
      return head ? r.end() : r.end(Buffer.buffer(content.body()));
    });
  }

  /** True when the Accept headers allow the media type (no header, a wildcard, or the type listed). */
  static boolean acceptable(java.util.List<String> accepts, String mediaType) {
    if (accepts == null || accepts.isEmpty()) {
      return true;
    }
    for (String header : accepts) {
      for (String part : header.split(",")) {
        String t = MediaTypes.base(part);
        if (t.isEmpty() || t.equals("*/*") || t.equals("application/*") || t.equals(mediaType)) {
          return true;
        }
      }
    }
    return false;
  }

  private Future<Void> put(Exchange x) {
    RepositoryName.of(x.route().name());
    Reference.parse(x.route().ref());
    long declared = x.contentLength();
    if (declared > maxManifestBytes) {
      throw new OciException(OciError.SIZE_INVALID, "manifest is larger than " + maxManifestBytes + " bytes", 413);
    }
    return x.readBody(maxManifestBytes).compose(body -> body == null
        ? Future.failedFuture(new OciException(OciError.SIZE_INVALID, "manifest is larger than " + maxManifestBytes
            + " bytes", 413))
        : storage.putManifest(x.ctx(),
        new PutManifest(x.route().name(), x.route().ref(), x.request().getHeader("Content-Type"), body.getBytes())))
        .compose(put -> {
          HttpServerResponse r = x.response().setStatusCode(201)
              .putHeader("Location", "/v2/" + x.route().name() + "/manifests/" + put.digest())
              .putHeader("Docker-Content-Digest", put.digest())
              .putHeader("Content-Length", "0");
          if (put.subject() != null) {
            r.putHeader("OCI-Subject", put.subject());
          }
          return r.end();
        });
  }
}
