package io.flotilla.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.config.ConfigException;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import io.flotilla.testing.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhook targets on loopback, link-local or the node itself are refused unless allowed. */
class WebhookTargetsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> CONTENT = Map.of("Content-Type", "application/json");

  @TempDir
  Path dir;

  @Test
  void theApiRefusesPrivateTargetsWithAClearError() throws Exception {
    try (TestNode node = TestNode.start(dir)) {
      OciClient c = new OciClient(node.url());
      for (String url : new String[] {"http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/",
          "http://[::1]:9/hook", "http://0.0.0.0:9/hook", "http://localhost:9/hook"}) {
        var r = c.send("POST", "/api/v1/webhooks", body("private", url), CONTENT);
        assertEquals(400, r.statusCode(), url + ": " + OciClient.text(r));
        String error = JSON.readTree(r.body()).path("error").asText();
        assertTrue(error.startsWith("webhook target refused") && error.contains("events.allowPrivateWebhookTargets"),
            url + ": " + error);
      }
      var put = c.send("PUT", "/api/v1/webhooks/private", body("private", "http://127.0.0.1:9/hook"), CONTENT);
      assertEquals(400, put.statusCode(), OciClient.text(put));
      assertEquals(0, JSON.readTree(c.get("/api/v1/webhooks").body()).size(), "no endpoint was created");
    }
  }

  @Test
  void anEndpointThatBecamePrivateIsRefusedAtDeliveryAndTheAttemptSaysWhy() throws Exception {
    try (WebhookReceiver receiver = new WebhookReceiver()) {
      // created while private targets were allowed...
      try (TestNode node = TestNode.start(dir, Map.of("events.allowPrivateWebhookTargets", "true"))) {
        OciClient.expect(new OciClient(node.url()).send("POST", "/api/v1/webhooks",
            body("local", receiver.url("/local")), CONTENT), 201);
      }
      // ...and delivered by a node that refuses them: nothing is sent, the attempt records the refusal
      try (TestNode node = TestNode.start(dir)) {
        OciClient c = new OciClient(node.url());
        Images.push(c, "targets/refused", "v1", 1, 3);
        Await.until("a refused attempt", Duration.ofSeconds(60), () -> {
          JsonNode history = JSON.readTree(c.get("/api/v1/webhooks/local").body()).path("history");
          return history.size() > 0 && history.get(0).path("error").asText().contains("webhook target refused: 127.0.0.1 is a loopback address");
        });
        assertEquals(0, receiver.events("/local").size(), "nothing reached the receiver");
      }
    }
  }

  @Test
  void aConfiguredPrivateTargetStopsTheStartWithAConfigurationError() {
    String hooks = "[{\"name\":\"metadata\",\"url\":\"http://169.254.169.254/latest/meta-data/\"}]";
    IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
        () -> TestNode.start(dir, Map.of("events.webhooks", hooks)));
    Throwable t = e;
    while (t != null && !(t instanceof ConfigException)) {
      t = t.getCause();
    }
    assertTrue(t != null && t.getMessage().contains("events.webhooks[metadata].url"), String.valueOf(e));
  }

  private static byte[] body(String name, String url) {
    return ("{\"name\":\"" + name + "\",\"url\":\"" + url + "\",\"backoff\":\"100ms\",\"maxBackoff\":\"200ms\"}")
        .getBytes(StandardCharsets.UTF_8);
  }
}
