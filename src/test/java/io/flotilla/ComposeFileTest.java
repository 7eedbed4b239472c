package io.flotilla;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.ClusterConfig;
import io.flotilla.config.ConfigLoader;
import io.flotilla.config.FlotillaConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * {@code docker-compose.yml} (read with SnakeYAML, which resolves its anchors and merge keys): every
 * node runs the image this build names, keeps its data in a volume of its own, gets the time to hand
 * off, and has an environment the node accepts.
 */
class ComposeFileTest {
  static Map<String, Map<String, Object>> services;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void parse() throws IOException {
    try (Reader r = Files.newBufferedReader(Path.of("docker-compose.yml"))) {
      Map<String, Object> doc = new Yaml().load(r);
      services = (Map<String, Map<String, Object>>) doc.get("services");
    }
    assertFalse(services.isEmpty(), "services");
  }

  @Test
  void everyNodeRunsTheBuiltImage() throws IOException {
    String pom = Files.readString(Path.of("pom.xml"));
    Matcher version = Pattern.compile("<artifactId>flotilla</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertTrue(version.find(), "the project's version in pom.xml");
    assertTrue(pom.contains("<flotilla.image.name>flotilla:${project.version}</flotilla.image.name>"), "the image's name");
    for (var s : services.entrySet()) {
      assertEquals("flotilla:" + version.group(1), s.getValue().get("image"), s.getKey() + ": image");
      assertFalse(String.valueOf(s.getValue().get("volumes")).contains(".jar"), s.getKey() + ": the jar is in the image");
      assertFalse(s.getValue().containsKey("command"), s.getKey() + ": the image's entrypoint runs the node");
    }
  }

  @Test
  void everyNodeHasItsOwnDataVolume() {
    Set<String> volumes = new HashSet<>();
    for (var s : services.entrySet()) {
      FlotillaConfig config = config(s.getValue());
      String dataDir = config.storage().dataDir().toString();
      List<?> mounts = (List<?>) s.getValue().get("volumes");
      String volume = null;
      for (Object m : mounts) {
        String[] parts = m.toString().split(":");
        if (parts.length >= 2 && parts[1].equals(dataDir)) {
          volume = parts[0];
        }
      }
      assertTrue(volume != null && !volume.startsWith(".") && !volume.startsWith("/"),
          s.getKey() + ": a named volume on " + dataDir + ", was " + mounts);
      assertTrue(volumes.add(volume), s.getKey() + ": volume " + volume + " is shared with another node");
    }
  }

  @Test
  void stopsLeaveTimeForTheHandoff() {
    for (var s : services.entrySet()) {
      Duration grace = duration(String.valueOf(s.getValue().get("stop_grace_period")));
      Duration handoff = config(s.getValue()).cluster().handoffTimeout();
      assertTrue(handoff.compareTo(ClusterConfig.DEFAULT.handoffTimeout()) >= 0, s.getKey() + ": hand-off");
      assertTrue(grace.compareTo(handoff) > 0, s.getKey() + ": stop_grace_period " + grace + " <= hand-off " + handoff);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void membersAreTheNodesAndTheHealthCheckUsesBash() throws IOException {
    Set<String> hosts = new TreeSet<>();
    services.values().forEach(s -> hosts.add(String.valueOf(s.get("hostname"))));
    String pom = Files.readString(Path.of("pom.xml"));
    for (var s : services.entrySet()) {
      FlotillaConfig config = config(s.getValue());
      Set<String> members = new TreeSet<>();
      for (String m : config.cluster().members()) {
        assertTrue(m.endsWith(":" + config.cluster().port()), s.getKey() + ": member " + m + " on the cluster port");
        members.add(m.substring(0, m.lastIndexOf(':')));
      }
      assertEquals(hosts, members, s.getKey() + ": FLOTILLA_CLUSTER_MEMBERS");
      assertEquals(s.getValue().get("hostname"), config.cluster().host(), s.getKey() + ": FLOTILLA_CLUSTER_HOST");
      assertEquals(Path.of("/app/cluster-config/hazelcast.xml"), config.cluster().hazelcastConfig(), s.getKey());
      List<String> test = (List<String>) ((Map<String, Object>) s.getValue().get("healthcheck")).get("test");
      // /dev/tcp is a bash feature: CMD-SHELL would run it with dash and always fail
      assertEquals(List.of("CMD", "bash", "-c"), test.subList(0, 3), s.getKey() + ": health check");
      assertTrue(test.get(3).contains("/dev/tcp/127.0.0.1/" + config.http().port()) && test.get(3).contains("/health/ready"),
          s.getKey() + ": health check on /health/ready");
    }
    assertTrue(pom.contains("<into>/app/cluster-config</into>") && pom.contains("<includes>hazelcast.xml</includes>"),
        "the image carries /app/cluster-config/hazelcast.xml");
  }

  @SuppressWarnings("unchecked")
  private static FlotillaConfig config(Map<String, Object> service) {
    Map<String, String> env = new HashMap<>();
    env.put("FLOTILLA_DATA_DIR", "/data"); // the image's
    ((Map<String, Object>) service.get("environment")).forEach((k, v) -> env.put(k, String.valueOf(v)));
    return ConfigLoader.load(null, env);
  }

  private static Duration duration(String compose) {
    Matcher m = Pattern.compile("(\\d+)(s|m|h)").matcher(compose);
    assertTrue(m.matches(), "a duration such as 11m: " + compose);
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }
}
