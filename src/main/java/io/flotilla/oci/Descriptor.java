package io.flotilla.oci;

import java.util.Map;

/**
 * A content descriptor as it appears in manifests and indexes: what a piece of content is, its
 * digest and size, and for index entries the platform it is built for.
 *
 * @param artifactType may be null
 * @param annotations never null
 * @param platformOs may be null; only set on index entries that name a platform
 * @param platformArchitecture may be null
 */
public record Descriptor(
    String mediaType,
    Digest digest,
    long size,
    String artifactType,
    Map<String, String> annotations,
    String platformOs,
    String platformArchitecture) {

  public Descriptor {
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  public static Descriptor of(String mediaType, Digest digest, long size) {
    return new Descriptor(mediaType, digest, size, null, Map.of(), null, null);
  }
}
