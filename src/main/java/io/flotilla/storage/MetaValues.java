package io.flotilla.storage;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.FromStringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.flotilla.oci.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The values of the metadata database (see {@link MetaKeys} for the keys): small fixed binary
 * records, and {@link ManifestMeta} as JSON (the same JSON the file layout used).
 */
final class MetaValues {
  static final ObjectMapper JSON = new ObjectMapper()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .registerModule(new SimpleModule()
          .addSerializer(Digest.class, ToStringSerializer.instance)
          .addDeserializer(Digest.class, new FromStringDeserializer<>(Digest.class) {
            @Override
            protected Digest _deserialize(String value, com.fasterxml.jackson.databind.DeserializationContext ctx) {
              return Digest.parse(value);
            }
          }));

  private static final byte SUMMARY_FORMAT = 1;

  private MetaValues() {}

  /**
   * What a repository holds, without loading it: the version every change increments, when the
   * whole repository was last deleted, how many manifests, tags, blob links and tombstones it has,
   * and its replication fingerprint (see {@link RepoState#fingerprint}).
   */
  record Summary(long version, long clearedMillis, int manifests, int tags, int blobs, int tombstones,
      long fingerprint) {
    /** No content (tombstones may remain): the repository is not in the catalog. */
    boolean isEmpty() {
      return manifests == 0 && tags == 0 && blobs == 0;
    }
  }

  /**
   * A tag: the manifest it points at, when it was set there, and the newest time the writer knew for
   * the tag when it set it ({@code replaced}: the set or delete it replaced, 0 = none): a copy whose
   * own time is newer than that was not seen by the writer, so overwriting it is a conflict.
   */
  record TagValue(Digest digest, long millis, long replaced) {
    TagValue(Digest digest, long millis) {
      this(digest, millis, 0);
    }
  }

  /** A blob link: the stored blob's size and when it was linked into the repository. */
  record BlobLink(long size, long linkedMillis) {}

  static byte[] summary(Summary s) {
    return ByteBuffer.allocate(1 + 8 + 8 + 4 * 4 + 8).put(SUMMARY_FORMAT).putLong(s.version())
        .putLong(s.clearedMillis()).putInt(s.manifests()).putInt(s.tags()).putInt(s.blobs())
        .putInt(s.tombstones()).putLong(s.fingerprint()).array();
  }

  static Summary summary(byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    byte format = b.get();
    if (format != SUMMARY_FORMAT) {
      throw new IllegalStateException("unknown repository summary format " + format);
    }
    return new Summary(b.getLong(), b.getLong(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getLong());
  }

  /** Time, digest (ASCII), then, when known, a zero byte and the replaced time (older values end at the digest). */
  static byte[] tag(TagValue t) {
    byte[] d = t.digest().toString().getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(8 + d.length + (t.replaced() > 0 ? 9 : 0)).putLong(t.millis()).put(d);
    if (t.replaced() > 0) {
      b.put((byte) 0).putLong(t.replaced());
    }
    return b.array();
  }

  static TagValue tag(byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    long millis = b.getLong();
    int end = 8;
    while (end < v.length && v[end] != 0) {
      end++;
    }
    long replaced = end + 9 <= v.length ? b.getLong(end + 1) : 0;
    return new TagValue(Digest.parse(new String(v, 8, end - 8, StandardCharsets.US_ASCII)), millis, replaced);
  }

  static byte[] blob(BlobLink l) {
    return ByteBuffer.allocate(16).putLong(l.size()).putLong(l.linkedMillis()).array();
  }

  static BlobLink blob(byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    return new BlobLink(b.getLong(), b.getLong());
  }

  static byte[] millis(long millis) {
    return ByteBuffer.allocate(8).putLong(millis).array();
  }

  static long millis(byte[] v) {
    return ByteBuffer.wrap(v).getLong();
  }

  static byte[] manifest(ManifestMeta m) {
    try {
      return JSON.writeValueAsBytes(m);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ManifestMeta manifest(byte[] v) {
    try {
      return JSON.readValue(v, ManifestMeta.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
