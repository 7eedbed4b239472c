package io.flotilla.content;

import io.flotilla.oci.Descriptor;
import java.util.List;

/**
 * What an upstream's referrers API says about a subject: the manifests that refer to it, or that
 * the upstream has no referrers API ({@code supported} false: it answered 404), which is not the
 * same as having none.
 */
public record UpstreamReferrers(boolean supported, List<Descriptor> manifests) {
  public UpstreamReferrers {
    manifests = List.copyOf(manifests);
  }

  /** The upstream has no referrers API. */
  public static UpstreamReferrers unsupported() {
    return new UpstreamReferrers(false, List.of());
  }
}
