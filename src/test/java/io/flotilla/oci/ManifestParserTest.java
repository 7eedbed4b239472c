package io.flotilla.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ManifestParserTest {
  static final String D1 = "sha256:" + "1".repeat(64);
  static final String D2 = "sha256:" + "2".repeat(64);
  static final String IMAGE = """
      {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
       "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":10},
       "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":20}]}
      """.formatted(D1, D2);

  static Manifest parse(String json, String contentType) {
    return ManifestParser.parse(json.getBytes(StandardCharsets.UTF_8), contentType);
  }

  @Test
  void parsesImageManifest() {
    Manifest m = parse(IMAGE, MediaTypes.OCI_MANIFEST);
    assertEquals(MediaTypes.OCI_MANIFEST, m.mediaType());
    assertEquals(D1, m.config().digest().toString());
    assertEquals(1, m.layers().size());
    assertEquals("application/vnd.oci.image.config.v1+json", m.artifactType());
    assertNull(m.subject());
  }

  @Test
  void parsesArtifactWithSubject() {
    String json = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sbom",
         "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[],
         "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":100},
         "annotations":{"k":"v"}}
        """.formatted(D1, D2);
    Manifest m = parse(json, MediaTypes.OCI_MANIFEST);
    assertEquals("application/vnd.example.sbom", m.artifactType());
    assertNotNull(m.subject());
    assertEquals(D2, m.subject().digest().toString());
    assertEquals("v", m.annotations().get("k"));
  }

  @Test
  void parsesIndexAndDockerList() {
    String index = """
        {"schemaVersion":2,"mediaType":"%s","manifests":[
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":5,"platform":{"os":"linux","architecture":"arm64"}}]}
        """;
    Manifest oci = parse(index.formatted(MediaTypes.OCI_INDEX, D1), MediaTypes.OCI_INDEX);
    assertTrue(oci.isIndex());
    assertEquals("arm64", oci.manifests().get(0).platformArchitecture());
    Manifest docker = parse(index.formatted(MediaTypes.DOCKER_MANIFEST_LIST, D1), MediaTypes.DOCKER_MANIFEST_LIST);
    assertEquals(MediaTypes.DOCKER_MANIFEST_LIST, docker.mediaType());
  }

  @Test
  void infersTypeWithoutContentType() {
    assertEquals(MediaTypes.OCI_MANIFEST, parse(IMAGE.replace("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",", ""), null).mediaType());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "not json|",
      "[]|",
      "{\"schemaVersion\":1}|",
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}|",
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:bad\",\"size\":1},\"layers\":[]}|",
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" + "sha256:1111111111111111111111111111111111111111111111111111111111111111" + "\",\"size\":-1},\"layers\":[]}|",
      "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\",\"size\":1},\"layers\":[]}|",
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.foo\",\"config\":{},\"layers\":[]}|",
      "{\"schemaVersion\":2,\"manifests\":{}}|",
      "{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}|",
  })
  void rejectsInvalid(String json, String ignored) {
    OciException e = assertThrows(OciException.class, () -> parse(json, null));
    assertEquals(OciError.MANIFEST_INVALID, e.error());
  }

  @Test
  void rejectsMismatchedOrUnknownContentType() {
    assertEquals(OciError.MANIFEST_INVALID,
        assertThrows(OciException.class, () -> parse(IMAGE, MediaTypes.DOCKER_MANIFEST)).error());
    assertEquals(OciError.MANIFEST_INVALID,
        assertThrows(OciException.class, () -> parse(IMAGE.replace("\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",", ""),
            "application/vnd.unknown+json")).error());
  }
}
