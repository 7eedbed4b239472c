package io.flotilla.storage;

import io.flotilla.oci.Digest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded, least-recently-used cache of manifest bytes by digest, so hot manifests are served
 * from memory. Content-addressed, so entries never go stale. Thread-safe.
 */
final class ManifestCache {
  private final long maxBytes;
  private long bytes;
  private final LinkedHashMap<Digest, byte[]> map = new LinkedHashMap<>(1024, 0.75f, true);

  ManifestCache(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  synchronized byte[] get(Digest d) {
    return map.get(d);
  }

  synchronized void put(Digest d, byte[] body) {
    if (body.length > maxBytes / 8) {
      return;
    }
    byte[] old = map.put(d, body);
    if (old != null) {
      bytes -= old.length;
    }
    bytes += body.length;
    var it = map.entrySet().iterator();
    while (bytes > maxBytes && it.hasNext()) {
      Map.Entry<Digest, byte[]> e = it.next();
      bytes -= e.getValue().length;
      it.remove();
    }
  }
}
