package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class UpstreamConfigTest {
  @Test
  void defaultsAndNormalisedUrl() {
    UpstreamConfig c = UpstreamConfig.of("HTTPS://registry.example:8443/prefix/");
    assertEquals("https://registry.example:8443/prefix", c.url().toString());
    assertEquals(Duration.ofSeconds(30), c.requestTimeout());
    assertEquals(4, c.maxAttempts());
    assertTrue(c.verifyTls());
    assertFalse(c.hasCredentials());
  }

  @Test
  void toStringNeverShowsThePassword() {
    UpstreamConfig c = UpstreamConfig.of("https://r.example").withCredentials("alice", "s3cret-pw");
    assertFalse(c.toString().contains("s3cret-pw"), c.toString());
    assertTrue(c.toString().contains("alice"));
    assertEquals("s3cret-pw", c.password());
  }

  @Test
  void refusesWhatCannotWork() {
    assertThrows(ConfigException.class, () -> UpstreamConfig.of("ftp://r.example"));
    assertThrows(ConfigException.class, () -> UpstreamConfig.of("r.example"));
    assertThrows(ConfigException.class, () -> UpstreamConfig.of("https://r.example/?q=1"));
    ConfigException userInfo = assertThrows(ConfigException.class, () -> UpstreamConfig.of("https://bob:pw@r.example"));
    assertFalse(userInfo.getMessage().contains("pw"), userInfo.getMessage());
    UpstreamConfig c = UpstreamConfig.of("https://r.example");
    assertThrows(ConfigException.class, () -> c.withCredentials("alice", null));
    assertThrows(ConfigException.class, () -> c.withCredentials("a:b", "pw"));
    assertThrows(ConfigException.class, () -> c.withRetries(21, null, null));
    assertThrows(ConfigException.class, () -> c.withRetries(3, Duration.ofSeconds(5), Duration.ofSeconds(1)));
    assertThrows(ConfigException.class, () -> c.withRequestTimeout(Duration.ZERO));
    assertThrows(ConfigException.class, () -> new UpstreamConfig(c.url(), null, null, false, Path.of("ca.pem"), null, 0,
        null, null));
  }
}
