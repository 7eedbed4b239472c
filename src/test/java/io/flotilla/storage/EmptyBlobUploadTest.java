package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session finished by a PUT without any byte ever written (the empty blob, which image configs
 * and layers legitimately are): the upload has no data file yet, for either digest algorithm.
 */
class EmptyBlobUploadTest {
  @TempDir
  Path dir;

  @Test
  void emptyBlobCanBeFinishedWithEitherAlgorithm() {
    try (TestNode node = TestNode.start(dir)) {
      OciClient c = new OciClient(node.url());
      for (DigestAlgorithm alg : DigestAlgorithm.values()) {
        Digest empty = Digest.of(alg, new byte[0]);
        HttpResponse<byte[]> post = c.send("POST", "/v2/empty/app/blobs/uploads/", null, Map.of());
        OciClient.expect(post, 202);
        String location = post.headers().firstValue("Location").orElseThrow();
        HttpResponse<byte[]> put = c.send("PUT", location + "?digest=" + empty, null, Map.of());
        OciClient.expect(put, 201);
        HttpResponse<byte[]> get = c.get("/v2/empty/app/blobs/" + empty);
        OciClient.expect(get, 200);
        assertEquals(0, get.body().length, alg.id());
        assertEquals(true, Files.isRegularFile(dir.resolve("blobs").resolve(alg.id())
            .resolve(empty.hex().substring(0, 2)).resolve(empty.hex())), alg.id() + " blob file");
        OciClient.expect(c.get(location), 404);
      }
    }
  }
}
