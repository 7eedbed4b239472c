package io.flotilla.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the configuration: built-in defaults, then an optional YAML (or JSON) file, then
 * {@code FLOTILLA_*} environment variables. Unknown keys and malformed values fail with a
 * {@link ConfigException} naming the key. {@code docs/configuration.md} lists every key.
 */
public final class ConfigLoader {
  /** Environment variable to config key. The first five are the stable operator interface. */
  public static final Map<String, String> ENV = envTable();

  private static final Set<String> KNOWN_KEYS = Set.of(
      "node.name", "http.host", "http.port", "http.instances", "http.shutdownTimeout", "http.accessLog",
      "http.adminPort", "http.tls.cert", "http.tls.key",
      "cluster.tls.cert", "cluster.tls.key", "cluster.tls.ca", "events.allowPrivateWebhookTargets",
      "auth.htpasswd", "auth.admins", "auth.groups", "auth.policies", "auth.tokenTtl",
      "auth.keyRotation", "auth.loginFailures",
      "storage.dataDir", "storage.deleteEnabled", "storage.maxManifestBytes", "storage.maxPageSize",
      "storage.uploadExpiry", "storage.gcInterval", "storage.gcGrace", "storage.tombstoneRetention",
      "cluster.name", "cluster.host", "cluster.port", "cluster.members", "cluster.hazelcastConfig",
      "cluster.replicationFactor", "cluster.writeQuorum", "cluster.rebalanceInterval", "cluster.handoffTimeout",
      "cluster.dataPort", "cluster.dataIdleTimeout",
      "events.enabled", "events.journalMaxBytes", "events.webhooks", "events.kafka.bootstrapServers", "events.kafka.topic",
      "events.kafka.format", "scan.enabled", "scan.database", "scan.workers", "scan.deadline", "scan.policies");
  /** Keys whose value is a list of objects, kept as JSON text by the flattening. */
  private static final Set<String> STRUCTURED_KEYS = Set.of("events.webhooks", "auth.groups", "auth.policies",
      "scan.policies");
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

  private ConfigLoader() {}

