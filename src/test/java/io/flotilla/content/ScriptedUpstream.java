package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * An upstream registry repository played by a {@link FaultServer}: one image under one tag, whose
 * layer is served slowly, with wrong bytes, not at all, or whose manifest is enormous: what a slow,
 * lying or broken upstream does to a sync.
 */
final class ScriptedUpstream {
  enum Fault { NONE, LYING_BLOB, MISSING_BLOB, HUGE_MANIFEST }

  final Digest manifest;
  final Digest layer;
  final byte[] layerBytes;

  /**
   * @param bytesPerSecond how fast the layer is served (0: at once)
   */
  ScriptedUpstream(FaultServer server, String repo, String tag, int layerSize, long bytesPerSecond, Fault fault) {
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"scripted\":\"" + repo + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    layerBytes = Images.random(layerSize, repo.hashCode());
    Digest configDigest = Digest.sha256(config);
    layer = Digest.sha256(layerBytes);
    byte[] body = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
        + ",\"layers\":[" + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer, layerSize)
        + "]}").getBytes(StandardCharsets.UTF_8);
    manifest = Digest.sha256(body);
    String base = "/v2/" + repo;
    server.on(base + "/tags/list", (x, n) -> FaultServer.send(x, 200, Map.of("Content-Type", "application/json"),
        ("{\"name\":\"" + repo + "\",\"tags\":[\"" + tag + "\"]}").getBytes(StandardCharsets.UTF_8)));
    FaultServer.Script manifestScript = (x, n) -> {
      if (fault == Fault.HUGE_MANIFEST) {
        x.getResponseHeaders().add("Content-Type", MediaTypes.OCI_MANIFEST);
        x.sendResponseHeaders(200, 1L << 30);
        try (OutputStream out = x.getResponseBody()) {
          byte[] chunk = new byte[1 << 16];
          for (int i = 0; i < (1 << 14); i++) {
            out.write(chunk);
          }
        } catch (IOException e) {
          // the client hung up: what it should do
        }
        return;
      }
      FaultServer.send(x, 200, Map.of("Content-Type", MediaTypes.OCI_MANIFEST,
          "Docker-Content-Digest", manifest.toString()), body);
    };
    server.on(base + "/manifests/" + tag, manifestScript);
    server.on(base + "/manifests/" + manifest, manifestScript);
    server.on(base + "/blobs/" + configDigest, (x, n) -> FaultServer.send(x, 200, Map.of(), config));
    server.on(base + "/blobs/" + layer, (x, n) -> {
      if (fault == Fault.MISSING_BLOB) {
        FaultServer.send(x, 404, Map.of(), "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}".getBytes(StandardCharsets.UTF_8));
        return;
      }
      byte[] bytes = layerBytes.clone();
      if (fault == Fault.LYING_BLOB) {
        bytes[bytes.length / 2] ^= 1;
      }
      x.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = x.getResponseBody()) {
        int step = bytesPerSecond <= 0 ? bytes.length : (int) Math.max(1, bytesPerSecond / 10);
        for (int off = 0; off < bytes.length; off += step) {
          out.write(bytes, off, Math.min(step, bytes.length - off));
          out.flush();
          if (bytesPerSecond > 0) {
            Thread.sleep(100);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }
}
