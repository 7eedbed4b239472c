package io.flotilla.events;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One registry event, field for field as CNCF distribution's notifications carry it (so receivers
 * written for distribution work unchanged). Null fields are left out of the JSON.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RegistryEvent(String id, String timestamp, String action, Target target, Request request, Actor actor,
    Source source) {

  /** What the operation was about. {@code size} and {@code length} are the same number, as in distribution. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Target(String mediaType, Long size, String digest, Long length, String repository,
      String fromRepository, String url, String tag, List<String> references) {}

  /** The HTTP request that caused it. */
  public record Request(String id, String addr, String host, String method, String useragent) {}

  /** Who caused it: the authenticated user ("anonymous" until access control lands). */
  public record Actor(String name) {}

  /** Where it happened: the node's HTTP address and its node name. */
  public record Source(String addr, String instanceID) {}
}
