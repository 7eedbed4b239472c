package io.flotilla.content;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.content.UpstreamException.Kind;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading upstream answers: bodies with a size limit enforced before and while reading, the
 * {@code Link: <...>; rel="next"} of paginated listings, and a short, printable summary of an error
 * body for messages. Runs on the response's context; stateless.
 */
final class Responses {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LINK = Pattern.compile("<([^>]*)>((?:\\s*;\\s*[^;,]*)*)");
  private static final Pattern REL = Pattern.compile("(?i)rel\\s*=\\s*\"?([^\";]*)\"?");
  /** How much of an error body is read for its message; the rest is not read. */
  private static final int ERROR_BODY_LIMIT = 16 * 1024;

  private Responses() {}

  /**
   * Reads a paused response's body into memory. Fails TOO_LARGE without reading when Content-Length
   * exceeds {@code limit}, and as soon as the bytes read exceed it otherwise; UNAVAILABLE when the
   * connection fails or no data comes for {@code idleMillis}. On failure the connection is reset,
   * so the rest is never transferred. Messages start with {@code what}.
   */
  static Future<Buffer> read(Vertx vertx, HttpClientResponse resp, long limit, long idleMillis, String what,
      OciError notFound) {
    long declared = contentLength(resp);
    if (declared > limit) {
      resp.request().reset();
      return Future.failedFuture(tooLarge(what, limit, notFound));
    }
    Promise<Buffer> done = Promise.promise();
    Buffer body = Buffer.buffer((int) Math.max(256, Math.min(declared, 64 * 1024)));
    IdleWatch idle = new IdleWatch(vertx, idleMillis, () -> {
      done.tryFail(new UpstreamException(Kind.UNAVAILABLE, notFound, what + ": no data for " + idleMillis + " ms"));
      resp.request().reset();
    });
    resp.handler(chunk -> {
      if (done.future().isComplete()) {
        return;
      }
      idle.data();
      if (body.length() + (long) chunk.length() > limit) {
        idle.stop();
        done.tryFail(tooLarge(what, limit, notFound));
        resp.request().reset();
        return;
      }
      body.appendBuffer(chunk);
    });
    resp.exceptionHandler(e -> {
      idle.stop();
      done.tryFail(new UpstreamException(Kind.UNAVAILABLE, notFound, what + ": " + UpstreamHttp.scrub(e)
          + " while reading"));
    });
    resp.endHandler(v -> {
      idle.stop();
      done.tryComplete(body);
    });
    resp.resume();
    return done.future();
  }

  /** Reads and drops a response nobody wants (a redirect, an error), up to a small limit; never fails. */
  static Future<Buffer> drain(Vertx vertx, HttpClientResponse resp, long idleMillis) {
    return read(vertx, resp, ERROR_BODY_LIMIT, idleMillis, "", OciError.NOT_FOUND).otherwise(Buffer.buffer());
  }

  private static UpstreamException tooLarge(String what, long limit, OciError notFound) {
    return new UpstreamException(Kind.TOO_LARGE, notFound, what + ": answer larger than " + limit + " bytes");
  }

  /** Content-Length, or -1 when absent or unreadable. */
  static long contentLength(HttpClientResponse resp) {
    String v = resp.getHeader("Content-Length");
    if (v == null || v.isEmpty() || v.length() > 18 || !v.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(v);
  }

  /** The URI reference of the {@code rel="next"} link among the Link header values, or null. */
  static String nextLink(List<String> linkHeaders) {
    for (String h : linkHeaders) {
      Matcher m = LINK.matcher(h);
      while (m.find()) {
        Matcher rel = REL.matcher(m.group(2));
        if (rel.find() && List.of(rel.group(1).trim().toLowerCase(Locale.ROOT).split("\\s+")).contains("next")) {
          return m.group(1).trim();
        }
      }
    }
    return null;
  }

  /** {@code CODE: message} of a distribution error body, or "" when it is none; at most 200 printable characters. */
  static String errorSummary(Buffer body) {
    if (body == null || body.length() == 0) {
      return "";
    }
    try {
      JsonNode first = JSON.readTree(body.getBytes()).path("errors").path(0);
      if (first.isMissingNode()) {
        return "";
      }
      String s = first.path("code").asText("") + ": " + first.path("message").asText("");
      s = s.replaceAll("[^\\x20-\\x7e]", "?");
      return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    } catch (Exception e) {
      return "";
    }
  }
}
