package io.flotilla.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.ManifestStorage;
import io.flotilla.storage.StorageTypes.Referrer;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import java.util.List;

/** Content discovery: tag lists, the catalog and the referrers API, with {@code n}/{@code last} paging. */
final class ListingHandler {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final ManifestStorage storage;
  private final int maxPageSize;

  ListingHandler(ManifestStorage storage, int maxPageSize) {
    this.storage = storage;
    this.maxPageSize = maxPageSize;
  }

  Future<Void> tags(Exchange x) {
    requireGet(x);
    String name = RepositoryName.of(x.route().name()).value();
    int n = Pagination.pageSize(x.param("n"), maxPageSize, maxPageSize);
    return storage.listTags(x.ctx(), name, n, x.param("last")).compose(page -> {
      ObjectNode body = JSON.createObjectNode().put("name", page.name());
      ArrayNode tags = body.putArray("tags");
      page.tags().forEach(tags::add);
      return json(x, body, page.more() ? link("/v2/" + name + "/tags/list", n, page.tags()) : null);
    });
  }

  Future<Void> catalog(Exchange x) {
    requireGet(x);
    int n = Pagination.pageSize(x.param("n"), maxPageSize, maxPageSize);
    return storage.catalog(x.ctx(), n, x.param("last")).compose(page -> {
      ObjectNode body = JSON.createObjectNode();
      ArrayNode repos = body.putArray("repositories");
      page.repositories().forEach(repos::add);
      if (!page.unavailable().isEmpty()) {
        // Never drop names silently: say which nodes' repositories may be missing from the page.
        x.response().putHeader("Flotilla-Catalog-Incomplete", String.join(", ", page.unavailable()));
      }
      return json(x, body, page.more() ? link("/v2/_catalog", n, page.repositories()) : null);
    });
  }

  Future<Void> referrers(Exchange x) {
    requireGet(x);
    String name = RepositoryName.of(x.route().name()).value();
    Digest subject = Digest.parse(x.route().ref());
    String artifactType = x.param("artifactType");
    return storage.referrers(x.ctx(), name, subject.toString(), artifactType).compose(list -> {
      ObjectNode body = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", MediaTypes.OCI_INDEX);
      ArrayNode manifests = body.putArray("manifests");
      for (Referrer r : list.manifests()) {
        ObjectNode d = manifests.addObject().put("mediaType", r.mediaType()).put("digest", r.digest()).put("size", r.size());
        if (r.artifactType() != null) {
          d.put("artifactType", r.artifactType());
        }
        if (!r.annotations().isEmpty()) {
          ObjectNode a = d.putObject("annotations");
          r.annotations().forEach(a::put);
        }
      }
      HttpServerResponse resp = x.response();
      if (list.filtered()) {
        resp.putHeader("OCI-Filters-Applied", "artifactType");
      }
      byte[] bytes = body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      return resp.setStatusCode(200).putHeader("Content-Type", MediaTypes.OCI_INDEX)
          .putHeader("Content-Length", Integer.toString(bytes.length))
          .end(io.vertx.core.buffer.Buffer.buffer(bytes));
    });
  }

  private static void requireGet(Exchange x) {
    HttpMethod m = x.request().method();
    if (m != HttpMethod.GET && m != HttpMethod.HEAD) {
      throw OciError.UNSUPPORTED.with(m + " is not supported here");
    }
  }

  private static String link(String path, int n, List<String> items) {
    return Pagination.link(path, n, items.get(items.size() - 1));
  }

  private static Future<Void> json(Exchange x, ObjectNode body, String link) {
    HttpServerResponse r = x.response().setStatusCode(200).putHeader("Content-Type", "application/json");
    if (link != null) {
      r.putHeader("Link", link);
    }
    byte[] bytes = body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    r.putHeader("Content-Length", Integer.toString(bytes.length));
    return x.request().method() == HttpMethod.HEAD ? r.end() : r.end(io.vertx.core.buffer.Buffer.buffer(bytes));
  }
}
