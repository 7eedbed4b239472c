package io.flotilla.content;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The one place content objects turn into JSON: how they are stored ({@link #write}, {@link #read})
 * and how the admin API shows them ({@code api(...)}: ISO-8601 times, no password, links).
 */
public final class ContentJson {
  /** The mapper of the stored form (unknown fields ignored, so older nodes read newer records). */
  public static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ContentJson() {}

  public static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static <T> T read(String json, Class<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (IOException e) {
      throw new UncheckedIOException("stored " + type.getSimpleName() + " does not parse", e);
    }
  }

  static String time(long millis) {
    return millis <= 0 ? null : Instant.ofEpochMilli(millis).toString();
  }

  public static ObjectNode api(Remote r) {
    ObjectNode o = JSON.createObjectNode()
        .put("name", r.name()).put("url", r.url()).put("upstreamName", r.upstreamName())
        .put("username", r.username()).put("hasPassword", r.password() != null && !r.password().isEmpty())
        .put("verifyTls", r.verifyTls()).put("hasCaCertificate", r.caCertificate() != null)
        .put("policy", r.policy());
    strings(o.putArray("includeTags"), r.includeTags());
    strings(o.putArray("excludeTags"), r.excludeTags());
    if (r.syncInterval() == null) {
      o.putNull("syncInterval");
    } else {
      o.put("syncInterval", r.syncInterval());
    }
    return o.put("created", time(r.created())).put("updated", time(r.updated()));
  }

  public static ObjectNode api(RepoSettings s, RepoVersion latest) {
    return JSON.createObjectNode().put("name", s.name()).put("remote", s.remote()).put("mirror", s.mirror())
        .put("autoPublish", s.autoPublish()).put("autoDistribute", s.autoDistribute())
        .put("retainVersions", s.retainVersions()).put("latestVersion", latest == null ? 0 : latest.number())
        .put("lastSync", time(s.lastSync())).put("updated", time(s.updated()));
  }

  public static ObjectNode api(RepoVersion v, boolean withTags) {
    ObjectNode o = JSON.createObjectNode().put("repository", v.repository()).put("number", v.number())
        .put("base", v.base()).put("created", time(v.created())).put("cause", v.cause()).put("task", v.task())
        .put("href", versionHref(v.repository(), v.number()));
    o.putObject("summary").put("added", v.added()).put("removed", v.removed()).put("present", v.present());
    if (withTags) {
      ObjectNode tags = o.putObject("tags");
      for (Map.Entry<String, String> e : v.tags().entrySet()) {
        tags.put(e.getKey(), e.getValue());
      }
    }
    return o;
  }

  public static ObjectNode api(Publication p) {
    return JSON.createObjectNode().put("id", p.id()).put("repository", p.repository()).put("version", p.version())
        .put("created", time(p.created())).put("href", "/api/v1/publications/" + p.id());
  }

  public static ObjectNode api(Distribution d, Publication served) {
    ObjectNode o = JSON.createObjectNode().put("name", d.name()).put("basePath", d.basePath())
        .put("repository", d.repository()).put("publication", d.publication());
    if (d.publication() != null && served != null) {
      o.put("version", served.version());
    } else {
      o.putNull("version");
    }
    if (served != null) {
      o.put("servedVersion", served.version()).put("servedPublication", served.id());
    } else {
      o.putNull("servedVersion");
    }
    return o.put("created", time(d.created())).put("updated", time(d.updated()));
  }

  public static ObjectNode api(Task t) {
    ObjectNode o = JSON.createObjectNode().put("id", t.id()).put("name", t.name()).put("repository", t.repository())
        .put("node", t.node()).put("state", t.state()).put("created", time(t.created()))
        .put("started", time(t.started())).put("finished", time(t.finished())).put("error", t.error())
        .put("href", "/api/v1/tasks/" + t.id());
    strings(o.putArray("createdResources"), t.createdResources());
    ArrayNode reports = o.putArray("progressReports");
    for (ProgressReport r : t.progressReports()) {
      reports.add(JSON.valueToTree(r));
    }
    return o;
  }

  static String versionHref(String repository, int number) {
    return "/api/v1/repositories/" + repository + "/versions/" + number;
  }

  private static void strings(ArrayNode into, List<String> values) {
    values.forEach(into::add);
  }
}
