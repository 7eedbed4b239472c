package io.flotilla.scan;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * Compiles OSV zips ({@code <Ecosystem>/all.zip} of osv.dev: one {@code <id>.json} record per entry), the
 * layers of a vulnerability database artifact, into a {@link VulnDb}. Call {@link #add} once per zip, then
 * {@link #build} once; or {@link #read} for both. Streams each zip once and never writes to disk (entry
 * names are only used in messages). Not thread-safe: one importer per compilation, on a worker thread.
 *
 * <p>Fails the whole import with a {@link VulnDbException} when a stream is not a zip or is corrupt, an
 * entry's uncompressed size exceeds {@link Limits#maxEntryBytes} (reading stops there: a zip bomb costs at
 * most that much), the total exceeds {@link Limits#maxTotalBytes}, the entry count exceeds
 * {@link Limits#maxEntries}, or no usable record remains. Skips and counts instead: entries not named
 * {@code *.json}, malformed records, withdrawn records, records without an affected package of a supported
 * ecosystem and release, and older copies of a record id seen twice (the later {@code modified} wins, then
 * the first seen).
 */
public final class OsvImporter {

  /**
   * Bounds on what an import reads.
   *
   * @param maxEntryBytes the largest uncompressed zip entry (osv.dev records are far below 1 MiB)
   * @param maxTotalBytes the most uncompressed bytes over all zips of one import
   * @param maxEntries the most zip entries over all zips of one import
   */
  public record Limits(long maxEntryBytes, long maxTotalBytes, int maxEntries) {
    /** 8 MiB per entry, 4 GiB in total, 2,000,000 entries. */
    public static final Limits DEFAULTS = new Limits(8L << 20, 4L << 30, 2_000_000);

    public Limits {
      if (maxEntryBytes <= 0 || maxTotalBytes <= 0 || maxEntries <= 0) {
        throw new IllegalArgumentException("limits must be positive");
      }
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Limits limits;
  private final Map<String, OsvRecord> records = new LinkedHashMap<>();
  private long totalBytes;
  private int entries;
  private int ignoredEntries;
  private int malformed;
  private int withdrawn;
  private int unsupported;
  private int duplicates;

  public OsvImporter(Limits limits) {
    this.limits = limits;
  }

  /** Imports {@code zips} in order and compiles them, tagged with the artifact {@code digest}. */
  public static VulnDb read(String digest, List<? extends InputStream> zips, Limits limits) throws VulnDbException {
    OsvImporter importer = new OsvImporter(limits);
    for (InputStream zip : zips) {
      importer.add(zip);
    }
    return importer.build(digest);
  }

  /** Reads every entry of one zip; the stream is read but not closed. */
  public void add(InputStream zip) throws VulnDbException {
    BufferedInputStream in = new BufferedInputStream(zip, 64 * 1024);
    requireZip(in);
    ZipInputStream z = new ZipInputStream(in);
    try {
      ZipEntry e;
      while ((e = z.getNextEntry()) != null) {
        if (++entries > limits.maxEntries()) {
          throw new VulnDbException("vulnerability database has more than " + limits.maxEntries() + " entries");
        }
        String name = e.getName();
        if (e.getSize() > limits.maxEntryBytes()) {
          throw tooLarge(name);
        }
        byte[] data = readEntry(z, name);
        if (e.isDirectory() || !name.endsWith(".json")) {
          ignoredEntries++;
          continue;
        }
        accept(data);
      }
    } catch (ZipException | EOFException | IllegalArgumentException corrupt) { // IAE: an entry name not in UTF-8
      throw new VulnDbException("not a vulnerability database: corrupt zip: " + corrupt.getMessage(), corrupt);
    } catch (IOException io) {
      throw new VulnDbException("reading the vulnerability database failed: " + io.getMessage(), io);
    }
  }

  /** Compiles what was added; fails when no usable record was found. */
  public VulnDb build(String digest) throws VulnDbException {
    if (records.isEmpty()) {
      throw new VulnDbException("not a vulnerability database: no usable OSV record (" + entries + " entries, "
          + malformed + " malformed, " + unsupported + " of unsupported ecosystems, " + withdrawn + " withdrawn)");
    }
    Map<Ecosystem, Integer> perEcosystem = new EnumMap<>(Ecosystem.class);
    int affected = 0;
    for (OsvRecord r : records.values()) {
      for (OsvRecord.Affected a : r.affected()) {
        perEcosystem.merge(a.ecosystem(), 1, Integer::sum);
        affected++;
      }
    }
    VulnDb.Stats stats = new VulnDb.Stats(records.size(), affected, unsupported, malformed, withdrawn, duplicates,
        ignoredEntries, perEcosystem);
    return new VulnDb(digest, records.values(), stats);
  }

  private void accept(byte[] data) {
    JsonNode root;
    try {
      root = JSON.readTree(data);
    } catch (JsonProcessingException bad) {
      malformed++;
      return;
    } catch (IOException impossible) {
      malformed++;
      return;
    }
    OsvRecord record;
    try {
      if (OsvRecord.withdrawn(root)) {
        withdrawn++;
        return;
      }
      record = OsvRecord.parse(root);
    } catch (OsvRecord.Malformed | IllegalArgumentException | NullPointerException bad) {
      malformed++;
      return;
    }
    if (record.affected().isEmpty()) {
      unsupported++;
      return;
    }
    OsvRecord old = records.get(record.id());
    if (old != null) {
      duplicates++;
      if (record.modified().compareTo(old.modified()) <= 0) {
        return;
      }
    }
    records.put(record.id(), record);
  }

  private byte[] readEntry(ZipInputStream z, String name) throws IOException, VulnDbException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[16 * 1024];
    long size = 0;
    int n;
    while ((n = z.read(buf)) > 0) {
      size += n;
      totalBytes += n;
      if (size > limits.maxEntryBytes()) {
        throw tooLarge(name);
      }
      if (totalBytes > limits.maxTotalBytes()) {
        throw new VulnDbException("vulnerability database is larger than " + limits.maxTotalBytes()
            + " bytes uncompressed");
      }
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private VulnDbException tooLarge(String name) {
    return new VulnDbException("vulnerability database entry " + printable(name) + " is larger than "
        + limits.maxEntryBytes() + " bytes uncompressed");
  }

  /** A zip starts with a local file header, or with the end record when it is empty. */
  private static void requireZip(BufferedInputStream in) throws VulnDbException {
    byte[] magic = new byte[4];
    int got = 0;
    try {
      in.mark(4);
      int n;
      while (got < 4 && (n = in.read(magic, got, 4 - got)) > 0) {
        got += n;
      }
      in.reset();
    } catch (IOException io) {
      throw new VulnDbException("reading the vulnerability database failed: " + io.getMessage(), io);
    }
    boolean zip = got == 4 && magic[0] == 'P' && magic[1] == 'K'
        && ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
    if (!zip) {
      throw new VulnDbException("not a vulnerability database: not a zip archive");
    }
  }

  private static String printable(String name) {
    String s = name.length() > 200 ? name.substring(0, 200) + "..." : name;
    return '"' + s.replaceAll("\\p{Cntrl}", "?") + '"';
  }
}
