package io.flotilla.oci;

import java.util.List;
import java.util.Map;

/**
 * The parts of a validated manifest or index that the registry acts on.
 *
 * @param mediaType the effective media type (from the body or the request's Content-Type)
 * @param artifactType the artifact type as the referrers API reports it: the {@code artifactType}
 *     field, else the config media type of an image manifest; may be null for indexes without one
 * @param config null for indexes
 * @param layers blobs an image manifest references (empty for indexes)
 * @param manifests children of an index (empty for image manifests)
 * @param subject may be null
 */
public record Manifest(
    String mediaType,
    String artifactType,
    Descriptor config,
    List<Descriptor> layers,
    List<Descriptor> manifests,
    Descriptor subject,
    Map<String, String> annotations) {

  public Manifest {
    layers = List.copyOf(layers);
    manifests = List.copyOf(manifests);
    annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
  }

  public boolean isIndex() {
    return MediaTypes.isIndex(mediaType);
  }

  /** The blobs a registry stores for this manifest: its config, then its layers that are not foreign. */
  public List<Descriptor> storedBlobs() {
    List<Descriptor> out = new java.util.ArrayList<>(layers.size() + 1);
    if (config != null) {
      out.add(config);
    }
    for (Descriptor layer : layers) {
      if (!MediaTypes.isForeignLayer(layer.mediaType())) {
        out.add(layer);
      }
    }
    return out;
  }
}
