package io.flotilla.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.testing.OciClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/** Checks of a data folder and a node's API after a crash, shared by the crash tests. */
final class CrashChecks {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
      + "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

  private CrashChecks() {}

  /** Deterministic content: the same seed and size always give the same bytes. */
  static byte[] content(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static String hash(DigestAlgorithm alg, byte[] bytes) {
    return HexFormat.of().formatHex(alg.newHasher().digest(bytes));
  }

  static String hashFile(DigestAlgorithm alg, Path file) throws IOException {
    MessageDigest md = alg.newHasher();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** The result of walking {@code data/blobs}. */
  record BlobWalk(int blobs, long bytes, List<Path> tempFiles) {}

  /**
   * Every file under {@code blobs/<alg>/<xx>/} named like a digest must hash to its name and sit in
   * the folder of its first two hex digits. Leftover {@code ._tmp-} files are returned, not failed.
   */
  static BlobWalk verifyBlobFiles(Path dataDir) throws IOException {
    return verifyBlobFiles(dataDir, new java.util.HashSet<>());
  }

  /**
   * Like {@link #verifyBlobFiles(Path)}, hashing only files not in {@code hashed} (which it extends):
   * a blob file is written once, by a rename, and never changes afterwards.
   */
  static BlobWalk verifyBlobFiles(Path dataDir, java.util.Set<Path> hashed) throws IOException {
    Path root = dataDir.resolve("blobs");
    int count = 0;
    long bytes = 0;
    List<Path> temps = new ArrayList<>();
    List<String> bad = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return new BlobWalk(0, 0, temps);
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(root)) {
      files = s.filter(Files::isRegularFile).toList();
    }
    for (Path f : files) {
      String name = f.getFileName().toString();
      if (name.startsWith("._tmp-")) {
        temps.add(f);
        continue;
      }
      Path rel = root.relativize(f);
      DigestAlgorithm alg = rel.getNameCount() == 3 ? DigestAlgorithm.byId(rel.getName(0).toString()) : null;
      if (alg == null || name.length() != alg.hexLength() || !rel.getName(1).toString().equals(name.substring(0, 2))) {
        bad.add("unexpected file in the blob store: " + rel);
        continue;
      }
      if (!hashed.contains(f)) {
        String actual = hashFile(alg, f);
        if (!actual.equals(name)) {
          bad.add(rel + " (" + Files.size(f) + " bytes) hashes to " + alg.id() + ":" + actual);
        } else {
          hashed.add(f);
        }
      }
      count++;
      bytes += Files.size(f);
    }
    assertEquals(List.of(), bad, "blob files whose content does not match their name");
    return new BlobWalk(count, bytes, temps);
  }

  static Path blobFile(Path dataDir, Digest d) {
    return dataDir.resolve("blobs").resolve(d.algorithm().id()).resolve(d.hex().substring(0, 2)).resolve(d.hex());
  }

  /** Leftover upload folders must all have a state file (the node removes the others when it starts). */
  static void verifyUploadFolders(Path dataDir) throws IOException {
    Path root = dataDir.resolve("uploads");
    if (!Files.isDirectory(root)) {
      return;
    }
    List<String> bad = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      for (Path d : s.filter(Files::isDirectory).toList()) {
        if (!Files.isRegularFile(d.resolve("state.json"))) {
          bad.add(d.getFileName().toString());
        }
      }
    }
    assertEquals(List.of(), bad, "upload folders without state survived a restart");
  }

  /**
   * Through the API: every repository of the catalog, every tag of each, resolves to a manifest
   * whose bytes hash to its digest, and every blob the manifest names is there with its size.
   * Returns the number of tags checked.
   */
  static int verifyCatalog(OciClient c) throws IOException {
    HttpResponse<byte[]> cat = c.get("/v2/_catalog?n=10000");
    OciClient.expect(cat, 200);
    List<String> problems = new ArrayList<>();
    int checked = 0;
    for (JsonNode repoNode : JSON.readTree(cat.body()).get("repositories")) {
      String repo = repoNode.asText();
      HttpResponse<byte[]> tl = c.get("/v2/" + repo + "/tags/list?n=10000");
      OciClient.expect(tl, 200);
      JsonNode tagList = JSON.readTree(tl.body()).get("tags");
      for (JsonNode t : tagList) {
        checked++;
        HttpResponse<byte[]> m = c.get("/v2/" + repo + "/manifests/" + t.asText(), Map.of("Accept", ACCEPT));
        if (m.statusCode() != 200) {
          problems.add(repo + ":" + t.asText() + " -> " + m.statusCode() + " " + OciClient.text(m));
          continue;
        }
        String digest = m.headers().firstValue("Docker-Content-Digest").orElse("");
        if (!digest.equals(Digest.sha256(m.body()).toString())) {
          problems.add(repo + ":" + t.asText() + " body does not hash to " + digest);
        }
        JsonNode manifest = JSON.readTree(m.body());
        List<JsonNode> descriptors = new ArrayList<>();
        if (manifest.has("config")) {
          descriptors.add(manifest.get("config"));
        }
        manifest.path("layers").forEach(descriptors::add);
        for (JsonNode d : descriptors) {
          HttpResponse<byte[]> head = c.send("HEAD", "/v2/" + repo + "/blobs/" + d.get("digest").asText(), null, Map.of());
          String len = head.headers().firstValue("Content-Length").orElse("?");
          if (head.statusCode() != 200 || !len.equals(d.get("size").asText())) {
            problems.add(repo + ":" + t.asText() + " blob " + d.get("digest").asText() + " -> " + head.statusCode()
                + " length " + len + " (manifest says " + d.get("size").asText() + ")");
          }
        }
      }
    }
    assertEquals(List.of(), problems, "tags that do not resolve to whole images");
    return checked;
  }

  /** Asserts that a response carries a header with exactly this value. */
  static void assertHeader(HttpResponse<?> r, String name, String expected) {
    assertEquals(expected, r.headers().firstValue(name).orElse(null), name + " of " + r.request().method() + " "
        + r.request().uri() + " (" + r.statusCode() + ")");
  }

  static void assertStatus(HttpResponse<byte[]> r, int... allowed) {
    for (int a : allowed) {
      if (r.statusCode() == a) {
        return;
      }
    }
    assertTrue(false, "unexpected " + r.statusCode() + " for " + r.request().method() + " " + r.request().uri() + ": "
        + OciClient.text(r));
  }
}
