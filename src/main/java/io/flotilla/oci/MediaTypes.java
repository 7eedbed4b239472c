package io.flotilla.oci;

import java.util.Set;

/** The manifest media types the registry understands, and helpers to classify them. */
public final class MediaTypes {
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
  public static final String DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
  public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";
  public static final String OCTET_STREAM = "application/octet-stream";
  public static final String JSON = "application/json";

  /** Layer types whose content may live outside the registry and so need not exist in it. */
  private static final Set<String> FOREIGN_LAYERS = Set.of(
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd");

  private MediaTypes() {}

  public static boolean isIndex(String mediaType) {
    return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType);
  }

  public static boolean isImageManifest(String mediaType) {
    return OCI_MANIFEST.equals(mediaType) || DOCKER_MANIFEST.equals(mediaType);
  }

  public static boolean isManifest(String mediaType) {
    return isIndex(mediaType) || isImageManifest(mediaType);
  }

  public static boolean isForeignLayer(String mediaType) {
    return FOREIGN_LAYERS.contains(mediaType);
  }

  /** Strips parameters ({@code ; charset=...}) and white space from a Content-Type value. */
  public static String base(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
  }
}
