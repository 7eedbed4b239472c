package io.flotilla.testing;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A deterministic data set for search tests, pushed through the distribution API: repositories
 * with one to three images each, whose layers start with one of a few shared base layer lists
 * (so base and derived queries cross repositories), multi-arch indexes, cosign signature tags,
 * notation signature referrers, annotations and config labels. Every image config has a created
 * time after 2030, so LastUpdated values (and the orders built on them) do not depend on when
 * the data was pushed.
 */
public final class SearchData {
  private static final String[] WORDS = {"alpine", "busybox", "nginx", "redis", "postgres", "node", "python",
      "golang", "debian", "ubuntu", "mariadb", "httpd", "traefik"};
  private static final String[] NAMESPACES = {"library", "team-a", "team-b/tools", "infra"};
  private static final String LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
  private static final String CONFIG = "application/vnd.oci.image.config.v1+json";
  private static final int BASES = 4;

  private SearchData() {}

  /** The name of repository {@code i}. */
  public static String repository(int i) {
    return NAMESPACES[i % NAMESPACES.length] + "/" + WORDS[(i * 7) % WORDS.length] + "-" + i;
  }

  /** Pushes repositories {@code from} (inclusive) to {@code to} (exclusive); returns their names. */
  public static List<String> push(OciClient client, int from, int to) {
    List<String> names = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String repo = repository(i);
      pushRepository(client, repo, i);
      names.add(repo);
    }
    return names;
  }

  private static void pushRepository(OciClient c, String repo, int i) {
    Random rnd = new Random(1000L + i);
    int images = 1 + i % 3;
    List<Digest> manifests = new ArrayList<>();
    for (int k = 0; k < images; k++) {
      String tag = k == images - 1 ? "latest" : "1." + k;
      String[] platform = k % 2 == 0 ? new String[] {"linux", "amd64", ""} : new String[] {"linux", "arm", "v7"};
      byte[] m = image(c, repo, i, k, rnd, platform, k == 0 && i % 6 == 0);
      manifests.add(put(c, repo, tag, MediaTypes.OCI_MANIFEST, m));
    }
    if (i % 5 == 0) { // a multi-arch index over two fresh images
      byte[] amd = image(c, repo, i, 10, rnd, new String[] {"linux", "amd64", ""}, false);
      byte[] arm = image(c, repo, i, 11, rnd, new String[] {"linux", "arm64", "v8"}, false);
      Digest a = put(c, repo, Digest.sha256(amd).toString(), MediaTypes.OCI_MANIFEST, amd);
      Digest b = put(c, repo, Digest.sha256(arm).toString(), MediaTypes.OCI_MANIFEST, arm);
      String index = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":["
          + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + a + "\",\"size\":" + amd.length
          + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
          + "{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + b + "\",\"size\":" + arm.length
          + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}],"
          + "\"annotations\":{\"org.opencontainers.image.title\":\"multi " + repo + "\"}}";
      put(c, repo, "multi", MediaTypes.OCI_INDEX, index.getBytes(StandardCharsets.UTF_8));
    }
    if (i % 7 == 0) { // a cosign signature tag for the first image
      byte[] sig = artifact(c, repo, "cosign-" + i, "application/vnd.dev.cosign.simplesigning.v1+json", null, null);
      put(c, repo, manifests.get(0).toString().replace("sha256:", "sha256-") + ".sig", MediaTypes.OCI_MANIFEST, sig);
    }
    if (i % 11 == 0) { // a notation signature referrer of the newest image
      Digest subject = manifests.get(manifests.size() - 1);
      byte[] sig = artifact(c, repo, "notation-" + i, "application/vnd.cns.notary.signature", subject,
          "application/vnd.cns.notary.signature");
      put(c, repo, Digest.sha256(sig).toString(), MediaTypes.OCI_MANIFEST, sig);
    }
  }

  /** An image manifest: base layers (shared with other repositories) plus one of its own. */
  private static byte[] image(OciClient c, String repo, int i, int k, Random rnd, String[] platform, boolean described) {
    // the first image of repositories 0..3 is a base image made of shared layers 0..i only; every other
    // image is shared layers 0..n plus a layer of its own, so it derives from the bases 0..n
    boolean pureBase = i < BASES && k == 0;
    int base = pureBase ? i : (i + k) % BASES;
    List<String> layers = new ArrayList<>();
    for (int b = 0; b <= base; b++) {
      byte[] layer = ("shared base layer " + b).getBytes(StandardCharsets.UTF_8);
      layers.add(descriptor(LAYER, c.pushBlob(repo, layer), layer.length));
    }
    byte[] own = new byte[64 + rnd.nextInt(512)];
    rnd.nextBytes(own);
    if (!pureBase) {
      layers.add(descriptor(LAYER, c.pushBlob(repo, own), own.length));
    }
    String created = String.format("2031-%02d-%02dT%02d:%02d:%02d.%09dZ", 1 + i % 12, 1 + k, i % 24, (i * 7) % 60,
        (i * 13 + k) % 60, (i * 7919L + k) % 1_000_000_000L);
    String variant = platform[2].isEmpty() ? "" : ",\"variant\":\"" + platform[2] + "\"";
    String config = "{\"created\":\"" + created + "\",\"os\":\"" + platform[0] + "\",\"architecture\":\"" + platform[1]
        + "\"" + variant + ",\"config\":{\"Labels\":{\"org.opencontainers.image.vendor\":\"vendor-" + (i % 9)
        + "\",\"org.label-schema.description\":\"label-schema text " + i + "\"}},"
        + "\"history\":[{\"created\":\"2030-01-01T00:00:00Z\",\"created_by\":\"ADD base\"},"
        + "{\"created\":\"2030-01-02T00:00:00Z\",\"created_by\":\"ENV x=1\",\"empty_layer\":true}],"
        + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"k\":" + k + "}";
    byte[] configBytes = config.getBytes(StandardCharsets.UTF_8);
    Digest cd = c.pushBlob(repo, configBytes);
    String annotations = described
        ? ",\"annotations\":{\"org.opencontainers.image.description\":\"described " + repo + "\","
            + "\"org.opencontainers.image.licenses\":\"Apache-2.0\",\"org.opencontainers.image.source\":\"https://example.com/"
            + i + "\"}"
        : "";
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + descriptor(CONFIG, cd, configBytes.length) + ",\"layers\":[" + String.join(",", layers) + "]" + annotations
        + "}").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] artifact(OciClient c, String repo, String payload, String layerType, Digest subject,
      String artifactType) {
    byte[] layer = payload.getBytes(StandardCharsets.UTF_8);
    Digest ld = c.pushBlob(repo, layer);
    byte[] empty = "{}".getBytes(StandardCharsets.UTF_8);
    Digest ed = c.pushBlob(repo, empty);
    String subjectField = subject == null ? ""
        : ",\"subject\":{\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + subject + "\",\"size\":1}";
    String at = artifactType == null ? "" : ",\"artifactType\":\"" + artifactType + "\"";
    return ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\"" + at + ",\"config\":"
        + descriptor(MediaTypes.OCI_EMPTY, ed, empty.length) + ",\"layers\":[" + descriptor(layerType, ld, layer.length)
        + "]" + subjectField + "}").getBytes(StandardCharsets.UTF_8);
  }

  private static Digest put(OciClient c, String repo, String reference, String mediaType, byte[] body) {
    OciClient.expect(c.putManifest(repo, reference, mediaType, body), 201);
    return Digest.sha256(body);
  }

  private static String descriptor(String mediaType, Digest digest, long size) {
    return "{\"mediaType\":\"" + mediaType + "\",\"digest\":\"" + digest + "\",\"size\":" + size + "}";
  }
}
