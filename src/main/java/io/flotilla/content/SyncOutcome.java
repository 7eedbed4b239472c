package io.flotilla.content;

import io.flotilla.oci.Digest;
import java.util.List;
import java.util.Map;

/**
 * What one sync did: the local tags it added, moved to another manifest, removed (mirror only) and
 * found already equal to upstream; the manifests and blobs it stored, the blobs the local repository
 * already had, the blob bytes it copied; what failed and why; and every local tag with its manifest
 * once the sync was over. Sorted tag lists.
 */
public record SyncOutcome(List<String> tagsAdded, List<String> tagsUpdated, List<String> tagsRemoved,
    List<String> tagsUnchanged, int manifestsCopied, int blobsCopied, int blobsSkipped, long bytesCopied,
    List<SyncFailure> failures, Map<String, Digest> tags) {

  public SyncOutcome {
    tagsAdded = List.copyOf(tagsAdded);
    tagsUpdated = List.copyOf(tagsUpdated);
    tagsRemoved = List.copyOf(tagsRemoved);
    tagsUnchanged = List.copyOf(tagsUnchanged);
    failures = List.copyOf(failures);
    tags = Map.copyOf(tags);
  }

  /** Whether everything selected was copied (no failures). */
  public boolean complete() {
    return failures.isEmpty();
  }
}
