package io.flotilla.storage;

import io.flotilla.oci.Digest;
import io.flotilla.storage.MetaValues.BlobLink;
import io.flotilla.storage.MetaValues.TagValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One operation's changes to one repository, made under the repository's lock: the puts and
 * deletes collect in one {@link MetaDb.Batch} together with the repository's new
 * {@link MetaValues.Summary} (version + 1, counts and fingerprint adjusted entry by entry), and
 * {@link #commit} writes them atomically and durably before it applies them to the in-memory
 * {@link RepoState}. Until then the state shows the committed data only; what this change already
 * did is tracked here, so an operation may touch the same entry twice.
 */
final class RepoChange implements AutoCloseable {
  private static final Object NONE = new Object();

  private final RepoState r;
  private final MetaDb.Batch batch = new MetaDb.Batch();
  private final List<Consumer<RepoState>> apply = new ArrayList<>();
  /** Entries changed so far: (kind, id) -> new value, or {@link #NONE} when removed. */
  private final Map<Entry, Object> changed = new HashMap<>();
  private long fingerprint;
  private long cleared;
  private int manifests;
  private int tags;
  private int blobs;
  private int tombstones;

  private record Entry(char kind, Object id) {}

  RepoChange(RepoState r) {
    this.r = r;
    MetaValues.Summary s = r.summary();
    this.fingerprint = s.fingerprint();
    this.cleared = s.clearedMillis();
    this.manifests = s.manifests();
    this.tags = s.tags();
    this.blobs = s.blobs();
    this.tombstones = s.tombstones();
  }

  RepoState state() {
    return r;
  }

  boolean isEmpty() {
    return batch.isEmpty();
  }

  /** A key of the store's own written in the same batch (migration progress). */
  void putInternal(byte[] key, byte[] value) {
    batch.put(key, value);
  }

  private Object current(char kind, Object id, Object committed) {
    Object v = changed.get(new Entry(kind, id));
    if (v == null) {
      return committed;
    }
    return v == NONE ? null : v;
  }

  private TagValue currentTag(String tag) {
    Digest d = r.tags.get(tag);
    return (TagValue) current('t', tag, d == null ? null
        : new TagValue(d, r.tagTimes.getOrDefault(tag, 0L), r.tagReplaced.getOrDefault(tag, 0L)));
  }

  private ManifestMeta currentManifest(Digest d) {
    return (ManifestMeta) current('m', d, r.manifests.get(d));
  }

  private BlobLink currentBlob(Digest d) {
    long[] v = r.blobs.get(d);
    return (BlobLink) current('b', d, v == null ? null : new BlobLink(v[0], v[1]));
  }

  private Long currentTagTombstone(String tag) {
    return (Long) current('x', tag, r.deletedTags.get(tag));
  }

  private Long currentManifestTombstone(Digest d) {
    return (Long) current('y', d, r.deletedManifests.get(d));
  }

  void putTag(String tag, Digest digest, long millis) {
    putTag(tag, digest, millis, 0);
  }

  /** Points {@code tag} at {@code digest}, set at {@code millis} by a writer that knew the tag up to {@code replaced}. */
  void putTag(String tag, Digest digest, long millis, long replaced) {
    TagValue old = currentTag(tag);
    if (old == null) {
      tags++;
    } else {
      fingerprint -= RepoState.tagTerm(tag, old.digest());
    }
    fingerprint += RepoState.tagTerm(tag, digest);
    TagValue v = new TagValue(digest, millis, replaced);
    batch.put(MetaKeys.tag(r.name, tag), MetaValues.tag(v));
    changed.put(new Entry('t', tag), v);
    apply.add(s -> s.putTag(tag, digest, millis, replaced));
  }

  void removeTag(String tag) {
    TagValue old = currentTag(tag);
    if (old == null) {
      return;
    }
    tags--;
    fingerprint -= RepoState.tagTerm(tag, old.digest());
    batch.delete(MetaKeys.tag(r.name, tag));
    changed.put(new Entry('t', tag), NONE);
    apply.add(s -> s.removeTag(tag));
  }

  void putManifest(ManifestMeta meta) {
    Digest d = meta.digest();
    ManifestMeta old = currentManifest(d);
    if (old == null) {
      manifests++;
      fingerprint += RepoState.manifestTerm(d);
    } else if (old.subject() != null) {
      batch.delete(MetaKeys.referrer(r.name, old.subject(), d));
    }
    batch.put(MetaKeys.manifest(r.name, d), MetaValues.manifest(meta));
    if (meta.subject() != null) {
      batch.put(MetaKeys.referrer(r.name, meta.subject(), d), new byte[0]);
    }
    changed.put(new Entry('m', d), meta);
    apply.add(s -> {
      ManifestMeta was = s.manifests.get(d);
      if (was != null) {
        s.unindexManifest(was);
      }
      s.indexManifest(meta);
    });
  }

  void removeManifest(Digest d) {
    ManifestMeta old = currentManifest(d);
    if (old == null) {
      return;
    }
    manifests--;
    fingerprint -= RepoState.manifestTerm(d);
    batch.delete(MetaKeys.manifest(r.name, d));
    if (old.subject() != null) {
      batch.delete(MetaKeys.referrer(r.name, old.subject(), d));
    }
    changed.put(new Entry('m', d), NONE);
    apply.add(s -> {
      ManifestMeta was = s.manifests.get(d);
      if (was != null) {
        s.unindexManifest(was);
      }
    });
  }

  void linkBlob(Digest d, long size, long linkedMillis) {
    if (currentBlob(d) == null) {
      blobs++;
    }
    BlobLink v = new BlobLink(size, linkedMillis);
    batch.put(MetaKeys.blob(r.name, d), MetaValues.blob(v));
    changed.put(new Entry('b', d), v);
    apply.add(s -> s.blobs.put(d, new long[] {size, linkedMillis}));
  }

  void unlinkBlob(Digest d) {
    if (currentBlob(d) == null) {
      return;
    }
    blobs--;
    batch.delete(MetaKeys.blob(r.name, d));
    changed.put(new Entry('b', d), NONE);
    apply.add(s -> s.blobs.remove(d));
  }

  void putTagTombstone(String tag, long millis) {
    Long old = currentTagTombstone(tag);
    if (old == null) {
      tombstones++;
    } else {
      fingerprint -= RepoState.tagTombstoneTerm(tag, old);
    }
    fingerprint += RepoState.tagTombstoneTerm(tag, millis);
    batch.put(MetaKeys.tagTombstone(r.name, tag), MetaValues.millis(millis));
    changed.put(new Entry('x', tag), millis);
    apply.add(s -> {
      s.deletedTags.put(tag, millis);
      s.saw(millis);
    });
  }

  void removeTagTombstone(String tag) {
    Long old = currentTagTombstone(tag);
    if (old == null) {
      return;
    }
    tombstones--;
    fingerprint -= RepoState.tagTombstoneTerm(tag, old);
    batch.delete(MetaKeys.tagTombstone(r.name, tag));
    changed.put(new Entry('x', tag), NONE);
    apply.add(s -> s.deletedTags.remove(tag));
  }

  void putManifestTombstone(Digest d, long millis) {
    Long old = currentManifestTombstone(d);
    if (old == null) {
      tombstones++;
    } else {
      fingerprint -= RepoState.manifestTombstoneTerm(d, old);
    }
    fingerprint += RepoState.manifestTombstoneTerm(d, millis);
    batch.put(MetaKeys.manifestTombstone(r.name, d), MetaValues.millis(millis));
    changed.put(new Entry('y', d), millis);
    apply.add(s -> {
      s.deletedManifests.put(d, millis);
      s.saw(millis);
    });
  }

  void removeManifestTombstone(Digest d) {
    Long old = currentManifestTombstone(d);
    if (old == null) {
      return;
    }
    tombstones--;
    fingerprint -= RepoState.manifestTombstoneTerm(d, old);
    batch.delete(MetaKeys.manifestTombstone(r.name, d));
    changed.put(new Entry('y', d), NONE);
    apply.add(s -> s.deletedManifests.remove(d));
  }

  /** Records when the whole repository was deleted (kept in its summary). */
  void setCleared(long millis) {
    fingerprint += RepoState.clearedTerm(millis) - RepoState.clearedTerm(cleared);
    cleared = millis;
    batch.put(MetaKeys.summary(r.name), new byte[0]); // a change: the summary is rewritten below
    apply.add(s -> {
      s.clearedMillis = millis;
      s.saw(millis);
    });
  }

  /**
   * Writes the batch with the repository's new summary, durably, then applies it to the state.
   * Returns false (and writes nothing) when the operation changed nothing.
   */
  boolean commit(MetaDb db) {
    if (batch.isEmpty()) {
      return false;
    }
    long version = r.version() + 1;
    MetaValues.Summary s = new MetaValues.Summary(version, cleared, manifests, tags, blobs, tombstones, fingerprint);
    batch.put(MetaKeys.summary(r.name), MetaValues.summary(s));
    db.commit(batch);
    for (Consumer<RepoState> a : apply) {
      a.accept(r);
    }
    r.stored = true;
    r.stamp = new RepoState.Stamp(version, fingerprint, manifests, tags, blobs, tombstones);
    return true;
  }

  @Override
  public void close() {
    batch.close();
  }
}
