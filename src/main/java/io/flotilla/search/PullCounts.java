package io.flotilla.search;

import io.flotilla.oci.MediaTypes;
import io.flotilla.storage.EventSink;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Manifest pull counts and last pull times, the same on every node: a grow-only counter per node.
 * Each node counts the pulls it serves ({@link #tap}: a manifest GET reported by its storage, a
 * map update, no I/O) in its own column; columns travel between nodes ({@link #encodeChanged},
 * {@link #encode}) and are merged by maximum per (node, manifest) ({@link #merge}), since each
 * node's counts only grow. A manifest's count is the sum of the columns, its last pull the latest.
 * So a delta delivered twice or late changes nothing, and a node that was away catches up from any
 * peer. {@link #encode}/{@link #decode}: the compact binary form of the file and of bus messages.
 *
 * <p>Thread-safety: updates and reads run on any thread; {@link #merge} and the encoders are
 * synchronized with each other. Nothing blocks.
 */
public final class PullCounts implements Downloads {
  /** File and wire format: magic, version. */
  private static final int MAGIC = 0x46504332; // "FPC2"
  private static final String SHA256 = "sha256:";

  /** Count and last pull of one manifest in one node's column; replaced whole, so readers see a consistent pair. */
  private record Tally(long count, long lastMillis) {
    Tally max(Tally o) {
      return new Tally(Math.max(count, o.count), Math.max(lastMillis, o.lastMillis));
    }
  }

  private record Key(String repository, String digest) {}

  private final String localNode;
  /** node -> (repository, digest) -> that node's tally. */
  private final Map<String, Map<Key, Tally>> columns = new ConcurrentHashMap<>();
  /** Entries of this node's column changed since the last {@link #encodeChanged}. */
  private final Set<Key> changed = ConcurrentHashMap.newKeySet();
  private volatile boolean dirty;

  public PullCounts(String localNode) {
    this.localNode = localNode;
  }

  @Override
  public boolean counted() {
    return true;
  }

  @Override
  public long count(String repository, String digest) {
    Key k = new Key(repository, digest);
    long sum = 0;
    for (Map<Key, Tally> column : columns.values()) {
      Tally t = column.get(k);
      if (t != null) {
        sum += t.count;
      }
    }
    return sum;
  }

  @Override
  public long lastPullMillis(String repository, String digest) {
    Key k = new Key(repository, digest);
    long last = 0;
    for (Map<Key, Tally> column : columns.values()) {
      Tally t = column.get(k);
      if (t != null) {
        last = Math.max(last, t.lastMillis);
      }
    }
    return last;
  }

  /** Counts one pull of manifest {@code digest} in {@code repository}, served by this node at {@code millis}. */
  public void pulled(String repository, String digest, long millis) {
    Key k = new Key(repository, digest);
    columns.computeIfAbsent(localNode, n -> new ConcurrentHashMap<>())
        .merge(k, new Tally(1, millis), (a, b) -> new Tally(a.count + 1, Math.max(a.lastMillis, b.lastMillis)));
    changed.add(k);
    dirty = true;
  }

  /**
   * {@code delegate} with this node's manifest pulls counted on the way: a {@code pull} of a
   * manifest or index by GET (clients HEAD before they GET; zot counts GETs) for a caller, not for
   * the node's own work.
   */
  public EventSink tap(EventSink delegate) {
    return (ctx, op) -> {
      if ("pull".equals(op.action()) && "GET".equals(ctx.method()) && !ctx.isInternal()
          && MediaTypes.isManifest(op.mediaType()) && op.digest() != null) {
        pulled(op.repository(), op.digest(), System.currentTimeMillis());
      }
      return delegate.record(ctx, op);
    };
  }

  /** Takes another table in: per node and manifest the larger count and the later time. */
  public synchronized void merge(byte[] encoded) {
    PullCounts other = decode(encoded);
    other.columns.forEach((node, column) -> {
      Map<Key, Tally> mine = columns.computeIfAbsent(node, n -> new ConcurrentHashMap<>());
      column.forEach((k, t) -> mine.merge(k, t, Tally::max));
    });
    dirty = true;
  }

  /** Whether anything changed since the last {@link #clean()}. */
  public boolean dirty() {
    return dirty;
  }

  /** Marks the table saved; call before {@link #encode} so a change made meanwhile stays dirty. */
  public void clean() {
    dirty = false;
  }

  /** Marks the table unsaved again (a save failed). */
  void markDirty() {
    dirty = true;
  }

  /** Manifests with a count (for tests and logs). */
  public int size() {
    Set<Key> keys = new java.util.HashSet<>();
    columns.values().forEach(c -> keys.addAll(c.keySet()));
    return keys.size();
  }

  /** Every column in binary form (the file, and the answer to a peer catching up). */
  public synchronized byte[] encode() {
    return encode(columns);
  }

  /**
   * This node's entries that changed since the last call, with their whole values (the delta a node
   * publishes); null when none changed.
   */
  public synchronized byte[] encodeChanged() {
    if (changed.isEmpty()) {
      return null;
    }
    Map<Key, Tally> column = columns.getOrDefault(localNode, Map.of());
    Map<Key, Tally> out = new HashMap<>();
    for (java.util.Iterator<Key> it = changed.iterator(); it.hasNext(); ) {
      Key k = it.next();
      it.remove();
      Tally t = column.get(k);
      if (t != null) {
        out.put(k, t);
      }
    }
    return encode(Map.of(localNode, out));
  }

  /**
   * Binary form: magic, columns (count; node, repositories (count; name, manifests (count; digest,
   * count, last pull millis))). A sha256 digest takes 33 bytes (a tag byte and the raw hash), counts
   * and times are variable-length: about 45 bytes a manifest per node that served it.
   */
  private static byte[] encode(Map<String, Map<Key, Tally>> columns) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      writeVar(out, columns.size());
      for (var c : columns.entrySet()) {
        out.writeUTF(c.getKey());
        Map<String, Map<String, Tally>> byRepo = new java.util.TreeMap<>();
        c.getValue().forEach((k, t) -> byRepo.computeIfAbsent(k.repository(), r -> new java.util.TreeMap<>()).put(k.digest(), t));
        writeVar(out, byRepo.size());
        for (var r : byRepo.entrySet()) {
          out.writeUTF(r.getKey());
          writeVar(out, r.getValue().size());
          for (var d : r.getValue().entrySet()) {
            writeDigest(out, d.getKey());
            writeVar(out, d.getValue().count);
            writeVar(out, d.getValue().lastMillis);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A table read from its binary form; fails with IllegalArgumentException when it is not one. */
  public static PullCounts decode(byte[] encoded) {
    PullCounts p = new PullCounts("");
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("not a pull count table");
      }
      for (long c = readVar(in); c > 0; c--) {
        Map<Key, Tally> column = new ConcurrentHashMap<>();
        p.columns.put(in.readUTF(), column);
        for (long i = readVar(in); i > 0; i--) {
          String repo = in.readUTF();
          for (long j = readVar(in); j > 0; j--) {
            column.put(new Key(repo, readDigest(in)), new Tally(readVar(in), readVar(in)));
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated pull count table", e);
    }
    return p;
  }

  /** Replaces the content with a saved table's (at start). */
  public synchronized void load(byte[] encoded) {
    columns.clear();
    merge(encoded);
    dirty = false;
  }

  private static void writeDigest(DataOutputStream out, String digest) throws IOException {
    if (digest.length() == SHA256.length() + 64 && digest.startsWith(SHA256) && isLowerHex(digest, SHA256.length())) {
      out.writeByte(1);
      out.write(HexFormat.of().parseHex(digest, SHA256.length(), digest.length()));
    } else {
      out.writeByte(0);
      out.writeUTF(digest);
    }
  }

  private static String readDigest(DataInputStream in) throws IOException {
    if (in.readByte() == 1) {
      byte[] hash = new byte[32];
      in.readFully(hash);
      return SHA256 + HexFormat.of().formatHex(hash);
    }
    return in.readUTF();
  }

  private static boolean isLowerHex(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static void writeVar(DataOutputStream out, long v) throws IOException {
    while ((v & ~0x7FL) != 0) {
      out.writeByte((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.writeByte((int) v);
  }

  private static long readVar(DataInputStream in) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = in.readUnsignedByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw new IOException("bad varint");
  }
}
