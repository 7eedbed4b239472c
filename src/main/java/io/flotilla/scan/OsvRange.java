package io.flotilla.scan;

import java.util.List;
import java.util.Objects;

/**
 * One OSV {@code affected[].ranges[]} entry: its type and its timeline of events, as read from an
 * advisory (no JSON here; the importer builds these). Events keep the advisory's order, which need
 * not be sorted; {@link AffectedRanges} sorts them.
 */
public record OsvRange(Type type, List<Event> events) {

  /** OSV range types. {@code GIT} ranges cannot be evaluated without the repository and never match. */
  public enum Type { ECOSYSTEM, SEMVER, GIT }

  /** OSV event kinds: each event carries exactly one. */
  public enum Kind { INTRODUCED, FIXED, LAST_AFFECTED, LIMIT }

  /** One event: {@code {"introduced": "1.0"}} is {@code new Event(INTRODUCED, "1.0")}. */
  public record Event(Kind kind, String version) {
    public Event {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(version, "version");
    }
  }

  public OsvRange {
    Objects.requireNonNull(type, "type");
    events = List.copyOf(events);
  }

  /** A range of the given type from alternating shorthand, e.g. {@code of(ECOSYSTEM, introduced("0"), fixed("1.2"))}. */
  public static OsvRange of(Type type, Event... events) {
    return new OsvRange(type, List.of(events));
  }

  public static Event introduced(String version) {
    return new Event(Kind.INTRODUCED, version);
  }

  public static Event fixed(String version) {
    return new Event(Kind.FIXED, version);
  }

  public static Event lastAffected(String version) {
    return new Event(Kind.LAST_AFFECTED, version);
  }

  public static Event limit(String version) {
    return new Event(Kind.LIMIT, version);
  }
}
