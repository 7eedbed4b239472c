package io.flotilla.search;

import java.util.Map;

/**
 * The descriptive fields of an image summary. Each comes from the manifest's (or index's)
 * annotations first, then the image config's OCI labels, then its label-schema labels; null when
 * none has it.
 */
record Descriptive(String title, String description, String source, String documentation, String vendor,
    String licenses, String authors) {
  private static final String OCI = "org.opencontainers.image.";
  private static final String LABEL_SCHEMA = "org.label-schema.";

  static Descriptive of(Map<String, String> annotations, Map<String, String> labels) {
    return new Descriptive(
        pick(annotations, labels, "title", "name"),
        pick(annotations, labels, "description", "description"),
        pick(annotations, labels, "source", "vcs-url"),
        pick(annotations, labels, "documentation", "usage"),
        pick(annotations, labels, "vendor", "vendor"),
        pick(annotations, labels, "licenses", null),
        pick(annotations, labels, "authors", null));
  }

  private static String pick(Map<String, String> annotations, Map<String, String> labels, String key, String schemaKey) {
    String v = annotations.get(OCI + key);
    if (v == null) {
      v = labels.get(OCI + key);
    }
    if (v == null && schemaKey != null) {
      v = labels.get(LABEL_SCHEMA + schemaKey);
    }
    return v;
  }
}