  private static Map<String, String> envTable() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("FLOTILLA_HTTP_PORT", "http.port");
    m.put("FLOTILLA_DATA_DIR", "storage.dataDir");
    m.put("FLOTILLA_NODE_NAME", "node.name");
    m.put("FLOTILLA_CLUSTER_PORT", "cluster.port");
    m.put("FLOTILLA_CLUSTER_MEMBERS", "cluster.members");
    m.put("FLOTILLA_CLUSTER_DATA_PORT", "cluster.dataPort");
    m.put("FLOTILLA_CLUSTER_DATA_IDLE_TIMEOUT", "cluster.dataIdleTimeout");
    m.put("FLOTILLA_HTTP_HOST", "http.host");
    m.put("FLOTILLA_HTTP_INSTANCES", "http.instances");
    m.put("FLOTILLA_HTTP_SHUTDOWN_TIMEOUT", "http.shutdownTimeout");
    m.put("FLOTILLA_HTTP_ACCESS_LOG", "http.accessLog");
    m.put("FLOTILLA_STORAGE_DELETE_ENABLED", "storage.deleteEnabled");
    m.put("FLOTILLA_STORAGE_MAX_MANIFEST_BYTES", "storage.maxManifestBytes");
    m.put("FLOTILLA_STORAGE_MAX_PAGE_SIZE", "storage.maxPageSize");
    m.put("FLOTILLA_STORAGE_UPLOAD_EXPIRY", "storage.uploadExpiry");
    m.put("FLOTILLA_STORAGE_GC_INTERVAL", "storage.gcInterval");
    m.put("FLOTILLA_STORAGE_GC_GRACE", "storage.gcGrace");
    m.put("FLOTILLA_STORAGE_TOMBSTONE_RETENTION", "storage.tombstoneRetention");
    m.put("FLOTILLA_CLUSTER_NAME", "cluster.name");
    m.put("FLOTILLA_CLUSTER_HOST", "cluster.host");
    m.put("FLOTILLA_CLUSTER_HAZELCAST_CONFIG", "cluster.hazelcastConfig");
    m.put("FLOTILLA_CLUSTER_REPLICATION_FACTOR", "cluster.replicationFactor");
    m.put("FLOTILLA_CLUSTER_WRITE_QUORUM", "cluster.writeQuorum");
    m.put("FLOTILLA_CLUSTER_REBALANCE_INTERVAL", "cluster.rebalanceInterval");
    m.put("FLOTILLA_CLUSTER_HANDOFF_TIMEOUT", "cluster.handoffTimeout");
    m.put("FLOTILLA_EVENTS_ENABLED", "events.enabled");
    m.put("FLOTILLA_SCAN_ENABLED", "scan.enabled");
    m.put("FLOTILLA_SCAN_DATABASE", "scan.database");
    m.put("FLOTILLA_SCAN_POLICIES", "scan.policies");
    m.put("FLOTILLA_EVENTS_KAFKA_BOOTSTRAP_SERVERS", "events.kafka.bootstrapServers");
    m.put("FLOTILLA_EVENTS_KAFKA_TOPIC", "events.kafka.topic");
    m.put("FLOTILLA_EVENTS_KAFKA_FORMAT", "events.kafka.format");
    m.put("FLOTILLA_EVENTS_ALLOW_PRIVATE_WEBHOOK_TARGETS", "events.allowPrivateWebhookTargets");
    m.put("FLOTILLA_HTTP_ADMIN_PORT", "http.adminPort");
    m.put("FLOTILLA_HTTP_TLS_CERT", "http.tls.cert");
    m.put("FLOTILLA_HTTP_TLS_KEY", "http.tls.key");
    m.put("FLOTILLA_CLUSTER_TLS_CERT", "cluster.tls.cert");
    m.put("FLOTILLA_CLUSTER_TLS_KEY", "cluster.tls.key");
    m.put("FLOTILLA_CLUSTER_TLS_CA", "cluster.tls.ca");
    m.put("FLOTILLA_AUTH_HTPASSWD", "auth.htpasswd");
    m.put("FLOTILLA_AUTH_ADMINS", "auth.admins");
    m.put("FLOTILLA_AUTH_GROUPS", "auth.groups");
    m.put("FLOTILLA_AUTH_POLICIES", "auth.policies");
    m.put("FLOTILLA_AUTH_TOKEN_TTL", "auth.tokenTtl");
    m.put("FLOTILLA_AUTH_KEY_ROTATION", "auth.keyRotation");
    m.put("FLOTILLA_AUTH_LOGIN_FAILURES", "auth.loginFailures");
    return Map.copyOf(m);
  }

  /** Loads from an optional file and the given environment. */
  public static FlotillaConfig load(Path file, Map<String, String> env) {
    Map<String, String> values = new LinkedHashMap<>();
    if (file != null) {
      flattenFile(file, values);
    }
    for (var e : ENV.entrySet()) {
      String v = env.get(e.getKey());
      if (v != null) {
        values.put(e.getValue(), v);
      }
    }
    return build(values);
  }

  /** Builds a config from flat {@code section.key} values over the defaults (used by tests too). */
  public static FlotillaConfig build(Map<String, String> values) {
    for (String key : values.keySet()) {
      if (!KNOWN_KEYS.contains(key)) {
        throw new ConfigException(key, "unknown key");
      }
    }
    HttpConfig h = HttpConfig.DEFAULT;
    StorageConfig s = StorageConfig.DEFAULT;
    ClusterConfig c = ClusterConfig.DEFAULT;
    Reader r = new Reader(values);
    HttpConfig http = new HttpConfig(r.str("http.host", h.host()), r.integer("http.port", h.port()),
        r.integer("http.instances", h.instances()), r.duration("http.shutdownTimeout", h.shutdownTimeout()),
        r.bool("http.accessLog", h.accessLog()), r.integer("http.adminPort", h.adminPort()),
        TlsFiles.of("http.tls", r.str("http.tls.cert", null), r.str("http.tls.key", null), null, false));
    StorageConfig storage = new StorageConfig(Path.of(r.str("storage.dataDir", s.dataDir().toString())),
        r.bool("storage.deleteEnabled", s.deleteEnabled()), r.integer("storage.maxManifestBytes", s.maxManifestBytes()),
        r.integer("storage.maxPageSize", s.maxPageSize()), r.duration("storage.uploadExpiry", s.uploadExpiry()),
        r.duration("storage.gcInterval", s.gcInterval()), r.duration("storage.gcGrace", s.gcGrace()),
        r.duration("storage.tombstoneRetention", s.tombstoneRetention()));
    String hz = r.str("cluster.hazelcastConfig", null);
    ClusterConfig cluster = new ClusterConfig(r.str("cluster.name", c.name()), r.str("cluster.host", c.host()),
        r.integer("cluster.port", c.port()), r.list("cluster.members", c.members()),
        hz == null || hz.isBlank() ? null : Path.of(hz), r.integer("cluster.replicationFactor", c.replicationFactor()),
        r.integer("cluster.writeQuorum", c.writeQuorum()), r.duration("cluster.rebalanceInterval", c.rebalanceInterval()),
        r.duration("cluster.handoffTimeout", c.handoffTimeout()),
        TlsFiles.of("cluster.tls", r.str("cluster.tls.cert", null), r.str("cluster.tls.key", null),
            r.str("cluster.tls.ca", null), true),
        r.integer("cluster.dataPort", c.dataPort()), r.duration("cluster.dataIdleTimeout", c.dataIdleTimeout()));
    EventsConfig events = new EventsConfig(r.bool("events.enabled", true), r.integer("events.journalMaxBytes", (int) Math.min(Integer.MAX_VALUE,
        EventsConfig.DEFAULT.journalMaxBytes())), webhooks(r.str("events.webhooks", null)),
        new KafkaConfig(r.str("events.kafka.bootstrapServers", ""), r.str("events.kafka.topic", KafkaConfig.OFF.topic()),
            r.str("events.kafka.format", null)), r.bool("events.allowPrivateWebhookTargets", false));
    ScanConfig d = ScanConfig.DEFAULT;
    ScanConfig scan = new ScanConfig(r.bool("scan.enabled", d.enabled()), r.str("scan.database", d.database()),
        r.integer("scan.workers", d.workers()), r.duration("scan.deadline", d.deadline()),
        scanPolicies(r.str("scan.policies", null)));
    return new FlotillaConfig(r.str("node.name", defaultNodeName()), http, storage, cluster, events, auth(values, r),
        scan);
  }

  /** The {@code auth} section: present when any {@code auth.*} key is set. */
  private static AuthConfig auth(Map<String, String> values, Reader r) {
    if (values.keySet().stream().noneMatch(k -> k.startsWith("auth."))) {
      return AuthConfig.OPEN;
    }
    AuthConfig d = AuthConfig.OPEN;
    String htpasswd = r.str("auth.htpasswd", null);
    return new AuthConfig(true, htpasswd == null || htpasswd.isBlank() ? null : Path.of(htpasswd),
        r.list("auth.admins", List.of()), groups(r.str("auth.groups", null)), policies(r.str("auth.policies", null)),
        r.duration("auth.tokenTtl", d.tokenTtl()),
        r.duration("auth.keyRotation", d.keyRotation()), r.integer("auth.loginFailures", d.loginFailures()));
  }

  private static Map<String, List<String>> groups(String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      JsonNode node = new ObjectMapper().readTree(json);
      if (!node.isObject()) {
        throw new ConfigException("auth.groups", "must map each group name to a list of users");
      }
      Map<String, List<String>> out = new LinkedHashMap<>();
      node.fields().forEachRemaining(e -> {
        if (!e.getValue().isArray()) {
          throw new ConfigException("auth.groups." + e.getKey(), "must be a list of users");
        }
        out.put(e.getKey(), strings(e.getValue()));
      });
      return out;
    } catch (IOException e) {
      throw new ConfigException("auth.groups", "is not valid: " + e.getMessage());
    }
  }

  private static List<AuthConfig.Policy> policies(String json) {
    if (json == null || json.isBlank()) {
      return List.of();
    }
    try {
      JsonNode list = new ObjectMapper().readTree(json);
      if (!list.isArray()) {
        throw new ConfigException("auth.policies", "must be a list of policies");
      }
      Set<String> fields = Set.of("repositories", "users", "groups", "actions", "anonymous", "authenticated");
      List<AuthConfig.Policy> out = new ArrayList<>();
      for (JsonNode p : list) {
        if (!p.isObject()) {
          throw new ConfigException("auth.policies", "a policy must be an object");
        }
        p.fieldNames().forEachRemaining(f -> {
          if (!fields.contains(f)) {
            throw new ConfigException("auth.policies." + f, "is not a known policy field");
          }
        });
        out.add(new AuthConfig.Policy(p.path("repositories").asText(null), strings(p.get("users")),
            strings(p.get("groups")), strings(p.get("actions")), strings(p.get("anonymous")),
            strings(p.get("authenticated"))));
      }
      return out;
    } catch (IOException e) {
      throw new ConfigException("auth.policies", "is not valid: " + e.getMessage());
    }
  }

  private static List<String> strings(JsonNode node) {
    List<String> out = new ArrayList<>();
    if (node != null && node.isArray()) {
      node.forEach(x -> out.add(x.asText()));
    } else if (node != null && node.isTextual()) {
      for (String part : node.asText().split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
    }
    return out;
  }

  /** Parses the {@code scan.policies} list: objects with {@code repositories} (a glob) and {@code severity}. */
  private static List<ScanConfig.Policy> scanPolicies(String json) {
    if (json == null || json.isBlank()) {
      return List.of();
    }
    try {
      JsonNode list = new ObjectMapper().readTree(json);
      if (!list.isArray()) {
        throw new ConfigException("scan.policies", "must be a list of {repositories, severity}");
      }
      List<ScanConfig.Policy> out = new ArrayList<>();
      for (JsonNode p : list) {
        if (!p.isObject() || !p.path("repositories").isTextual() || !p.path("severity").isTextual() || p.size() != 2) {
          throw new ConfigException("scan.policies", "each entry must be {repositories, severity}");
        }
        out.add(new ScanConfig.Policy(p.get("repositories").asText(), p.get("severity").asText()));
      }
      return out;
    } catch (IOException e) {
      throw new ConfigException("scan.policies", "is not valid: " + e.getMessage());
    }
  }

  /** Parses the {@code events.webhooks} list (durations as in the rest of the file: 5s, 10m...). */
  private static List<WebhookConfig> webhooks(String json) {
    if (json == null || json.isBlank()) {
      return List.of();
    }
    try {
      JsonNode list = new ObjectMapper().readTree(json);
      if (!list.isArray()) {
        throw new ConfigException("events.webhooks", "must be a list of endpoints");
      }
      List<WebhookConfig> out = new ArrayList<>();
      for (JsonNode w : list) {
        out.add(webhook(w));
      }
      return out;
    } catch (IOException e) {
      throw new ConfigException("events.webhooks", "is not valid: " + e.getMessage());
    }
  }

  /**
   * One webhook endpoint from its JSON form (as in the file's {@code events.webhooks} list and the
   * {@code /api/v1/webhooks} API; durations as {@code 5s}, {@code 250ms}...).
   *
   * @throws ConfigException naming the field that is wrong
   */
  public static WebhookConfig webhook(JsonNode w) {
    if (w == null || !w.isObject()) {
      throw new ConfigException("events.webhooks", "an endpoint must be an object");
    }
    Set<String> fields = Set.of("name", "url", "headers", "timeout", "backoff", "maxBackoff", "maxAttempts", "maxAge",
        "actions", "mediaTypes", "repositories", "secret", "format", "batchSize", "paused");
    w.fieldNames().forEachRemaining(f -> {
      if (!fields.contains(f)) {
        throw new ConfigException("events.webhooks." + f, "is not a known endpoint field");
      }
    });
    Reader r = new Reader(flatEndpoint(w));
    return new WebhookConfig(r.str("name", null), r.str("url", null), headers(w.get("headers")),
        r.duration("timeout", null), r.duration("backoff", null), r.duration("maxBackoff", null),
        r.integer("maxAttempts", 0), r.duration("maxAge", null), r.list("actions", List.of()),
        r.list("mediaTypes", List.of()), r.str("repositories", null), r.str("secret", null),
        r.str("format", null), r.integer("batchSize", 0), r.bool("paused", false));
  }

  private static Map<String, String> flatEndpoint(JsonNode w) {
    Map<String, String> flat = new LinkedHashMap<>();
    w.fields().forEachRemaining(e -> {
      if (e.getValue().isArray()) {
        List<String> items = new ArrayList<>();
        e.getValue().forEach(x -> items.add(x.asText()));
        flat.put(e.getKey(), String.join(",", items));
      } else if (!e.getValue().isObject() && !e.getValue().isNull()) {
        flat.put(e.getKey(), e.getValue().asText());
      }
    });
    return flat;
  }

  private static Map<String, String> headers(JsonNode h) {
    Map<String, String> out = new LinkedHashMap<>();
    if (h != null && h.isObject()) {
      h.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return out;
  }

  private static String defaultNodeName() {
    try {
      String host = InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "-");
      return host.isEmpty() || !Character.isLetterOrDigit(host.charAt(0)) ? "node-1" : host;
    } catch (IOException e) {
      return "node-1";
    }
  }

  private static void flattenFile(Path file, Map<String, String> out) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new ConfigException("(file " + file + ")", "cannot be read: " + e.getMessage());
    }
    if (root == null || root.isNull() || root.isMissingNode()) {
      return;
    }
    if (!root.isObject()) {
      throw new ConfigException("(file " + file + ")", "must be a mapping of sections");
    }
    flatten("", root, out);
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    Iterator<Map.Entry<String, JsonNode>> it = node.fields();
    while (it.hasNext()) {
      var e = it.next();
      String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      JsonNode v = e.getValue();
      if (STRUCTURED_KEYS.contains(key)) {
        out.put(key, v.toString());
      } else if (v.isObject()) {
        flatten(key, v, out);
      } else if (v.isArray()) {
        List<String> items = new ArrayList<>();
        v.forEach(x -> items.add(x.asText()));
        out.put(key, String.join(",", items));
      } else if (!v.isNull()) {
        out.put(key, v.asText());
      }
    }
  }

  /** Typed access to flat values; every parse failure names its key. */
  private record Reader(Map<String, String> values) {
    String str(String key, String def) {
      String v = values.get(key);
      return v == null ? def : v.trim();
    }

    int integer(String key, int def) {
      String v = values.get(key);
      if (v == null) {
        return def;
      }
      try {
        return Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(key, "'" + v + "' is not an integer");
      }
    }

    boolean bool(String key, boolean def) {
      String v = values.get(key);
      if (v == null) {
        return def;
      }
      return switch (v.trim().toLowerCase()) {
        case "true", "yes", "on", "1" -> true;
        case "false", "no", "off", "0" -> false;
        default -> throw new ConfigException(key, "'" + v + "' is not a boolean");
      };
    }

    Duration duration(String key, Duration def) {
      String v = values.get(key);
      if (v == null) {
        return def;
      }
      Matcher m = DURATION.matcher(v.trim());
      if (!m.matches()) {
        throw new ConfigException(key, "'" + v + "' is not a duration (e.g. 30s, 5m, 1h, 250ms)");
      }
      long n = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      return switch (unit) {
        case "ms" -> Duration.ofMillis(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        case "d" -> Duration.ofDays(n);
        default -> Duration.ofSeconds(n);
      };
    }

    List<String> list(String key, List<String> def) {
      String v = values.get(key);
      if (v == null) {
        return def;
      }
      List<String> out = new ArrayList<>();
      for (String part : v.split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
      return out;
    }
  }

}
