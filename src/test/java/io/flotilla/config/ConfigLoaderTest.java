package io.flotilla.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @Test
  void defaults() {
    FlotillaConfig c = ConfigLoader.load(null, Map.of("FLOTILLA_NODE_NAME", "n1"));
    assertEquals(5000, c.http().port());
    assertEquals(Path.of("data"), c.storage().dataDir());
    assertEquals(List.of(), c.cluster().members());
    assertEquals(4 * 1024 * 1024, c.storage().maxManifestBytes());
    assertTrue(c.events().enabled());
  }

  @Test
  void fileThenEnvironment(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("f.yaml");
    Files.writeString(file, """
        node: {name: from-file}
        http: {port: 6000, shutdownTimeout: 5s}
        storage: {dataDir: /srv/reg, deleteEnabled: false, gcGrace: 10m}
        cluster: {members: [10.0.0.1:5701, 10.0.0.2:5701]}
        """);
    FlotillaConfig c = ConfigLoader.load(file, Map.of("FLOTILLA_HTTP_PORT", "7000",
        "FLOTILLA_CLUSTER_MEMBERS", "a:1,b:2", "FLOTILLA_DATA_DIR", "/d", "FLOTILLA_EVENTS_ENABLED", "false"));
    assertEquals("from-file", c.nodeName());
    assertEquals(7000, c.http().port());
    assertEquals(Duration.ofSeconds(5), c.http().shutdownTimeout());
    assertEquals(Path.of("/d"), c.storage().dataDir());
    assertEquals(false, c.storage().deleteEnabled());
    assertEquals(Duration.ofMinutes(10), c.storage().gcGrace());
    assertEquals(List.of("a:1", "b:2"), c.cluster().members());
    assertFalse(c.events().enabled());
  }

  @Test
  void invalidValuesNameTheKey(@TempDir Path dir) throws Exception {
    assertMessage("http.port", () -> ConfigLoader.load(null, Map.of("FLOTILLA_HTTP_PORT", "abc")));
    assertMessage("http.port", () -> ConfigLoader.load(null, Map.of("FLOTILLA_HTTP_PORT", "70000")));
    assertMessage("cluster.members", () -> ConfigLoader.load(null, Map.of("FLOTILLA_CLUSTER_MEMBERS", "a:xyz")));
    assertMessage("node.name", () -> ConfigLoader.load(null, Map.of("FLOTILLA_NODE_NAME", "bad name")));
    Path file = dir.resolve("f.yaml");
    Files.writeString(file, "storage: {gcGrace: soon}\n");
    assertMessage("storage.gcGrace", () -> ConfigLoader.load(file, Map.of()));
    Files.writeString(file, "http: {prot: 1}\n");
    assertMessage("http.prot", () -> ConfigLoader.load(file, Map.of()));
  }

  @Test
  void authFromTheFileAndTheEnvironment(@TempDir Path dir) throws Exception {
    assertEquals(false, ConfigLoader.load(null, Map.of()).auth().enabled(), "no auth keys: access control off");
    Path file = dir.resolve("f.yaml");
    Files.writeString(file, """
        auth:
          htpasswd: /etc/flotilla/htpasswd
          admins: [admin, ops]
          groups: {ops: [carol]}
          policies:
            - repositories: "team/**"
              users: [alice]
              actions: [read, create, update, delete]
            - repositories: "**"
              anonymous: [read]
        """);
    AuthConfig a = ConfigLoader.load(file, Map.of("FLOTILLA_AUTH_TOKEN_TTL", "10m")).auth();
    assertTrue(a.enabled());
    assertEquals(List.of("admin", "ops"), a.admins());
    assertEquals(Map.of("ops", List.of("carol")), a.groups());
    assertEquals(2, a.policies().size());
    assertEquals(List.of("read"), a.policies().get(1).anonymous());
    assertEquals(java.time.Duration.ofMinutes(10), a.tokenTtl());
    AuthConfig env = ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_HTPASSWD", "/x",
        "FLOTILLA_AUTH_POLICIES", "[{\"repositories\":\"**\",\"authenticated\":[\"read\"]}]")).auth();
    assertEquals(List.of("read"), env.policies().get(0).authenticated());
  }

  @Test
  void invalidAuthNamesTheKey() {
    assertMessage("auth.htpasswd", () -> ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_ADMINS", "admin")));
    assertMessage("auth.policies.actions", () -> ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_HTPASSWD", "/x",
        "FLOTILLA_AUTH_POLICIES", "[{\"repositories\":\"**\",\"users\":[\"a\"],\"actions\":[\"write\"]}]")));
    assertMessage("auth.policies.repositories", () -> ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_HTPASSWD", "/x",
        "FLOTILLA_AUTH_POLICIES", "[{\"repositories\":\"Team/**\",\"anonymous\":[\"read\"]}]")));
    assertMessage("auth.policies.owner", () -> ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_HTPASSWD", "/x",
        "FLOTILLA_AUTH_POLICIES", "[{\"repositories\":\"**\",\"owner\":[\"a\"]}]")));
    assertMessage("auth.tokenTtl", () -> ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_HTPASSWD", "/x",
        "FLOTILLA_AUTH_TOKEN_TTL", "2d")));
    assertMessage("auth.admins", () -> ConfigLoader.load(null, Map.of("FLOTILLA_AUTH_HTPASSWD", "/x",
        "FLOTILLA_AUTH_ADMINS", "anonymous")));
  }

  private static void assertMessage(String key, org.junit.jupiter.api.function.Executable e) {
    ConfigException ex = assertThrows(ConfigException.class, e);
    assertTrue(ex.getMessage().contains(key), ex.getMessage());
  }
}
