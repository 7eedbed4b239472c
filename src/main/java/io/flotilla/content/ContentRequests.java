package io.flotilla.content;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.config.ConfigException;
import io.flotilla.oci.Glob;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and checks the JSON bodies of the content API; anything wrong is INVALID_REQUEST (400) with
 * the field named. Unknown fields are refused too, so a typo does not pass silently.
 */
final class ContentRequests {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Set<String> REMOTE_FIELDS = Set.of("name", "url", "upstreamName", "username", "password",
      "verifyTls", "caCertificate", "includeTags", "excludeTags", "policy", "syncInterval");
  private static final Set<String> SETTINGS_FIELDS = Set.of("name", "remote", "mirror", "autoPublish", "autoDistribute",
      "retainVersions");
  private static final Set<String> SYNC_FIELDS = Set.of("remote", "mirror", "autoPublish", "autoDistribute");
  private static final Set<String> DISTRIBUTION_FIELDS = Set.of("name", "basePath", "repository", "publication",
      "version", "latest");
  /** The shortest period of a remote's own syncs. */
  static final long MIN_SYNC_INTERVAL = 1;

  private ContentRequests() {}

  static Remote remote(String pathName, JsonNode body) {
    object(body, REMOTE_FIELDS);
    String name = pathName != null ? pathName : text(body, "name", true);
    if (pathName != null && body.hasNonNull("name") && !body.get("name").asText().equals(pathName)) {
      throw invalid("name: does not match the path");
    }
    name(name, "name");
    String url = text(body, "url", true);
    try {
      UpstreamConfig.of(url);
    } catch (ConfigException | IllegalArgumentException e) {
      throw invalid("url: " + e.getMessage());
    }
    String upstreamName = text(body, "upstreamName", true);
    repository(upstreamName);
    String policy = body.hasNonNull("policy") ? body.get("policy").asText() : Remote.IMMEDIATE;
    if (!policy.equals(Remote.IMMEDIATE) && !policy.equals(Remote.ON_DEMAND)) {
      throw invalid("policy: immediate or onDemand");
    }
    Long interval = null;
    if (body.hasNonNull("syncInterval")) {
      if (!body.get("syncInterval").canConvertToLong() || body.get("syncInterval").asLong() < MIN_SYNC_INTERVAL) {
        throw invalid("syncInterval: a whole number of seconds, at least " + MIN_SYNC_INTERVAL);
      }
      interval = body.get("syncInterval").asLong();
    }
    boolean verifyTls = !body.has("verifyTls") || body.get("verifyTls").asBoolean(true);
    String ca = text(body, "caCertificate", false);
    if (ca != null && !ca.contains("-----BEGIN CERTIFICATE-----")) {
      throw invalid("caCertificate: PEM text of one or more certificates");
    }
    if (ca != null && !verifyTls) {
      throw invalid("caCertificate: makes no sense with verifyTls off");
    }
    return new Remote(name, URI.create(url).toString(), upstreamName, text(body, "username", false),
        text(body, "password", false), verifyTls, ca, globs(body, "includeTags"), globs(body, "excludeTags"), policy,
        interval, 0, 0);
  }

  static RepoSettings settings(RepoSettings old, JsonNode body, long now) {
    object(body, SETTINGS_FIELDS);
    if (body.hasNonNull("name") && !body.get("name").asText().equals(old.name())) {
      throw invalid("name: does not match the path");
    }
    String remote = body.has("remote") ? text(body, "remote", false) : old.remote();
    int retain = old.retainVersions();
    if (body.hasNonNull("retainVersions")) {
      if (!body.get("retainVersions").canConvertToInt() || body.get("retainVersions").asInt() < 0) {
        throw invalid("retainVersions: 0 (keep all) or more");
      }
      retain = body.get("retainVersions").asInt();
    }
    return new RepoSettings(old.name(), remote, bool(body, "mirror", old.mirror()),
        bool(body, "autoPublish", old.autoPublish()), bool(body, "autoDistribute", old.autoDistribute()), retain,
        old.lastSync(), now);
  }

  static SyncRequest sync(JsonNode body) {
    if (body == null || body.isMissingNode() || body.isNull()) {
      return new SyncRequest(null, null, null, null);
    }
    object(body, SYNC_FIELDS);
    return new SyncRequest(text(body, "remote", false), optionalBool(body, "mirror"), optionalBool(body, "autoPublish"),
        optionalBool(body, "autoDistribute"));
  }

  static Distribution distribution(JsonNode body, long now) {
    object(body, DISTRIBUTION_FIELDS);
    String name = text(body, "name", true);
    name(name, "name");
    String basePath = text(body, "basePath", true);
    repository(basePath);
    String repository = text(body, "repository", false);
    if (repository != null) {
      repository(repository);
    }
    if (body.hasNonNull("version") && !body.get("version").canConvertToInt()) {
      throw invalid("version: a version number");
    }
    return new Distribution(name, basePath, repository, null, now, now);
  }

  /** A valid repository name, or INVALID_REQUEST. */
  static RepositoryName repository(String name) {
    try {
      return RepositoryName.of(name);
    } catch (OciException e) {
      throw invalid("invalid repository name " + name);
    }
  }

  private static void name(String name, String field) {
    if (!NAME.matcher(name).matches()) {
      throw invalid(field + ": lower-case letters, digits, '.', '_' and '-', at most 64");
    }
  }

  private static void object(JsonNode body, Set<String> allowed) {
    if (body == null || !body.isObject()) {
      throw invalid("the body must be a JSON object");
    }
    body.fieldNames().forEachRemaining(f -> {
      if (!allowed.contains(f)) {
        throw invalid("unknown field " + f);
      }
    });
  }

  private static String text(JsonNode body, String field, boolean required) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw invalid(field + ": required");
      }
      return null;
    }
    if (!v.isTextual() || v.asText().isEmpty()) {
      throw invalid(field + ": a non-empty string");
    }
    return v.asText();
  }

  private static boolean bool(JsonNode body, String field, boolean otherwise) {
    Boolean b = optionalBool(body, field);
    return b == null ? otherwise : b;
  }

  private static Boolean optionalBool(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw invalid(field + ": true or false");
    }
    return v.asBoolean();
  }

  private static List<String> globs(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return List.of();
    }
    if (!v.isArray()) {
      throw invalid(field + ": a list of globs");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode g : v) {
      if (!g.isTextual() || g.asText().isEmpty() || g.asText().length() > 128) {
        throw invalid(field + ": globs are non-empty strings of at most 128 characters");
      }
      Glob.toPattern(g.asText());
      out.add(g.asText());
    }
    return out;
  }

  static OciException invalid(String detail) {
    return OciError.INVALID_REQUEST.with(detail);
  }
}
