package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the content API accepts, and the 400 it answers to the rest. */
class ContentRequestsTest {
  static JsonNode json(String s) throws Exception {
    return ContentJson.JSON.readTree(s);
  }

  static void refused(String field, Runnable r) {
    OciException e = assertThrows(OciException.class, r::run);
    assertEquals(OciError.INVALID_REQUEST, e.error());
    assertTrue(e.detail().contains(field), e.detail());
  }

  @Test
  void aRemoteWithEveryField() throws Exception {
    Remote r = ContentRequests.remote(null, json("{\"name\":\"hub\",\"url\":\"https://registry-1.docker.io\","
        + "\"upstreamName\":\"library/alpine\",\"username\":\"u\",\"password\":\"p\",\"includeTags\":[\"3.*\"],"
        + "\"excludeTags\":[\"*-rc\"],\"policy\":\"onDemand\",\"syncInterval\":60}"));
    assertEquals("hub", r.name());
    assertEquals(List.of("3.*"), r.includeTags());
    assertTrue(r.onDemand());
    assertEquals(60, r.syncInterval());
    assertTrue(r.verifyTls());
    assertTrue(!r.toString().isEmpty());
  }

  @Test
  void badRemotesAreRefusedWithTheFieldNamed() {
    refused("name", () -> ContentRequests.remote(null, parse("{\"name\":\"Bad\",\"url\":\"http://x\",\"upstreamName\":\"a\"}")));
    refused("url", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"ftp://x\",\"upstreamName\":\"a\"}")));
    refused("url", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"upstreamName\":\"a\"}")));
    refused("repository", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"A//\"}")));
    refused("policy", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"a\",\"policy\":\"lazy\"}")));
    refused("syncInterval", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"a\",\"syncInterval\":0}")));
    refused("unknown field", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"a\",\"pasword\":\"x\"}")));
    refused("includeTags", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"a\",\"includeTags\":\"v*\"}")));
    refused("caCertificate", () -> ContentRequests.remote(null, parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"a\",\"caCertificate\":\"nope\"}")));
    refused("name", () -> ContentRequests.remote("b", parse("{\"name\":\"a\",\"url\":\"http://x\",\"upstreamName\":\"a\"}")));
  }

  @Test
  void settingsKeepWhatTheBodyDoesNotName() throws Exception {
    RepoSettings old = new RepoSettings("r", "hub", true, true, false, 5, 123, 1);
    RepoSettings next = ContentRequests.settings(old, json("{\"autoDistribute\":true}"), 9);
    assertEquals(new RepoSettings("r", "hub", true, true, true, 5, 123, 9), next);
    refused("retainVersions", () -> ContentRequests.settings(old, parse("{\"retainVersions\":-1}"), 9));
    refused("mirror", () -> ContentRequests.settings(old, parse("{\"mirror\":\"yes\"}"), 9));
  }

  @Test
  void syncOverridesFallBackToTheSettings() throws Exception {
    RepoSettings s = new RepoSettings("r", "hub", true, true, true, 0, 0, 0);
    SyncRequest none = ContentRequests.sync(null).over(s, "hub");
    assertEquals(new SyncRequest("hub", true, true, true), none);
    SyncRequest some = ContentRequests.sync(json("{\"mirror\":false}")).over(s, "other");
    assertEquals(new SyncRequest("other", false, true, true), some);
    assertEquals(new SyncRequest("x", false, false, false), ContentRequests.sync(null).over(null, "x"));
    refused("unknown field", () -> ContentRequests.sync(parse("{\"mirrors\":true}")));
  }

  static JsonNode parse(String s) {
    try {
      return json(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
