package io.flotilla.scan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.oci.Digest;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Test data for scanning end to end: OSV records with fictional ids, zipped as OSV publishes them; images
 * of generated layers and an index of them pushed through the distribution API; the database artifact.
 */
final class ScanFixtures {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
  static final String LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

  private ScanFixtures() {}

  /** An OSV record: {@code ranges} alternate event kind and version ("introduced", "0", "fixed", "1.2"). */
  static ObjectNode osv(String id, List<String> aliases, String ecosystem, String pkg, String severity,
      String cvss, String... events) {
    ObjectNode r = JSON.createObjectNode().put("schema_version", "1.6.0").put("id", id)
        .put("modified", "2099-01-01T00:00:00Z").put("summary", "summary of " + id)
        .put("details", "details of " + id + " in " + pkg);
    ArrayNode a = r.putArray("aliases");
    aliases.forEach(a::add);
    if (severity != null) {
      r.putObject("database_specific").put("severity", severity);
    }
    if (cvss != null) {
      r.putArray("severity").addObject().put("type", "CVSS_V3").put("score", cvss);
    }
    ObjectNode affected = r.putArray("affected").addObject();
    affected.putObject("package").put("ecosystem", ecosystem).put("name", pkg);
    ArrayNode evs = affected.putArray("ranges").addObject().put("type", "ECOSYSTEM").putArray("events");
    for (int i = 0; i < events.length; i += 2) {
      evs.addObject().put(events[i], events[i + 1]);
    }
    r.putArray("references").addObject().put("type", "WEB").put("url", "https://example.invalid/" + id);
    return r;
  }

  /** OSV records zipped one per entry, {@code <id>.json}, like OSV's {@code all.zip}. */
  static byte[] zip(List<ObjectNode> records) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (ObjectNode r : records) {
        zip.putNextEntry(new ZipEntry(r.get("id").asText() + ".json"));
        zip.write(JSON.writeValueAsBytes(r));
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A pushed image: its manifest's digest and size. */
  record Pushed(String digest, long size, String mediaType) {}

  /** Pushes an image of {@code layers} (gzip tars) for {@code os}/{@code arch} and tags it. */
  static Pushed image(OciClient client, String repo, String tag, String os, String arch, List<byte[]> layers) {
    StringBuilder diffIds = new StringBuilder();
    StringBuilder descriptors = new StringBuilder();
    for (byte[] layer : layers) {
      Digest d = client.pushBlob(repo, layer);
      descriptors.append(descriptors.length() == 0 ? "" : ",").append(Images.descriptor(LAYER_TYPE, d, layer.length));
      diffIds.append(diffIds.length() == 0 ? "" : ",").append('"').append(d).append('"');
    }
    byte[] config = ("{\"architecture\":\"" + arch + "\",\"os\":\"" + os + "\",\"created\":\"2099-01-01T00:00:00Z\","
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}}").getBytes(StandardCharsets.UTF_8);
    Digest c = client.pushBlob(repo, config);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":"
        + Images.descriptor(CONFIG_TYPE, c, config.length) + ",\"layers\":[" + descriptors + "]}")
        .getBytes(StandardCharsets.UTF_8);
    OciClient.expect(client.putManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", manifest), 201);
    return new Pushed(Digest.sha256(manifest).toString(), manifest.length, "application/vnd.oci.image.manifest.v1+json");
  }

  /** Pushes an index of {@code images} ({@code os/arch} each) and tags it. */
  static Pushed index(OciClient client, String repo, String tag, List<Pushed> images, List<String> platforms) {
    StringBuilder m = new StringBuilder();
    for (int i = 0; i < images.size(); i++) {
      Pushed p = images.get(i);
      String[] osArch = platforms.get(i).split("/");
      m.append(i == 0 ? "" : ",").append("{\"mediaType\":\"").append(p.mediaType()).append("\",\"digest\":\"")
          .append(p.digest()).append("\",\"size\":").append(p.size()).append(",\"platform\":{\"os\":\"")
          .append(osArch[0]).append("\",\"architecture\":\"").append(osArch[1]).append("\"}}");
    }
    byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
        + m + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(client.putManifest(repo, tag, "application/vnd.oci.image.index.v1+json", body), 201);
    return new Pushed(Digest.sha256(body).toString(), body.length, "application/vnd.oci.image.index.v1+json");
  }

  /** Pushes a database artifact: an OCI artifact whose one layer is {@code zip}. Returns its digest. */
  static String database(OciClient client, String repo, String tag, byte[] zip) {
    byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    Digest c = client.pushBlob(repo, empty);
    Digest l = client.pushBlob(repo, zip);
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        + "\"artifactType\":\"application/vnd.flotilla.vulndb.osv.v1\",\"config\":"
        + Images.descriptor("application/vnd.oci.empty.v1+json", c, empty.length) + ",\"layers\":["
        + Images.descriptor("application/zip", l, zip.length) + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(client.putManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json", manifest), 201);
    return Digest.sha256(manifest).toString();
  }

  /** A Debian 12 dpkg status stanza. */
  static String dpkg(String pkg, String version, String source) {
    return "Package: " + pkg + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n"
        + (source == null ? "" : "Source: " + source + "\n") + "\n";
  }
}
