package io.flotilla.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.flotilla.http.V2Route.Kind;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import org.junit.jupiter.api.Test;

class V2RouteTest {
  static void route(String path, Kind kind, String name, String ref) {
    assertEquals(new V2Route(kind, name, ref), V2Route.parse(path), path);
  }

  @Test
  void parsesEveryResource() {
    route("/v2/", Kind.BASE, "", "");
    route("/v2", Kind.BASE, "", "");
    route("/v2/_catalog", Kind.CATALOG, "", "");
    route("/v2/a/b/tags/list", Kind.TAGS, "a/b", "");
    route("/v2/a/manifests/latest", Kind.MANIFEST, "a", "latest");
    route("/v2/a/blobs/sha256:abc", Kind.BLOB, "a", "sha256:abc");
    route("/v2/a/blobs/uploads/", Kind.UPLOADS, "a", "");
    route("/v2/a/blobs/uploads", Kind.UPLOADS, "a", "");
    route("/v2/a/blobs/uploads/1234", Kind.UPLOAD, "a", "1234");
    route("/v2/a/referrers/sha256:abc", Kind.REFERRERS, "a", "sha256:abc");
    route("/v2/a/blobs/sha256%3Aabc", Kind.BLOB, "a", "sha256:abc");
  }

  @Test
  void repositoryComponentsMayLookLikeMarkers() {
    route("/v2/x/manifests/y/manifests/v1", Kind.MANIFEST, "x/manifests/y", "v1");
    route("/v2/blobs/manifests/v1", Kind.MANIFEST, "blobs", "v1");
    route("/v2/x/blobs/y/blobs/uploads/", Kind.UPLOADS, "x/blobs/y", "");
  }

  @Test
  void extensionPaths() {
    route("/v2/_zot/ext/search", Kind.EXTENSION, "", "_zot/ext/search");
    route("/v2/_zot/ext/search/", Kind.EXTENSION, "", "_zot/ext/search/");
    route("/v2/_zot/ext/mgmt", Kind.EXTENSION, "", "_zot/ext/mgmt");
    route("/v2/_oci/ext/discover", Kind.EXTENSION, "", "_oci/ext/discover");
    route("/v2/_zot/ext/search%2Fx", Kind.EXTENSION, "", "_zot/ext/search/x");
    // sub-paths that end like other resources are still the extension's
    route("/v2/_zot/ext/search/tags/list", Kind.EXTENSION, "", "_zot/ext/search/tags/list");
    route("/v2/_zot/ext/search/manifests/latest", Kind.EXTENSION, "", "_zot/ext/search/manifests/latest");
    route("/v2/_zot/ext/search/blobs/uploads/", Kind.EXTENSION, "", "_zot/ext/search/blobs/uploads/");
    // not extensions
    route("/v2/_zot/ext", Kind.UNKNOWN, "", "");
    route("/v2/_zot/search", Kind.UNKNOWN, "", "");
    route("/v2/a/_zot/ext/search", Kind.UNKNOWN, "", "");
    route("/v2/zot/ext/search/manifests/v1", Kind.MANIFEST, "zot/ext/search", "v1");
  }

  @Test
  void unknownPaths() {
    route("/v2/a/manifests/", Kind.UNKNOWN, "", "");
    route("/v2/a", Kind.UNKNOWN, "", "");
    route("/v2/a/manifests/x/y", Kind.UNKNOWN, "", "");
  }

  @Test
  void ranges() {
    assertNull(BlobHandler.parseRange(null, 10));
    assertArrayEquals(new long[] {0, 9}, BlobHandler.parseRange("bytes=0-", 10));
    assertArrayEquals(new long[] {2, 5}, BlobHandler.parseRange("bytes=2-5", 10));
    assertArrayEquals(new long[] {7, 9}, BlobHandler.parseRange("bytes=-3", 10));
    assertArrayEquals(new long[] {5, 9}, BlobHandler.parseRange("bytes=5-100", 10));
    for (String bad : new String[] {"bytes=10-", "bytes=5-2", "bytes=x-1", "bytes=-0"}) {
      OciException e = assertThrows(OciException.class, () -> BlobHandler.parseRange(bad, 10), bad);
      assertEquals(OciError.RANGE_INVALID, e.error());
      assertEquals(416, e.status());
    }
  }

  @Test
  void pagination() {
    assertEquals(50, Pagination.pageSize(null, 50, 100));
    assertEquals(0, Pagination.pageSize("0", 50, 100));
    assertEquals(OciError.PAGINATION_NUMBER_INVALID,
        assertThrows(OciException.class, () -> Pagination.pageSize("101", 50, 100)).error());
    assertEquals(OciError.PAGINATION_NUMBER_INVALID,
        assertThrows(OciException.class, () -> Pagination.pageSize("-1", 50, 100)).error());
    assertEquals("</v2/_catalog?n=2&last=a%2Fb>; rel=\"next\"", Pagination.link("/v2/_catalog", 2, "a/b"));
  }
}
