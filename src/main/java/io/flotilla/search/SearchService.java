package io.flotilla.search;

import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.util.Map;

/**
 * Runs one GraphQL request of zot's search API for a caller and renders the answer. What the HTTP
 * endpoint ({@code http.SearchEndpoint}) calls; implemented over the cluster by {@link SearchGraphQl}.
 */
public interface SearchService {
  /**
   * The outcome of one request: the HTTP status (200, or 422 for a request that did not parse or
   * validate) and the JSON body ({@code {"data":...}} and/or {@code {"errors":[...]}}).
   */
  record Answer(int status, String json) {}

  /**
   * Executes {@code query} (GraphQL text) with {@code variables} (may be null) and {@code operationName}
   * (may be null) for the caller of {@code ctx}. Never fails: every failure is an {@link Answer}.
   */
  Future<Answer> execute(RequestContext ctx, String query, String operationName, Map<String, Object> variables);
}
