package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.testing.OciClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** The content admin API as tests call it: JSON in, JSON out, and waiting for tasks. */
final class ContentClient {
  private final OciClient http;

  ContentClient(String base) {
    this.http = new OciClient(base, Duration.ofSeconds(30));
  }

  ContentClient(OciClient http) {
    this.http = http;
  }

  /** Sends a JSON body (null: none) and returns the response (status and body). */
  HttpResponse<byte[]> call(String method, String path, String json) {
    return http.send(method, path, json == null ? null : json.getBytes(StandardCharsets.UTF_8),
        json == null ? Map.of() : Map.of("Content-Type", "application/json"));
  }

  /** Calls and expects {@code status}; returns the JSON answer (null for an empty body). */
  JsonNode expect(int status, String method, String path, String json) {
    HttpResponse<byte[]> r = call(method, path, json);
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertEquals(status, r.statusCode(), method + " " + path + " answered: " + body);
    try {
      return body.isEmpty() ? null : ContentJson.JSON.readTree(body);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + body, e);
    }
  }

  JsonNode get(String path) {
    return expect(200, "GET", path, null);
  }

  /** Starts a sync and returns its task id. */
  String sync(String repository, String json) {
    return expect(202, "POST", "/api/v1/repositories/" + repository + "/sync", json).get("id").asText();
  }

  /** Waits for the task to be in a final state, and returns it. */
  JsonNode await(String taskId, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    JsonNode t = null;
    while (System.nanoTime() < end) {
      HttpResponse<byte[]> r = call("GET", "/api/v1/tasks/" + taskId, null);
      if (r.statusCode() == 200) {
        try {
          t = ContentJson.JSON.readTree(r.body());
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        String state = t.get("state").asText();
        if (state.equals("completed") || state.equals("failed") || state.equals("canceled")) {
          return t;
        }
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    return fail("task " + taskId + " not over within " + timeout + ": " + t);
  }

  /** Syncs, waits, and requires the task to have completed. */
  JsonNode syncAndWait(String repository, String json) {
    JsonNode t = await(sync(repository, json), Duration.ofSeconds(60));
    assertEquals("completed", t.get("state").asText(), "task: " + t);
    return t;
  }
}
