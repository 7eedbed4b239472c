package io.flotilla.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import java.util.List;

/**
 * One registry event, field for field as CNCF distribution's notifications carry it (so receivers
 * written for distribution work unchanged). Null fields are left out of the JSON.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RegistryEvent(String id, String timestamp, String action, Target target, Request request, Actor actor,
    Source source) {

  /**
   * What the operation was about. {@code size} and {@code length} are the same number, as in
   * distribution. {@code order} (Flotilla's) is the repository's order on the reporting node after the
   * operation: writes to a repository get increasing values, and a pull's value is the newest write
   * it could have seen; null when not known (blob events).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Target(String mediaType, Long size, String digest, Long length, String repository,
      String fromRepository, String url, String tag, List<String> references, Long order) {
    public Target(String mediaType, Long size, String digest, Long length, String repository,
        String fromRepository, String url, String tag, List<String> references) {
      this(mediaType, size, digest, length, repository, fromRepository, url, tag, references, null);
    }
  }

  /** The HTTP request that caused it. */
  public record Request(String id, String addr, String host, String method, String useragent) {}

  /** Who caused it: the authenticated user ("anonymous" until access control lands). */
  public record Actor(String name) {}

  /** Where it happened: the node's HTTP address and its node name. */
  public record Source(String addr, String instanceID) {}

  /**
   * This event as one line of JSON: what Jackson's data binding writes for it (null fields of the
   * event and its target left out), written field by field, because binding records goes through
   * reflection and costs several times more on a path every push takes.
   */
  public String toJson() {
    java.io.StringWriter out = new java.io.StringWriter(1024);
    try (JsonGenerator g = EventFormat.JSON.getFactory().createGenerator(out)) {
      write(g);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toString();
  }

  /** The same line as {@link #toJson}, written as UTF-8 straight into {@code out} (no string in between). */
  public void writeJson(java.io.OutputStream out) throws java.io.IOException {
    try (JsonGenerator g = EventFormat.JSON.getFactory().createGenerator(out, com.fasterxml.jackson.core.JsonEncoding.UTF8)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      write(g);
    }
  }

  private void write(JsonGenerator g) throws java.io.IOException {
    {
      g.writeStartObject();
      optional(g, "id", id);
      optional(g, "timestamp", timestamp);
      optional(g, "action", action);
      if (target != null) {
        g.writeObjectFieldStart("target");
        optional(g, "mediaType", target.mediaType());
        if (target.size() != null) {
          g.writeNumberField("size", target.size());
        }
        optional(g, "digest", target.digest());
        if (target.length() != null) {
          g.writeNumberField("length", target.length());
        }
        optional(g, "repository", target.repository());
        optional(g, "fromRepository", target.fromRepository());
        optional(g, "url", target.url());
        optional(g, "tag", target.tag());
        if (target.references() != null) {
          g.writeArrayFieldStart("references");
          for (String r : target.references()) {
            g.writeString(r);
          }
          g.writeEndArray();
        }
        if (target.order() != null) {
          g.writeNumberField("order", target.order());
        }
        g.writeEndObject();
      }
      if (request != null) {
        g.writeObjectFieldStart("request");
        g.writeStringField("id", request.id());
        g.writeStringField("addr", request.addr());
        g.writeStringField("host", request.host());
        g.writeStringField("method", request.method());
        g.writeStringField("useragent", request.useragent());
        g.writeEndObject();
      }
      if (actor != null) {
        g.writeObjectFieldStart("actor");
        g.writeStringField("name", actor.name());
        g.writeEndObject();
      }
      if (source != null) {
        g.writeObjectFieldStart("source");
        g.writeStringField("addr", source.addr());
        g.writeStringField("instanceID", source.instanceID());
        g.writeEndObject();
      }
      g.writeEndObject();
    }
  }

  private static void optional(JsonGenerator g, String name, String value) throws java.io.IOException {
    if (value != null) {
      g.writeStringField(name, value);
    }
  }
}
