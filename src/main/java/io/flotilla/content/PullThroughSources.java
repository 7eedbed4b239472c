package io.flotilla.content;

import java.util.Optional;

/**
 * Which repositories are served on demand from an upstream (a remote with {@code policy: onDemand}),
 * and from where. Read by the pull-through decorators ({@link PullThroughStorage},
 * {@link PullThroughTransfer}) on every request that misses locally.
 */
public interface PullThroughSources {
  /** No repository is served on demand. */
  PullThroughSources NONE = repository -> Optional.empty();

  /** Fast, non-blocking, safe on an event loop (an in-memory lookup). */
  Optional<PullThroughSource> source(String repository);
}
