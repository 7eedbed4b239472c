package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponsesTest {
  @Test
  void nextLinkOfPaginatedListings() {
    assertEquals("/v2/a/tags/list?n=2&last=b", Responses.nextLink(List.of("</v2/a/tags/list?n=2&last=b>; rel=\"next\"")));
    assertEquals("https://r.example/v2/_catalog?last=x", Responses.nextLink(
        List.of("<https://r.example/v2/_catalog?first>; rel=\"prev\", <https://r.example/v2/_catalog?last=x>;rel=next")));
    assertEquals("/p?x", Responses.nextLink(List.of("</other>; rel=\"alternate\"", "</p?x>; title=\"t\"; rel=\"prefetch next\"")));
    assertNull(Responses.nextLink(List.of("</v2/a/tags/list?n=2>; rel=\"last\"")));
    assertNull(Responses.nextLink(List.of()));
  }

  @Test
  void errorSummaryOfDistributionErrors() {
    assertEquals("MANIFEST_UNKNOWN: manifest unknown", Responses.errorSummary(Buffer.buffer(
        "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{}}]}")));
    assertEquals("", Responses.errorSummary(Buffer.buffer("404 page not found")));
    assertEquals("", Responses.errorSummary(Buffer.buffer()));
    assertEquals("X: a?b", Responses.errorSummary(Buffer.buffer("{\"errors\":[{\"code\":\"X\",\"message\":\"a\\nb\"}]}")));
  }

  @Test
  void scrubbedMessagesKeepNoQueryString() {
    assertEquals("timeout while executing GET /b/sha256?... for server s3:443",
        UpstreamHttp.scrub(new RuntimeException("timeout while executing GET /b/sha256?X-Amz-Signature=secret for server s3:443")));
    assertEquals("GET /v2/a/blobs/x", UpstreamHttp.describe("https://h/v2/a/blobs/x?sig=secret"));
  }
}
