package io.flotilla.scan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Test fixtures: OSV records as Jackson trees and zips of them, as osv.dev's {@code all.zip} holds them. */
final class Osv {
  static final ObjectMapper JSON = new ObjectMapper();

  private Osv() {}

  /** A record with an id, a modified time and the given affected entries. */
  static ObjectNode record(String id, ObjectNode... affected) {
    ObjectNode r = JSON.createObjectNode();
    r.put("schema_version", "1.6.0");
    r.put("id", id);
    r.put("modified", "2099-01-01T00:00:00Z");
    ArrayNode a = r.putArray("affected");
    for (ObjectNode e : affected) {
      a.add(e);
    }
    return r;
  }

  static ObjectNode aliases(ObjectNode record, String... ids) {
    ArrayNode a = record.putArray("aliases");
    for (String id : ids) {
      a.add(id);
    }
    return record;
  }

  /** {@code database_specific.severity} of the record. */
  static ObjectNode dbSeverity(ObjectNode node, String severity) {
    node.putObject("database_specific").put("severity", severity);
    return node;
  }

  /** Adds a {@code severity[]} entry. */
  static ObjectNode severity(ObjectNode record, String type, String score) {
    ArrayNode s = record.has("severity") ? (ArrayNode) record.get("severity") : record.putArray("severity");
    s.addObject().put("type", type).put("score", score);
    return record;
  }

  /** An affected entry for one package with the given ranges. */
  static ObjectNode affected(String ecosystem, String name, ObjectNode... ranges) {
    ObjectNode a = JSON.createObjectNode();
    a.putObject("package").put("ecosystem", ecosystem).put("name", name);
    ArrayNode r = a.putArray("ranges");
    for (ObjectNode range : ranges) {
      r.add(range);
    }
    return a;
  }

  /** A range from alternating kind, version pairs: {@code range("ECOSYSTEM", "introduced", "0", "fixed", "1.2")}. */
  static ObjectNode range(String type, String... kindsAndVersions) {
    ObjectNode r = JSON.createObjectNode();
    r.put("type", type);
    ArrayNode events = r.putArray("events");
    for (int i = 0; i < kindsAndVersions.length; i += 2) {
      events.addObject().put(kindsAndVersions[i], kindsAndVersions[i + 1]);
    }
    return r;
  }

  /** A zip with one {@code <id>.json} entry per record. */
  static byte[] zip(ObjectNode... records) {
    List<Map.Entry<String, byte[]>> entries = new ArrayList<>();
    for (ObjectNode r : records) {
      try {
        entries.add(Map.entry(r.get("id").asText() + ".json", JSON.writeValueAsBytes(r)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return zipEntries(entries);
  }

  /** A zip of the given (name, bytes) entries, deflated, in order. */
  static byte[] zipEntries(List<Map.Entry<String, byte[]>> entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (Map.Entry<String, byte[]> e : entries) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Compiles zips with the default limits. */
  static VulnDb db(byte[]... zips) throws VulnDbException {
    List<InputStream> in = new ArrayList<>();
    for (byte[] z : zips) {
      in.add(new ByteArrayInputStream(z));
    }
    return OsvImporter.read("sha256:test", in, OsvImporter.Limits.DEFAULTS);
  }

  static ImageInventory image(OsRelease os, InstalledPackage... packages) {
    return new ImageInventory(os, List.of(packages));
  }

  static OsRelease os(String id, String versionId) {
    return new OsRelease(id, versionId, "", "etc/os-release");
  }

  static InstalledPackage deb(String name, String version, String source, String sourceVersion) {
    return new InstalledPackage(PackageType.DEB, name, version, source, sourceVersion, "amd64", "var/lib/dpkg/status");
  }

  static InstalledPackage apk(String name, String version, String origin) {
    return new InstalledPackage(PackageType.APK, name, version, origin, version, "x86_64", "lib/apk/db/installed");
  }
}
