package io.flotilla.testing;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/** Builds small, valid images in memory and pushes them through an {@link OciClient}. */
public final class Images {
  private Images() {}

  /** A pushed image: its manifest digest and bytes. */
  public record Pushed(Digest manifest, byte[] body, Digest config, List<Digest> layers) {}

  public static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Pushes {@code layerCount} random layers and a config, then an OCI manifest under {@code tag}. */
  public static Pushed push(OciClient client, String repo, String tag, int layerCount, long seed) {
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + seed + "}").getBytes(StandardCharsets.UTF_8);
    Digest configDigest = client.pushBlob(repo, config);
    StringBuilder layers = new StringBuilder();
    java.util.ArrayList<Digest> digests = new java.util.ArrayList<>();
    for (int i = 0; i < layerCount; i++) {
      byte[] layer = random(1024 + i * 100, seed * 31 + i);
      Digest d = client.pushBlob(repo, layer);
      digests.add(d);
      if (i > 0) {
        layers.append(',');
      }
      layers.append(descriptor("application/vnd.oci.image.layer.v1.tar+gzip", d, layer.length));
    }
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
        + ",\"layers\":[" + layers + "]}").getBytes(StandardCharsets.UTF_8);
    OciClient.expect(client.putManifest(repo, tag, MediaTypes.OCI_MANIFEST, manifest), 201);
    return new Pushed(Digest.sha256(manifest), manifest, configDigest, digests);
  }

  public static String descriptor(String mediaType, Digest digest, long size) {
    return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
  }
}
