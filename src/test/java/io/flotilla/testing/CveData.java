package io.flotilla.testing;

import io.flotilla.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A data set for the CVE queries in cluster tests: repositories {@code vuln/app-<i>} of Debian 12 and
 * Alpine 3.19 images whose layers are real gzip'd tars with an {@code os-release} and a package database
 * whose versions vary with {@code i}, some tags being multi-arch indexes; and an OSV database (fictional
 * ids {@code CVE-2099-1xxx}) of records over those packages, with fixed versions that split the images.
 * Deterministic: the same {@code i} always gives the same bytes.
 */
public final class CveData {
  /** Debian source packages of the pool; package {@code k} is affected by {@code CVE-2099-10kk}. */
  static final int DEB_PACKAGES = 8;
  static final int APK_PACKAGES = 4;
  static final String[] SEVERITIES = {"LOW", "MODERATE", "HIGH", "CRITICAL"};

  private CveData() {}

  /** The repository of image set {@code i}. */
  public static String repository(int i) {
    return "vuln/app-" + i;
  }

  /** Pushes sets {@code from} (inclusive) to {@code to} (exclusive); returns the repositories. */
  public static List<String> push(OciClient c, int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String repo = repository(i);
      String deb = image(c, repo, "1", "amd64", debianLayer(i, 0));
      String deb2 = image(c, repo, "2", "amd64", debianLayer(i, 1));
      if (i % 4 == 0) {
        String apk = image(c, repo, Digest.sha256(alpineLayer(i)).toString().replace(':', '-'), "arm64", alpineLayer(i));
        index(c, repo, "multi", List.of(deb2, apk));
      }
      out.add(repo);
    }
    return out;
  }

  static byte[] debianLayer(int i, int variant) {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n".getBytes(StandardCharsets.UTF_8));
    for (int k = 0; k < DEB_PACKAGES; k++) {
      if ((i + k) % 3 == 0) {
        continue; // not every image has every package
      }
      int v = (i * 7 + k * 3 + variant) % 4; // 1.0-0 .. 1.0-3; the fix is 1.0-2
      entries.put("var/lib/dpkg/status.d/bin" + k, ("Package: bin" + k + "\nVersion: 1.0-" + v + "\nSource: src" + k
          + "\nArchitecture: amd64\n\n").getBytes(StandardCharsets.UTF_8));
    }
    return tarGz(entries);
  }

  static byte[] alpineLayer(int i) {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n".getBytes(StandardCharsets.UTF_8));
    StringBuilder installed = new StringBuilder();
    for (int k = 0; k < APK_PACKAGES; k++) {
      installed.append("P:apk").append(k).append("\nV:2.0-r").append((i + k) % 3).append("\no:apk").append(k).append("\n\n");
    }
    entries.put("lib/apk/db/installed", installed.toString().getBytes(StandardCharsets.UTF_8));
    return tarGz(entries);
  }

  /** The OSV database: {@code version} 2 adds fixes and a record, so that answers change. */
  public static byte[] database(int version) {
    List<String> records = new ArrayList<>();
    for (int k = 0; k < DEB_PACKAGES; k++) {
      String fixed = k % 4 == 3 && version < 2 ? null : "1.0-2"; // open issues until version 2
      records.add(record(String.format("CVE-2099-10%02d", k), "Debian:12", "src" + k, SEVERITIES[k % 4], fixed));
    }
    for (int k = 0; k < APK_PACKAGES; k++) {
      records.add(record(String.format("CVE-2099-11%02d", k), "Alpine:v3.19", "apk" + k, SEVERITIES[(k + 1) % 4], "2.0-r2"));
    }
    if (version >= 2) {
      records.add(record("CVE-2099-1200", "Debian:12", "src1", "CRITICAL", "1.0-3"));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (String r : records) {
        String id = r.substring(r.indexOf("\"id\":\"") + 6, r.indexOf("\"", r.indexOf("\"id\":\"") + 6));
        zip.putNextEntry(new ZipEntry(id + ".json"));
        zip.write(r.getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static String record(String id, String ecosystem, String pkg, String severity, String fixed) {
    return "{\"schema_version\":\"1.6.0\",\"id\":\"" + id + "\",\"modified\":\"2099-01-01T00:00:00Z\",\"summary\":\""
        + "summary of " + id + "\",\"details\":\"details of " + id + "\",\"database_specific\":{\"severity\":\"" + severity
        + "\"},\"affected\":[{\"package\":{\"ecosystem\":\"" + ecosystem + "\",\"name\":\"" + pkg + "\"},\"ranges\":[{"
        + "\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}" + (fixed == null ? "" : ",{\"fixed\":\"" + fixed + "\"}")
        + "]}]}]}";
  }

  /** Pushes the database artifact to {@code vulndb/osv:latest}; returns its manifest digest. */
  public static String pushDatabase(OciClient c, byte[] zip) {
    byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    Digest cfg = c.pushBlob("vulndb/osv", empty);
    Digest layer = c.pushBlob("vulndb/osv", zip);
    byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        + "\"artifactType\":\"application/vnd.flotilla.vulndb.osv.v1\",\"config\":"
        + Images.descriptor("application/vnd.oci.empty.v1+json", cfg, empty.length) + ",\"layers\":["
        + Images.descriptor("application/zip", layer, zip.length) + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(c.putManifest("vulndb/osv", "latest", "application/vnd.oci.image.manifest.v1+json", m), 201);
    return Digest.sha256(m).toString();
  }

  private static String image(OciClient c, String repo, String tag, String arch, byte[] layer) {
    Digest l = c.pushBlob(repo, layer);
    byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"created\":\"2099-01-01T00:00:00Z\","
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + l + "\"]}}").getBytes(StandardCharsets.UTF_8);
    Digest cfg = c.pushBlob(repo, config);
    byte[] m = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", cfg, config.length) + ",\"layers\":["
        + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l, layer.length) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    OciClient.expect(c.putManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", m), 201);
    return Digest.sha256(m) + " " + m.length + " " + arch;
  }

  private static void index(OciClient c, String repo, String tag, List<String> images) {
    StringBuilder m = new StringBuilder();
    for (String img : images) {
      String[] p = img.split(" ");
      m.append(m.length() == 0 ? "" : ",").append("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"digest\":\"").append(p[0]).append("\",\"size\":").append(p[1])
          .append(",\"platform\":{\"os\":\"linux\",\"architecture\":\"").append(p[2]).append("\"}}");
    }
    byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[" + m
        + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(c.putManifest(repo, tag, "application/vnd.oci.image.index.v1+json", body), 201);
  }

  private static byte[] tarGz(Map<String, byte[]> entries) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gz, StandardCharsets.UTF_8.name())) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        TarArchiveEntry t = new TarArchiveEntry(e.getKey());
        t.setSize(e.getValue().length);
        t.setModTime(0);
        tar.putArchiveEntry(t);
        tar.write(e.getValue());
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
