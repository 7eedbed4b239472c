package io.flotilla.storage;

import io.flotilla.oci.Digest;
import java.util.List;
import java.util.Map;

/**
 * What the store keeps about one manifest in one repository; the manifest bytes themselves live in
 * the {@link BlobStore}. Persisted as JSON in the repository's metadata folder.
 *
 * @param artifactType may be null
 * @param subject may be null
 * @param references every blob and child manifest the manifest points at (for GC and usage)
 */
public record ManifestMeta(
    Digest digest,
    String mediaType,
    long size,
    String artifactType,
    Digest subject,
    Map<String, String> annotations,
    List<Digest> references,
    long createdMillis) {

  public ManifestMeta {
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    references = references == null ? List.of() : List.copyOf(references);
  }
}
