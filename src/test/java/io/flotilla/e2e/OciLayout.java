package io.flotilla.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flotilla.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Writes and reads OCI image layouts (the on-disk format of skopeo's {@code oci:} transport):
 * {@code oci-layout}, {@code index.json} and content-addressed {@code blobs/sha256/<hex>} files.
 * Also builds tar layers by hand (ustar, fixed metadata) so the bytes are reproducible.
 */
public final class OciLayout {
  public static final ObjectMapper JSON = new ObjectMapper();
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";
  public static final String REF_NAME = "org.opencontainers.image.ref.name";

  /** A content descriptor as it appears in manifests and indexes. */
  public record Desc(String mediaType, String digest, long size) {
    public ObjectNode json() {
      return JSON.createObjectNode().put("mediaType", mediaType).put("digest", digest).put("size", size);
    }
  }

  private final Path root;

  private OciLayout(Path root) {
    this.root = root;
  }

  /** Creates a new, empty layout at {@code root} (the folder may exist). */
  public static OciLayout create(Path root) {
    try {
      Files.createDirectories(root.resolve("blobs").resolve("sha256"));
      Files.writeString(root.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
      return new OciLayout(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Opens an existing layout, e.g. one skopeo wrote. */
  public static OciLayout open(Path root) {
    return new OciLayout(root);
  }

  public Path root() {
    return root;
  }

  /** Stores a blob and returns its descriptor. */
  public Desc blob(String mediaType, byte[] content) {
    String digest = sha256(content);
    try {
      Files.write(blobPath(digest), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Desc(mediaType, digest, content.length);
  }

  /** Stores a JSON document as a blob (serialised once; the stored bytes are what is hashed). */
  public Desc json(String mediaType, JsonNode node) {
    return blob(mediaType, bytes(node));
  }

  public Path blobPath(String digest) {
    Digest d = Digest.parse(digest);
    return root.resolve("blobs").resolve(d.algorithm().id()).resolve(d.hex());
  }

  public byte[] read(String digest) {
    try {
      return Files.readAllBytes(blobPath(digest));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes {@code index.json} with the given manifests, each tagged with {@code org.opencontainers.image.ref.name}. */
  public void writeIndex(Map<String, Desc> byTag) {
    ObjectNode index = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OCI_INDEX);
    ArrayNode manifests = index.putArray("manifests");
    byTag.forEach((tag, d) -> manifests.add(d.json().set("annotations", JSON.createObjectNode().put(REF_NAME, tag))));
    try {
      Files.write(root.resolve("index.json"), bytes(index));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public JsonNode index() {
    try {
      return JSON.readTree(root.resolve("index.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The descriptor {@code index.json} lists for {@code tag}, or null. */
  public JsonNode entry(String tag) {
    for (JsonNode m : index().path("manifests")) {
      if (tag.equals(m.path("annotations").path(REF_NAME).asText(null))) {
        return m;
      }
    }
    return null;
  }

  /** Every blob in the layout, by digest, sorted. */
  public Map<String, byte[]> blobs() {
    Map<String, byte[]> out = new TreeMap<>();
    Path dir = root.resolve("blobs").resolve("sha256");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        out.put("sha256:" + p.getFileName(), Files.readAllBytes(p));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  public static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static JsonNode parse(byte[] body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String sha256(byte[] content) {
    return Digest.sha256(content).toString();
  }

  /** A ustar archive of regular files (mode 0644, uid/gid 0, mtime 0), in the map's order. */
  public static byte[] tar(Map<String, byte[]> files) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      byte[] name = f.getKey().getBytes(StandardCharsets.US_ASCII);
      if (name.length > 99) {
        throw new IllegalArgumentException("name too long for this tiny tar writer: " + f.getKey());
      }
      byte[] h = new byte[512];
      System.arraycopy(name, 0, h, 0, name.length);
      octal(h, 100, 8, 0644);
      octal(h, 108, 8, 0);
      octal(h, 116, 8, 0);
      octal(h, 124, 12, f.getValue().length);
      octal(h, 136, 12, 0);
      for (int i = 148; i < 156; i++) {
        h[i] = ' ';
      }
      h[156] = '0';
      put(h, 257, "ustar\0");
      put(h, 263, "00");
      put(h, 265, "root");
      put(h, 297, "root");
      long sum = 0;
      for (byte b : h) {
        sum += b & 0xff;
      }
      String chk = String.format("%06o", sum);
      put(h, 148, chk);
      h[154] = 0;
      h[155] = ' ';
      out.writeBytes(h);
      out.writeBytes(f.getValue());
      int pad = (512 - f.getValue().length % 512) % 512;
      out.writeBytes(new byte[pad]);
    }
    out.writeBytes(new byte[1024]);
    return out.toByteArray();
  }

  public static byte[] gzip(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static byte[] gunzip(byte[] data) {
    try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(data))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The regular files of a tar archive, by name (leading {@code ./} and {@code /} removed).
   * Directories, links and pax/GNU extension headers are skipped; enough for the short names
   * these tests use.
   */
  public static Map<String, byte[]> untar(byte[] tar) {
    Map<String, byte[]> files = new java.util.LinkedHashMap<>();
    int pos = 0;
    while (pos + 512 <= tar.length) {
      boolean zero = true;
      for (int i = pos; i < pos + 512; i++) {
        if (tar[i] != 0) {
          zero = false;
          break;
        }
      }
      if (zero) {
        break;
      }
      String name = cString(tar, pos, 100);
      String prefix = cString(tar, pos + 345, 155);
      if (!prefix.isEmpty()) {
        name = prefix + "/" + name;
      }
      long size = Long.parseLong(cString(tar, pos + 124, 12).trim().isEmpty() ? "0" : cString(tar, pos + 124, 12).trim(), 8);
      char type = (char) tar[pos + 156];
      int data = pos + 512;
      if (type == '0' || type == 0) {
        while (name.startsWith("./") || name.startsWith("/")) {
          name = name.substring(name.startsWith("./") ? 2 : 1);
        }
        files.put(name, java.util.Arrays.copyOfRange(tar, data, data + (int) size));
      }
      pos = data + (int) ((size + 511) / 512 * 512);
    }
    return files;
  }

  private static String cString(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static void octal(byte[] h, int off, int len, long value) {
    String s = String.format("%0" + (len - 1) + "o", value);
    put(h, off, s);
    h[off + len - 1] = 0;
  }

  private static void put(byte[] h, int off, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(b, 0, h, off, b.length);
  }
}
