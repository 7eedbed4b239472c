package io.flotilla.content;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Digest;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.Reference;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A client of one upstream OCI distribution registry (Docker Hub, GHCR, Quay, CNCF distribution,
 * another Flotilla), for pulling: tag lists, manifests, blobs and referrers of a repository, over
 * HTTP(S) with a Vert.x HttpClient. Authenticates as the upstream asks (anonymous, Basic, or the
 * Docker token flow, see {@link UpstreamAuth}), retries GETs that meet 429/502/503/504 or a
 * connection error before any content was handed on, follows redirects without carrying
 * credentials to other hosts, and verifies what it returns: manifests against their digests and a
 * 4 MiB limit, blobs while they stream ({@link UpstreamBlob}). Fully asynchronous: results complete
 * on a Vert.x event loop, and nothing blocks one. Every failure is an {@link UpstreamException}.
 * Thread-safe; one instance per upstream, closed with {@link #close()}.
 */
public final class UpstreamRegistry {
  /** Largest manifest accepted; larger ones are refused without being read whole. */
  public static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
  /** The manifest media types asked for: OCI manifest and index, Docker v2 manifest and manifest list. */
  public static final String MANIFEST_ACCEPT = String.join(", ", MediaTypes.OCI_MANIFEST, MediaTypes.OCI_INDEX,
      MediaTypes.DOCKER_MANIFEST, MediaTypes.DOCKER_MANIFEST_LIST);
  private static final long MAX_PAGE_BYTES = 16L * 1024 * 1024;
  private static final int MAX_PAGES = 10_000;

  private final Vertx vertx;
  private final UpstreamConfig config;
  private final UpstreamHttp http;

  public UpstreamRegistry(Vertx vertx, UpstreamConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.http = new UpstreamHttp(vertx, config);
  }

  public UpstreamConfig config() {
    return config;
  }

  /** Every tag of the repository, following {@code Link} pagination with the upstream's page size. */
  public Future<List<Tag>> listTags(RepositoryName repository) {
    return listTags(repository, 0);
  }

  /**
   * Every tag of the repository, asking for pages of {@code pageSize} ({@code n}; 0: the upstream's
   * default) and following {@code Link: <...>; rel="next"} until the last page. NOT_FOUND when the
   * repository is unknown upstream.
   */
  public Future<List<Tag>> listTags(RepositoryName repository, int pageSize) {
    if (pageSize < 0) {
      throw new IllegalArgumentException("pageSize must not be negative");
    }
    String url = http.url("/v2/" + repository + "/tags/list" + (pageSize > 0 ? "?n=" + pageSize : ""));
    return this.<Tag>pages(url, scope(repository), MediaTypes.JSON, OciError.NAME_UNKNOWN, (page, out, what) -> {
      JsonNode tags = page.path("tags");
      if (!tags.isArray() && !tags.isNull() && !tags.isMissingNode()) {
        throw new UpstreamException(Kind.PROTOCOL, what + ": tags is not a list");
      }
      for (JsonNode t : tags) {
        if (!t.isTextual() || !Tag.isValid(t.asText())) {
          throw new UpstreamException(Kind.PROTOCOL, what + ": invalid tag in the list");
        }
        out.add(new Tag(t.asText()));
      }
    }, new ArrayList<>(), new HashSet<>());
  }

  /**
   * A manifest or index by tag or digest, with the body it has upstream. Fails TOO_LARGE over
   * {@link #MAX_MANIFEST_BYTES} (by Content-Length before reading, or once that much was read),
   * DIGEST_MISMATCH when the body does not hash to the digest asked for or to the upstream's
   * {@code Docker-Content-Digest}, PROTOCOL when it is not a manifest this registry supports.
   */
  public Future<UpstreamManifest> manifest(RepositoryName repository, Reference reference) {
    String url = http.url("/v2/" + repository + "/manifests/" + reference);
    String what = UpstreamHttp.describe(url);
    return http.get(url, scope(repository), MANIFEST_ACCEPT, OciError.MANIFEST_UNKNOWN).compose(resp -> {
      String contentType = resp.getHeader("Content-Type");
      String announced = resp.getHeader("Docker-Content-Digest");
      return http.read(resp, MAX_MANIFEST_BYTES, what, OciError.MANIFEST_UNKNOWN).compose(body -> {
            try {
              return Future.succeededFuture(verified(what, reference, contentType, announced, body.getBytes()));
            } catch (UpstreamException e) {
              return Future.failedFuture(e);
            }
          });
    });
  }

  /**
   * A blob's bytes as a verified stream (see {@link UpstreamBlob}), following redirects to object
   * storage. Completes once the upstream answered 200; NOT_FOUND when it has no such blob.
   */
  public Future<UpstreamBlob> blob(RepositoryName repository, Digest digest) {
    String url = http.url("/v2/" + repository + "/blobs/" + digest);
    String what = UpstreamHttp.describe(url);
    return http.get(url, scope(repository), null, OciError.BLOB_UNKNOWN).compose(resp -> {
      if (resp.statusCode() != 200) {
        resp.request().reset();
        return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, OciError.BLOB_UNKNOWN, what + ": "
            + resp.statusCode() + " where 200 was expected"));
      }
      return Future.succeededFuture(new UpstreamBlob(resp, vertx.getOrCreateContext(), http.idleMillis(), digest, what));
    });
  }

  /**
   * The manifests that refer to {@code subject}, through the OCI referrers API (all pages). An
   * upstream without that API (404) gives {@link UpstreamReferrers#unsupported()}, distinct from an
   * empty list.
   */
  public Future<UpstreamReferrers> referrers(RepositoryName repository, Digest subject) {
    String url = http.url("/v2/" + repository + "/referrers/" + subject);
    return this.<Descriptor>pages(url, scope(repository), MediaTypes.OCI_INDEX, OciError.NOT_FOUND,
            (page, out, what) -> {
              JsonNode manifests = page.path("manifests");
              if (!manifests.isArray() && !manifests.isNull() && !manifests.isMissingNode()) {
                throw new UpstreamException(Kind.PROTOCOL, what + ": manifests is not a list");
              }
              for (JsonNode d : manifests) {
                out.add(descriptor(d, what));
              }
            }, new ArrayList<>(), new HashSet<>())
        .map(list -> new UpstreamReferrers(true, list))
        .recover(e -> e instanceof UpstreamException u && u.kind() == Kind.NOT_FOUND
            ? Future.succeededFuture(UpstreamReferrers.unsupported()) : Future.failedFuture(e));
  }

  /** Closes the HTTP client; requests in flight fail. */
  public Future<Void> close() {
    return http.close();
  }

  /** Reads one page of a JSON listing into {@code out}; throws UpstreamException on bad content. */
  private interface PageReader<T> {
    void read(JsonNode page, List<T> out, String what);
  }

  private <T> Future<List<T>> pages(String url, String scope, String accept, OciError notFound, PageReader<T> reader,
      List<T> out, Set<String> seen) {
    String what = UpstreamHttp.describe(url);
    return http.get(url, scope, accept, notFound).compose(resp -> {
      String next = Responses.nextLink(resp.headers().getAll("Link"));
      return http.read(resp, MAX_PAGE_BYTES, what, notFound).compose(body -> {
            try {
              reader.read(json(body, what), out, what);
              if (next == null) {
                return Future.succeededFuture(out);
              }
              String nextUrl = URI.create(url).resolve(next).toString();
              if (!seen.add(nextUrl) || seen.size() > MAX_PAGES) {
                throw new UpstreamException(Kind.PROTOCOL, what + ": pagination loops or exceeds " + MAX_PAGES + " pages");
              }
              return pages(nextUrl, scope, accept, notFound, reader, out, seen);
            } catch (IllegalArgumentException e) {
              return Future.failedFuture(new UpstreamException(Kind.PROTOCOL, notFound, what + ": unusable Link header"));
            } catch (UpstreamException e) {
              return Future.failedFuture(e);
            }
          });
    });
  }

  private static UpstreamManifest verified(String what, Reference reference, String contentType, String announced,
      byte[] body) {
    Digest digest = Digest.sha256(body);
    if (announced != null && !announced.isBlank()) {
      Digest claimed;
      try {
        claimed = Digest.parse(announced.trim());
      } catch (OciException e) {
        throw new UpstreamException(Kind.PROTOCOL, OciError.MANIFEST_UNKNOWN, what + ": Docker-Content-Digest is not a digest");
      }
      if (!Digest.of(claimed.algorithm(), body).equals(claimed)) {
        throw new UpstreamException(Kind.DIGEST_MISMATCH, OciError.MANIFEST_UNKNOWN, what + ": the body does not hash "
            + "to its Docker-Content-Digest " + claimed);
      }
      digest = claimed;
    }
    if (reference.isDigest()) {
      if (!Digest.of(reference.digest().algorithm(), body).equals(reference.digest())) {
        throw new UpstreamException(Kind.DIGEST_MISMATCH, OciError.MANIFEST_UNKNOWN, what + ": the body does not hash "
            + "to the digest asked for");
      }
      digest = reference.digest();
    }
    Manifest manifest;
    try {
      manifest = ManifestParser.parse(body, contentType);
    } catch (OciException e) {
      throw new UpstreamException(Kind.PROTOCOL, OciError.MANIFEST_UNKNOWN, what + ": not a supported manifest ("
          + e.detail() + ")");
    }
    return new UpstreamManifest(body, manifest.mediaType(), digest, manifest);
  }

  private static Descriptor descriptor(JsonNode d, String what) {
    try {
      Digest digest = Digest.parse(d.path("digest").asText(null));
      String mediaType = d.path("mediaType").asText(null);
      long size = d.path("size").asLong(-1);
      if (mediaType == null || mediaType.isEmpty() || !d.path("size").canConvertToLong() || size < 0) {
        throw new UpstreamException(Kind.PROTOCOL, what + ": a descriptor without media type or size");
      }
      Map<String, String> annotations = new LinkedHashMap<>();
      d.path("annotations").fields().forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
      String artifactType = d.path("artifactType").isTextual() ? d.path("artifactType").asText() : null;
      return new Descriptor(mediaType, digest, size, artifactType, annotations, null, null);
    } catch (OciException e) {
      if (e instanceof UpstreamException u) {
        throw u;
      }
      throw new UpstreamException(Kind.PROTOCOL, what + ": a descriptor with an invalid digest");
    }
  }

  private static JsonNode json(Buffer body, String what) {
    try {
      JsonNode node = Responses.JSON.readTree(body.getBytes());
      if (node != null && node.isObject()) {
        return node;
      }
    } catch (Exception e) {
      // below
    }
    throw new UpstreamException(Kind.PROTOCOL, what + ": the answer is not a JSON object");
  }

  private static String scope(RepositoryName repository) {
    return "repository:" + repository + ":pull";
  }
}
