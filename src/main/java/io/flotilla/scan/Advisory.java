package io.flotilla.scan;

import java.util.List;
import java.util.Objects;

/**
 * What a compiled database says about one vulnerability id, for display: the text zot's {@code CVE}
 * type returns. An immutable value.
 *
 * @param id the id shown (the CVE alias of an OSV record when it has one)
 * @param title a one-line summary, or {@code ""}
 * @param description the details, or {@code ""}
 * @param severity the record's own severity, {@link Severity#UNKNOWN} if it states none
 * @param reference the one link zot shows ({@code https://www.cve.org/CVERecord?id=...} for CVE ids)
 * @param aliases other ids of the same vulnerability (the OSV record's own id, GHSA ids ...)
 */
public record Advisory(String id, String title, String description, Severity severity, String reference,
    List<String> aliases) {
  public Advisory {
    Objects.requireNonNull(id, "id");
    title = title == null ? "" : title;
    description = description == null ? "" : description;
    Objects.requireNonNull(severity, "severity");
    reference = reference == null ? "" : reference;
    aliases = aliases == null ? List.of() : List.copyOf(aliases);
  }
}
