package io.flotilla.search;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import graphql.ExecutionInput;
import graphql.ExecutionResult;
import graphql.GraphQL;
import graphql.GraphQLError;
import graphql.GraphqlErrorBuilder;
import graphql.ErrorType;
import graphql.analysis.MaxQueryComplexityInstrumentation;
import graphql.analysis.MaxQueryDepthInstrumentation;
import graphql.execution.AbortExecutionException;
import graphql.execution.DataFetcherResult;
import graphql.execution.instrumentation.ChainedInstrumentation;
import graphql.schema.Coercing;
import graphql.schema.DataFetcher;
import graphql.schema.DataFetchingEnvironment;
import graphql.schema.GraphQLScalarType;
import graphql.schema.idl.RuntimeWiring;
import graphql.schema.idl.SchemaGenerator;
import graphql.schema.idl.SchemaParser;
import io.flotilla.storage.RequestContext;
import io.vertx.core.Future;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * zot's search API as GraphQL (graphql-java, our schema file {@code search/schema.graphqls}): one
 * data fetcher per query, each answering through {@link SearchQueries}. Requests that do not parse
 * or validate, or that exceed the depth and complexity limits, answer 422 with the reason; a query
 * the API refuses answers 200 with an {@code errors} entry naming it, and data null.
 */
public final class SearchGraphQl implements SearchService {
  /** Deepest selection a query may make (the introspection query of GraphQL tools needs about 13). */
  public static final int MAX_DEPTH = 20;
  /** Most fields a query may select, aliases counted (a page of zot's UI asks for about 150). */
  public static final int MAX_COMPLEXITY = 2_000;
  /** What one query field (a fan-out to every member) counts against {@link #MAX_COMPLEXITY}, besides its fields. */
  public static final int QUERY_FIELD_COST = 100;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CTX = "flotilla.ctx";

  private final GraphQL graphQl;
  private final SearchQueries queries;

