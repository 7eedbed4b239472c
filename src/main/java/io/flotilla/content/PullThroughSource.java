package io.flotilla.content;

import io.flotilla.oci.RepositoryName;
import java.util.Objects;

/**
 * One onDemand source: the upstream client (shared, long-lived; never closed by the pull-through
 * code), the upstream repository name, and the tag filter of the remote (a tag it does not select is
 * neither served from upstream nor stored).
 */
public record PullThroughSource(UpstreamRegistry upstream, RepositoryName upstreamName, TagFilter filter) {
  public PullThroughSource {
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(upstreamName, "upstreamName");
    Objects.requireNonNull(filter, "filter");
  }
}
