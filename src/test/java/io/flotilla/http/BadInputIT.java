package io.flotilla.http;

import static io.flotilla.testing.OciClient.text;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every malformed request gets the exact OCI error code and status, and stores nothing: the blob
 * count, the catalog and the repositories folder are the same before and after.
 */
class BadInputIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Digest MISSING = Digest.sha256("missing".getBytes(StandardCharsets.UTF_8));
  static final byte[] LAYER = Images.random(1000, 99);
  @TempDir
  static Path dir;
  static TestNode node;
  static OciClient client;
  static Images.Pushed image;
  static String uploadLocation;

  @BeforeAll
  static void start() {
    node = TestNode.start(dir.resolve("data"));
    client = new OciClient(node.url());
    image = Images.push(client, "bad/existing", "v1", 1, 1);
    var post = client.send("POST", "/v2/bad/existing/blobs/uploads/", null, Map.of());
    uploadLocation = post.headers().firstValue("Location").orElseThrow();
    client.send("PATCH", uploadLocation, new byte[10], Map.of());
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  record Case(String name, String method, String path, Map<String, String> headers, byte[] body, int status, String code) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case c(String name, String method, String path, Map<String, String> headers, byte[] body, int status, String code) {
    return new Case(name, method, path, headers, body, status, code);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Map<String, String> manifestType() {
    return Map.of("Content-Type", MediaTypes.OCI_MANIFEST);
  }

  static String manifestReferencing(Digest config, Digest layer) {
    return "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", config, 10) + ",\"layers\":["
        + Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer, 10) + "]}";
  }

  /** The existing image's manifest with its layer's size one byte too large. */
  static byte[] wrongLayerSize() {
    String layerType = "application/vnd.oci.image.layer.v1.tar+gzip";
    Digest layer = image.layers().get(0);
    long size = client.send("HEAD", "/v2/bad/existing/blobs/" + layer, null, Map.of()).headers()
        .firstValueAsLong("Content-Length").orElseThrow();
    String valid = new String(image.body(), StandardCharsets.UTF_8);
    String right = Images.descriptor(layerType, layer, size);
    assertEquals(true, valid.contains(right), valid);
    return bytes(valid.replace(right, Images.descriptor(layerType, layer, size + 1)));
  }

  static Stream<Arguments> cases() {
    String valid = new String(image.body(), StandardCharsets.UTF_8);
    byte[] oversize = new byte[4 * 1024 * 1024 + 10];
    java.util.Arrays.fill(oversize, (byte) ' ');
    byte[] prefix = bytes(valid);
    System.arraycopy(prefix, 0, oversize, 0, prefix.length);
    Map<String, String> none = Map.of();
    return Stream.of(
        c("malformed manifest JSON", "PUT", "/v2/bad/new/manifests/v1", manifestType(), bytes("{not json"), 400, "MANIFEST_INVALID"),
        c("manifest is a JSON array", "PUT", "/v2/bad/new/manifests/v1", manifestType(), bytes("[]"), 400, "MANIFEST_INVALID"),
        c("schema 1 manifest", "PUT", "/v2/bad/new/manifests/v1",
            Map.of("Content-Type", MediaTypes.DOCKER_SCHEMA1_SIGNED), bytes("{\"schemaVersion\":1,\"name\":\"x\"}"), 400, "MANIFEST_INVALID"),
        c("unknown manifest media type", "PUT", "/v2/bad/new/manifests/v1",
            Map.of("Content-Type", "application/vnd.example.unknown+json"), bytes(valid.replace("\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",", "")), 400, "MANIFEST_INVALID"),
        c("Content-Type contradicts mediaType", "PUT", "/v2/bad/new/manifests/v1",
            Map.of("Content-Type", MediaTypes.DOCKER_MANIFEST), bytes(valid), 400, "MANIFEST_INVALID"),
        c("manifest descriptor with bad digest", "PUT", "/v2/bad/new/manifests/v1", manifestType(),
            bytes(valid.replace(image.config().toString(), "sha256:1234")), 400, "MANIFEST_INVALID"),
        c("layer descriptor size differs from the stored blob", "PUT", "/v2/bad/existing/manifests/wrongsize", manifestType(),
            wrongLayerSize(), 400, "MANIFEST_INVALID"),
        c("manifest references unknown blobs", "PUT", "/v2/bad/new/manifests/v1", manifestType(),
            bytes(manifestReferencing(MISSING, MISSING)), 400, "MANIFEST_BLOB_UNKNOWN"),
        c("blobs of another repository are not visible", "PUT", "/v2/bad/other/manifests/v1", manifestType(),
            image.body(), 400, "MANIFEST_BLOB_UNKNOWN"),
        c("oversize manifest", "PUT", "/v2/bad/existing/manifests/big", manifestType(), oversize, 413, "SIZE_INVALID"),
        c("manifest digest mismatch", "PUT", "/v2/bad/existing/manifests/" + MISSING, manifestType(), image.body(), 400, "DIGEST_INVALID"),
        c("invalid tag", "PUT", "/v2/bad/existing/manifests/-tag", manifestType(), image.body(), 400, "TAG_INVALID"),
        c("upper-case repository name", "GET", "/v2/Bad/Name/manifests/v1", none, null, 400, "NAME_INVALID"),
        c("GET of a reference that is neither a tag nor a digest", "GET", "/v2/bad/existing/manifests/.INVALID_MANIFEST_NAME",
            none, null, 404, "MANIFEST_UNKNOWN"),
        c("GET of a malformed digest reference", "GET", "/v2/bad/existing/manifests/sha256:xyz", none, null, 404,
            "MANIFEST_UNKNOWN"),
        c("path traversal in name", "PUT", "/v2/bad/%2e%2e/%2e%2e/etc/manifests/v1", manifestType(), image.body(), 400, "NAME_INVALID"),
        c("reserved component in name", "GET", "/v2/bad/_meta/tags/list", none, null, 400, "NAME_INVALID"),
        c("too long name", "GET", "/v2/" + "a".repeat(256) + "/tags/list", none, null, 400, "NAME_INVALID"),
        c("monolithic push with wrong digest", "POST", "/v2/bad/new/blobs/uploads/?digest=" + MISSING, none, LAYER, 400, "DIGEST_INVALID"),
        c("monolithic push with malformed digest", "POST", "/v2/bad/new/blobs/uploads/?digest=sha256:xyz", none, LAYER, 400, "DIGEST_INVALID"),
        c("unsupported digest algorithm", "POST", "/v2/bad/new/blobs/uploads/?digest=md5:d41d8cd98f00b204e9800998ecf8427e", none, LAYER, 400, "DIGEST_INVALID"),
        c("finish without digest", "PUT", "UPLOAD", none, null, 400, "DIGEST_INVALID"),
        c("finish with wrong digest", "PUT", "FRESH_UPLOAD?digest=" + MISSING, none, null, 400, "DIGEST_INVALID"),
        c("patch of unknown upload", "PATCH", "/v2/bad/existing/blobs/uploads/no-such-upload", none, LAYER, 404, "BLOB_UPLOAD_UNKNOWN"),
        c("finish of unknown upload", "PUT", "/v2/bad/existing/blobs/uploads/no-such-upload?digest=" + MISSING, none, null, 404, "BLOB_UPLOAD_UNKNOWN"),
        c("upload of another repository", "GET", "UPLOAD_OTHER_REPO", none, null, 404, "BLOB_UPLOAD_UNKNOWN"),
        c("malformed Content-Range", "PATCH", "UPLOAD", Map.of("Content-Range", "abc"), LAYER, 416, "RANGE_INVALID"),
        c("Content-Range not matching body", "PATCH", "UPLOAD", Map.of("Content-Range", "10-20"), LAYER, 416, "RANGE_INVALID"),
        c("out-of-order chunk", "PATCH", "UPLOAD", Map.of("Content-Range", "500-1499"), LAYER, 416, "RANGE_INVALID"),
        c("unknown blob", "GET", "/v2/bad/existing/blobs/" + MISSING, none, null, 404, "BLOB_UNKNOWN"),
        c("malformed blob digest", "GET", "/v2/bad/existing/blobs/sha256:nothex", none, null, 400, "DIGEST_INVALID"),
        c("unsatisfiable range", "GET", "/v2/bad/existing/blobs/" + image.config(), Map.of("Range", "bytes=99999-"), null, 416, "RANGE_INVALID"),
        c("unknown manifest", "GET", "/v2/bad/existing/manifests/nope", none, null, 404, "MANIFEST_UNKNOWN"),
        c("unknown repository", "GET", "/v2/bad/nothing/manifests/v1", none, null, 404, "NAME_UNKNOWN"),
        c("tags of unknown repository", "GET", "/v2/bad/nothing/tags/list", none, null, 404, "NAME_UNKNOWN"),
        c("non-numeric n", "GET", "/v2/bad/existing/tags/list?n=abc", none, null, 400, "PAGINATION_NUMBER_INVALID"),
        c("negative n", "GET", "/v2/_catalog?n=-1", none, null, 400, "PAGINATION_NUMBER_INVALID"),
        c("huge n", "GET", "/v2/_catalog?n=100000000000", none, null, 400, "PAGINATION_NUMBER_INVALID"),
        c("n above the page limit", "GET", "/v2/bad/existing/tags/list?n=10001", none, null, 400, "PAGINATION_NUMBER_INVALID"),
        c("referrers of a malformed digest", "GET", "/v2/bad/existing/referrers/latest", none, null, 400, "DIGEST_INVALID"),
        c("delete of unknown manifest", "DELETE", "/v2/bad/existing/manifests/" + MISSING, none, null, 404, "MANIFEST_UNKNOWN"),
        c("delete of unknown blob", "DELETE", "/v2/bad/existing/blobs/" + MISSING, none, null, 404, "BLOB_UNKNOWN"),
        c("unknown endpoint", "GET", "/v2/bad/existing/nothing", none, null, 404, "NOT_FOUND"),
        c("method not allowed", "POST", "/v2/bad/existing/manifests/v1", none, null, 405, "UNSUPPORTED"),
        c("mount with malformed digest", "POST", "/v2/bad/new/blobs/uploads/?mount=sha256:zz&from=bad/existing", none, null, 400, "DIGEST_INVALID"),
        c("mount from invalid repository", "POST", "/v2/bad/new/blobs/uploads/?mount=" + MISSING + "&from=BAD", none, null, 400, "NAME_INVALID"))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void rejectedWithExactErrorAndNothingStored(Case c) throws Exception {
    String fresh = "";
    if (c.path().startsWith("FRESH_UPLOAD")) {
      fresh = client.send("POST", "/v2/bad/existing/blobs/uploads/", null, Map.of()).headers().firstValue("Location").orElseThrow();
      OciClient.expect(client.send("PATCH", fresh, LAYER, Map.of()), 202);
    }
    String before = snapshot();
    String path = c.path().replace("FRESH_UPLOAD", fresh).replace("UPLOAD_OTHER_REPO", uploadLocation.replace("/bad/existing/", "/bad/other/"))
        .replace("UPLOAD", uploadLocation);
    var r = client.send(c.method(), path, c.body(), c.headers());
    assertEquals(c.status(), r.statusCode(), c.name() + ": " + text(r));
    JsonNode err = JSON.readTree(r.body()).get("errors").get(0);
    assertEquals(c.code(), err.get("code").asText(), c.name());
    assertEquals(true, err.has("message") && err.has("detail"), c.name());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    assertEquals(before, snapshot(), c.name() + " changed what is stored");
    var status = client.get(uploadLocation);
    assertEquals("0-9", status.headers().firstValue("Range").orElse(""), c.name() + " moved the upload");
  }

  @Test
  void headOfAReferenceThatIsNeitherATagNorADigestIs404() {
    assertEquals(404, client.send("HEAD", "/v2/bad/existing/manifests/.INVALID", null, Map.of()).statusCode());
  }

  @Test
  void manifestWithAWrongLayerSizeIsNotStored() throws Exception {
    byte[] body = wrongLayerSize();
    var put = client.putManifest("bad/existing", "wrongsize2", MediaTypes.OCI_MANIFEST, body);
    assertEquals(400, put.statusCode(), text(put));
    assertEquals("MANIFEST_INVALID", JSON.readTree(put.body()).get("errors").get(0).get("code").asText());
    OciClient.expect(client.get("/v2/bad/existing/manifests/wrongsize2"), 404);
    OciClient.expect(client.get("/v2/bad/existing/manifests/" + Digest.sha256(body)), 404);
    OciClient.expect(client.get("/v2/bad/existing/manifests/v1"), 200);
  }

  /**
   * Blob count, catalog and the usage of every repository (bytes, manifests, tags and blob links
   * each holds: the metadata database's content as the API counts it).
   */
  static String snapshot() throws Exception {
    JsonNode usage = JSON.readTree(client.get("/api/v1/storage/usage").body());
    return usage.get("storedBlobs").asText() + '|' + text(client.get("/v2/_catalog")) + '|'
        + usage.get("repositories");
  }
}