  public SearchGraphQl(SearchQueries queries) {
    this.queries = queries;
    String sdl;
    try (InputStream in = SearchGraphQl.class.getResourceAsStream("/search/schema.graphqls")) {
      sdl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    GraphQLScalarType time = GraphQLScalarType.newScalar().name("Time").description("RFC 3339 time")
        .coercing(new Coercing<Object, Object>() {
          @Override
          public Object serialize(Object value) {
            return value == null ? null : value.toString();
          }

          @Override
          public Object parseValue(Object input) {
            return input;
          }
        }).build();
    RuntimeWiring wiring = RuntimeWiring.newRuntimeWiring()
        .scalar(time)
        .type("Query", t -> t
            .dataFetcher("CVEListForImage", fetch(queries.cve()::cveListForImage))
            .dataFetcher("CVEDiffListForImages", fetch(queries.cve()::cveDiffListForImages))
            .dataFetcher("ImageListForCVE", fetch(queries.cve()::imageListForCve))
            .dataFetcher("ImageListWithCVEFixed", fetch(queries.cve()::imageListWithCveFixed))
            .dataFetcher("ImageListForDigest", fetch(queries::imageListForDigest))
            .dataFetcher("RepoListWithNewestImage", fetch(queries::repoListWithNewestImage))
            .dataFetcher("ImageList", fetch(queries::imageList))
            .dataFetcher("ExpandedRepoInfo", fetch(queries::expandedRepoInfo))
            .dataFetcher("GlobalSearch", fetch(queries::globalSearch))
            .dataFetcher("DerivedImageList", fetch(queries::derivedImageList))
            .dataFetcher("BaseImageList", fetch(queries::baseImageList))
            .dataFetcher("Image", fetch(queries::image))
            .dataFetcher("Referrers", fetch(queries::referrers))
            .dataFetcher("StarredRepos", fetch(queries::starredRepos))
            .dataFetcher("BookmarkedRepos", fetch(queries::bookmarkedRepos)))
        .build();
    var schema = new SchemaGenerator().makeExecutableSchema(new SchemaParser().parse(sdl), wiring);
    this.graphQl = GraphQL.newGraphQL(schema)
        .instrumentation(new ChainedInstrumentation(List.of(
            new MaxQueryDepthInstrumentation(MAX_DEPTH),
            new MaxQueryComplexityInstrumentation(MAX_COMPLEXITY, (env, children) ->
                ("Query".equals(env.getParentType().getName()) ? QUERY_FIELD_COST : 1) + children))))
        .build();
  }

  /** One query's call: the caller's context and the GraphQL arguments, answered with a future value. */
  @FunctionalInterface
  public interface Query {
    Future<SearchQueries.Answer> run(RequestContext ctx, Map<String, Object> arguments);
  }

  private static DataFetcher<CompletableFuture<DataFetcherResult<Object>>> fetch(Query q) {
    return env -> {
      RequestContext ctx = env.getGraphQlContext().get(CTX);
      Future<SearchQueries.Answer> answer;
      try {
        answer = q.run(ctx, env.getArguments());
      } catch (SearchException e) {
        answer = Future.failedFuture(e);
      }
      CompletableFuture<DataFetcherResult<Object>> out = new CompletableFuture<>();
      answer.onComplete(ar -> out.complete(result(env, ar.succeeded() ? ar.result() : null, ar.cause())));
      return out;
    };
  }

  private static DataFetcherResult<Object> result(DataFetchingEnvironment env, SearchQueries.Answer a, Throwable err) {
    DataFetcherResult.Builder<Object> b = DataFetcherResult.newResult();
    if (err != null) {
      String message = err instanceof SearchException || err instanceof io.flotilla.oci.OciException
          ? err.getMessage() : "internal error";
      return b.error(GraphqlErrorBuilder.newError(env).message(message).errorType(ErrorType.DataFetchingException).build())
          .build();
    }
    b.data(a.data());
    if (!a.unanswered().isEmpty()) {
      b.error(GraphqlErrorBuilder.newError(env).errorType(ErrorType.DataFetchingException)
          .message("results are incomplete: no answer from " + String.join(", ", a.unanswered())).build());
    }
    return b.build();
  }

  @Override
  public Future<Answer> execute(RequestContext ctx, String query, String operationName, Map<String, Object> variables) {
    ExecutionInput input = ExecutionInput.newExecutionInput(query)
        .operationName(operationName)
        .variables(variables == null ? Map.of() : variables)
        .graphQLContext(Map.of(CTX, ctx))
        .build();
    io.vertx.core.Promise<Answer> promise = io.vertx.core.Promise.promise();
    graphQl.executeAsync(input).whenComplete((result, err) -> {
      if (err != null) {
        promise.complete(new Answer(500, "{\"errors\":[{\"message\":\"internal error\"}]}"));
      } else {
        promise.complete(render(result));
      }
    });
    return promise.future();
  }

  private static Answer render(ExecutionResult result) {
    boolean rejected = !result.isDataPresent() && !result.getErrors().isEmpty()
        && result.getErrors().stream().allMatch(SearchGraphQl::isRequestError);
    Map<String, Object> spec = result.toSpecification();
    if (rejected) {
      List<Map<String, Object>> errors = new ArrayList<>();
      for (GraphQLError e : result.getErrors()) {
        Map<String, Object> m = new LinkedHashMap<>(e.toSpecification());
        Map<String, Object> ext = new LinkedHashMap<>();
        ext.put("code", e.getErrorType() == ErrorType.InvalidSyntax ? "GRAPHQL_PARSE_FAILED" : "GRAPHQL_VALIDATION_FAILED");
        m.put("extensions", ext);
        errors.add(m);
      }
      spec = Map.of("errors", errors);
    }
    try {
      return new Answer(rejected ? 422 : 200, JSON.writeValueAsString(spec));
    } catch (JsonProcessingException e) {
      return new Answer(500, "{\"errors\":[{\"message\":\"internal error\"}]}");
    }
  }

  private static boolean isRequestError(GraphQLError e) {
    return e.getErrorType() == ErrorType.InvalidSyntax || e.getErrorType() == ErrorType.ValidationError
        || e instanceof AbortExecutionException || e.getErrorType() == ErrorType.ExecutionAborted;
  }
}
