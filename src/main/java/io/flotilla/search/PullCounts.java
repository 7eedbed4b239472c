package io.flotilla.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.MediaTypes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Manifest pull counts and last pull times, counted from the cluster's pull events: every node
 * counts the same cluster-wide stream, so every node holds the same table.
 *
 * <p>Owns the table (repository -> manifest digest -> count, last pull millis) and, per node that
 * emitted events, the highest journal sequence number counted ({@link #accept}), so a batch
 * delivered twice is counted once. {@link #merge} takes another node's table by maximum per key
 * (every node counts the same stream, so the larger count is the more complete one) and the marks
 * by maximum. {@link #encode}/{@link #decode}: the compact binary form of the file and of the bus
 * reply.
 *
 * <p>Thread-safety: {@link #accept}, {@link #merge} and {@link #encode} are synchronized; reads
 * ({@link #count}, {@link #lastPullMillis}) run on any thread without locking. Nothing blocks;
 * a malformed event is skipped.
 */
public final class PullCounts implements Downloads {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** File and wire format: magic, version. */
  private static final int MAGIC = 0x46504331; // "FPC1"
  private static final String SHA256 = "sha256:";

  /** Count and last pull of one manifest; replaced whole, so readers see a consistent pair. */
  private record Tally(long count, long lastMillis) {
    Tally max(Tally o) {
      return new Tally(Math.max(count, o.count), Math.max(lastMillis, o.lastMillis));
    }
  }

  private final boolean counted;
  private final Map<String, Map<String, Tally>> table = new ConcurrentHashMap<>();
  /** Per emitting node: the highest sequence number counted. */
  private final Map<String, Long> marks = new HashMap<>();
  private volatile boolean dirty;

  /** @param counted whether pulls are counted at all (events are on) */
  public PullCounts(boolean counted) {
    this.counted = counted;
  }

  @Override
  public boolean counted() {
    return counted;
  }

  @Override
  public long count(String repository, String digest) {
    Tally t = tally(repository, digest);
    return t == null ? 0 : t.count;
  }

  @Override
  public long lastPullMillis(String repository, String digest) {
    Tally t = tally(repository, digest);
    return t == null ? 0 : t.lastMillis;
  }

  private Tally tally(String repository, String digest) {
    Map<String, Tally> r = table.get(repository);
    return r == null || digest == null ? null : r.get(digest);
  }

  /**
   * Counts the manifest pulls (GET, not HEAD) of one batch published on the events address, after
   * this node's mark for {@code node}: events {@code firstSeq..lastSeq} in order. A batch at or
   * below the mark is skipped whole; one that overlaps it is counted from the mark on.
   *
   * @return how many pulls were counted
   */
  public synchronized int accept(String node, long firstSeq, long lastSeq, String body) {
    long mark = marks.getOrDefault(node, 0L);
    if (lastSeq <= mark || lastSeq < firstSeq) {
      return 0;
    }
    JsonNode events;
    try {
      events = JSON.readTree(body).path("events");
    } catch (IOException e) {
      return 0;
    }
    int n = events.size();
    // event i has seq firstSeq + i when the batch is contiguous; otherwise take its tail after the mark
    long seqOfFirst = n == lastSeq - firstSeq + 1 ? firstSeq : lastSeq - n + 1;
    int counted = 0;
    for (int i = 0; i < n; i++) {
      if (seqOfFirst + i > mark && pull(events.get(i))) {
        counted++;
      }
    }
    marks.put(node, lastSeq);
    dirty = true;
    return counted;
  }

  /** Counts one event if it is a manifest pull by GET. */
  private boolean pull(JsonNode e) {
    if (!"pull".equals(e.path("action").asText()) || "HEAD".equalsIgnoreCase(e.path("request").path("method").asText())) {
      return false;
    }
    JsonNode target = e.path("target");
    String repo = target.path("repository").asText("");
    String digest = target.path("digest").asText("");
    if (!MediaTypes.isManifest(target.path("mediaType").asText()) || repo.isEmpty() || digest.isEmpty()) {
      return false;
    }
    long millis = Times.parse(e.path("timestamp").asText(null)) / 1_000_000L;
    table.computeIfAbsent(repo, r -> new ConcurrentHashMap<>())
        .merge(digest, new Tally(1, millis), (a, b) -> new Tally(a.count + 1, Math.max(a.lastMillis, b.lastMillis)));
    return true;
  }

  /** Takes another table in: per manifest the larger count and the later time, per node the higher mark. */
  public synchronized void merge(byte[] encoded) {
    PullCounts other = decode(encoded);
    other.table.forEach((repo, digests) -> {
      Map<String, Tally> mine = table.computeIfAbsent(repo, r -> new ConcurrentHashMap<>());
      digests.forEach((digest, t) -> mine.merge(digest, t, Tally::max));
    });
    other.marks.forEach((node, seq) -> marks.merge(node, seq, Math::max));
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
    return table.values().stream().mapToInt(Map::size).sum();
  }

  /** The highest sequence number counted from {@code node} (0: none). */
  public synchronized long mark(String node) {
    return marks.getOrDefault(node, 0L);
  }

  /**
   * The table in its binary form: magic, marks (count; node name, seq), repositories (count; name,
   * manifests (count; digest, count, last pull millis)). A sha256 digest takes 33 bytes (a tag byte
   * and the raw hash), counts and times are variable-length: about 45 bytes a manifest.
   */
  public synchronized byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 48 * size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      writeVar(out, marks.size());
      for (var m : marks.entrySet()) {
        out.writeUTF(m.getKey());
        writeVar(out, m.getValue());
      }
      writeVar(out, table.size());
      for (var r : table.entrySet()) {
        out.writeUTF(r.getKey());
        writeVar(out, r.getValue().size());
        for (var d : r.getValue().entrySet()) {
          writeDigest(out, d.getKey());
          writeVar(out, d.getValue().count);
          writeVar(out, d.getValue().lastMillis);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A table read from its binary form; fails with IllegalArgumentException when it is not one. */
  public static PullCounts decode(byte[] encoded) {
    PullCounts p = new PullCounts(true);
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("not a pull count table");
      }
      for (long i = readVar(in); i > 0; i--) {
        p.marks.put(in.readUTF(), readVar(in));
      }
      for (long i = readVar(in); i > 0; i--) {
        Map<String, Tally> digests = new ConcurrentHashMap<>();
        p.table.put(in.readUTF(), digests);
        for (long j = readVar(in); j > 0; j--) {
          digests.put(readDigest(in), new Tally(readVar(in), readVar(in)));
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated pull count table", e);
    }
    return p;
  }

  /** Copies a decoded table's content into this (empty) one. */
  public synchronized void load(byte[] encoded) {
    table.clear();
    marks.clear();
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
