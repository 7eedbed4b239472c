package io.flotilla.scan;

import java.util.HashMap;
import java.util.Map;

/**
 * The ordering of a {@link ParsingComparator} with parsed versions memoised, so that matching parses each
 * advisory version once per database and each installed version once per image instead of at every
 * comparison. Orders exactly as the comparator it wraps (same keys, same {@code compareKeys}, same
 * fallback). The shared table is filled when a {@link VulnDb} is built and only read afterwards; the local
 * table belongs to one {@link VulnDb#match} call: an instance is confined to one thread.
 */
final class MemoComparator<K> implements VersionComparator {
  private static final Object INVALID = new Object();

  private final ParsingComparator<K> base;
  private final Map<String, Object> shared;
  private final Map<String, Object> local = new HashMap<>();
  private String lastVersion;
  private Object lastKey;

  private MemoComparator(ParsingComparator<K> base, Map<String, Object> shared) {
    this.base = base;
    this.shared = shared;
  }

  /** A per-call view of {@code comparator} over the {@code shared} table of {@link #parseAll}. */
  static VersionComparator over(VersionComparator comparator, Map<String, Object> shared) {
    return comparator instanceof ParsingComparator<?> p ? wrap(p, shared) : comparator;
  }

  private static <K> MemoComparator<K> wrap(ParsingComparator<K> p, Map<String, Object> shared) {
    return new MemoComparator<>(p, shared);
  }

  /** Parses {@code version} with {@code comparator} into {@code table} (for the shared table). */
  static void parseInto(VersionComparator comparator, String version, Map<String, Object> table) {
    if (comparator instanceof ParsingComparator<?> p && version != null && !table.containsKey(version)) {
      Object k = p.parse(version);
      table.put(version, k == null ? INVALID : k);
    }
  }

  @SuppressWarnings("unchecked")
  private K key(String version) {
    if (version == lastVersion) { // the installed version, compared with every advisory version in turn
      return lastKey == INVALID ? null : (K) lastKey;
    }
    Object k = shared.get(version);
    if (k == null) {
      k = local.get(version);
      if (k == null) {
        K parsed = base.parse(version);
        k = parsed == null ? INVALID : parsed;
        local.put(version, k);
      }
      lastVersion = version;
      lastKey = k;
    }
    return k == INVALID ? null : (K) k;
  }

  @Override
  public boolean valid(String version) {
    return version != null && key(version) != null;
  }

  @Override
  public int compare(String a, String b) {
    K ka = a == null ? null : key(a);
    K kb = b == null ? null : key(b);
    if (ka != null && kb != null) {
      return Integer.signum(base.compareKeys(ka, kb));
    }
    return ParsingComparator.fallback(a, ka != null, b, kb != null);
  }
}
