package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.Tag;
import java.util.ArrayList;
import java.util.List;

/**
 * One selected tag as a sync resolved it: the manifest its local tag named before ({@code before},
 * null when new), the upstream manifest ({@code top}), the child manifests and referrers the local
 * repository lacks (each after its own children), or why it failed ({@code failure}, then the rest
 * is empty and {@code top} may be null).
 */
record TagPlan(Tag tag, Digest before, UpstreamManifest top, List<UpstreamManifest> children,
    List<UpstreamManifest> referrers, String failure) {

  static TagPlan failed(Tag tag, Digest before, String failure) {
    return new TagPlan(tag, before, null, List.of(), List.of(), failure);
  }

  /** The local tag already names the upstream manifest: nothing of the image itself to copy. */
  boolean unchanged() {
    return failure == null && top.digest().equals(before);
  }

  /** The manifests to store for the tag itself: children, then the tagged one unless unchanged. */
  List<UpstreamManifest> image() {
    List<UpstreamManifest> out = new ArrayList<>(children);
    if (!unchanged()) {
      out.add(top);
    }
    return out;
  }
}
