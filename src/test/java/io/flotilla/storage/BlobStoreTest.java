package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {
  @TempDir
  Path dir;

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private Path temp(byte[] content) throws IOException {
    Path uploads = dir.resolve("uploads");
    Files.createDirectories(uploads);
    Path t = Files.createTempFile(uploads, "data", "");
    Files.write(t, content);
    return t;
  }

  private static void age(Path file, long millisAgo) throws IOException {
    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - millisAgo));
  }

  @Test
  void commitMovesTheVerifiedFileIntoItsContentAddress() throws IOException {
    BlobStore store = new BlobStore(dir);
    byte[] content = random(10_000, 1);
    Digest d = Digest.sha256(content);
    Path t = temp(content);
    store.commit(t, d);
    assertFalse(Files.exists(t), "temp file consumed");
    Path p = store.path(d);
    assertEquals(dir.resolve("blobs").resolve("sha256").resolve(d.hex().substring(0, 2)).resolve(d.hex()), p);
    assertArrayEquals(content, Files.readAllBytes(p));
    assertArrayEquals(content, store.read(d));
    assertEquals(content.length, store.size(d));
    assertEquals(content.length, store.storedBytes().longValue());
    assertEquals(1, store.storedBlobs().longValue());
  }

  @Test
  void commitOfAnAlreadyStoredBlobDeduplicatesAndTouches() throws IOException {
    BlobStore store = new BlobStore(dir);
    byte[] content = random(5_000, 2);
    Digest d = Digest.sha256(content);
    store.commit(temp(content), d);
    age(store.path(d), 3_600_000);
    long before = Files.getLastModifiedTime(store.path(d)).toMillis();
    Path second = temp(content);
    store.commit(second, d);
    assertFalse(Files.exists(second), "duplicate temp file dropped");
    assertArrayEquals(content, Files.readAllBytes(store.path(d)));
    assertEquals(content.length, store.storedBytes().longValue(), "stored once");
    assertEquals(1, store.storedBlobs().longValue());
    assertTrue(Files.getLastModifiedTime(store.path(d)).toMillis() > before, "re-use touches the blob");
  }

  @Test
  void concurrentCommitsOfTheSameContentStoreItOnce() throws Exception {
    BlobStore store = new BlobStore(dir);
    byte[] content = random(50_000, 3);
    Digest d = Digest.sha256(content);
    List<Path> temps = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      temps.add(temp(content));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (Path t : temps) {
        fs.add(pool.submit(() -> {
          store.commit(t, d);
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    for (Path t : temps) {
      assertFalse(Files.exists(t));
    }
    assertEquals(1, store.storedBlobs().longValue());
    assertEquals(content.length, store.storedBytes().longValue());
    assertArrayEquals(content, store.read(d));
  }

  @Test
  void putStoresSmallContentOnce() throws IOException {
    BlobStore store = new BlobStore(dir);
    byte[] manifest = "{\"schemaVersion\":2}".getBytes(StandardCharsets.UTF_8);
    Digest d = Digest.sha256(manifest);
    store.put(d, manifest);
    store.put(d, manifest);
    assertArrayEquals(manifest, store.read(d));
    assertEquals(1, store.storedBlobs().longValue());
    assertEquals(manifest.length, store.storedBytes().longValue());
  }

  @Test
  void touchReportsPresenceAndRefreshesTheTime() throws IOException {
    BlobStore store = new BlobStore(dir);
    byte[] content = random(100, 4);
    Digest d = Digest.sha256(content);
    assertFalse(store.touch(d), "missing blob");
    assertFalse(Files.exists(store.path(d)), "touch never creates");
    store.put(d, content);
    age(store.path(d), 7_200_000);
    long old = Files.getLastModifiedTime(store.path(d)).toMillis();
    assertTrue(store.touch(d));
    assertTrue(Files.getLastModifiedTime(store.path(d)).toMillis() >= old + 7_000_000);
  }

  @Test
  void aCommittedBlobIsYoungHoweverOldItsUploadFileIs() throws IOException {
    BlobStore store = new BlobStore(dir);
    byte[] content = random(3000, 7);
    Digest d = Digest.sha256(content);
    Path upload = temp(content);
    age(upload, 2 * 3600_000L); // an upload whose last chunk came two hours ago
    store.commit(upload, d);
    long graceCutoff = System.currentTimeMillis() - 3600_000L;
    assertEquals(-1, store.deleteIfUnusedSince(d, graceCutoff), "a blob committed just now is within any grace delay");
    assertTrue(Files.exists(store.path(d)));
  }

  @Test
  void deleteIfUnusedSinceHonoursTheCutoff() throws IOException {
    BlobStore store = new BlobStore(dir);
    byte[] a = random(1000, 5);
    byte[] b = random(2000, 6);
    Digest da = Digest.sha256(a);
    Digest db = Digest.sha256(b);
    store.put(da, a);
    store.put(db, b);
    age(store.path(da), 3_600_000);
    long cutoff = System.currentTimeMillis() - 60_000;
    // b was modified after the cutoff: kept.
    assertEquals(-1, store.deleteIfUnusedSince(db, cutoff));
    assertTrue(Files.exists(store.path(db)));
    // a is older than the cutoff: deleted, its size returned and the counters updated.
    assertEquals(a.length, store.deleteIfUnusedSince(da, cutoff));
    assertFalse(Files.exists(store.path(da)));
    assertEquals(-1, store.size(da));
    assertEquals(b.length, store.storedBytes().longValue());
    assertEquals(1, store.storedBlobs().longValue());
    // Already gone: -1, counters unchanged.
    assertEquals(-1, store.deleteIfUnusedSince(da, cutoff));
    assertEquals(1, store.storedBlobs().longValue());
    // A touch after the GC chose its candidates protects the blob.
    age(store.path(db), 3_600_000);
    assertTrue(store.touch(db));
    assertEquals(-1, store.deleteIfUnusedSince(db, cutoff));
    assertTrue(Files.exists(store.path(db)));
  }

  @Test
  void loadCountsWhatIsOnDiskAndForEachSkipsNonBlobs() throws IOException {
    BlobStore first = new BlobStore(dir);
    Map<Digest, Integer> sizes = new HashMap<>();
    for (int i = 0; i < 5; i++) {
      byte[] c = random(100 + i * 37, 10 + i);
      Digest d = Digest.sha256(c);
      first.commit(temp(c), d);
      sizes.put(d, c.length);
    }
    byte[] big = random(300, 99);
    Digest d512 = Digest.of(DigestAlgorithm.SHA512, big);
    first.commit(temp(big), d512);
    sizes.put(d512, big.length);
    // Leftovers that are not blobs: a crashed atomic write and a stray file.
    Path prefix = first.path(sizes.keySet().iterator().next()).getParent();
    Path crashed = prefix.resolve("._tmp-" + java.util.UUID.randomUUID());
    Files.writeString(crashed, "partial");
    Files.writeString(prefix.resolve("README"), "not a blob");

    // a write in progress since the node started keeps its temp file
    Path inProgress = prefix.resolve("._tmp-" + java.util.UUID.randomUUID());
    Files.writeString(inProgress, "being written");
    long started = System.currentTimeMillis() + 1;
    Files.setLastModifiedTime(inProgress, java.nio.file.attribute.FileTime.fromMillis(started + 1000));
    Files.setLastModifiedTime(crashed, java.nio.file.attribute.FileTime.fromMillis(started - 60_000));

    BlobStore second = new BlobStore(dir);
    assertTrue(Double.isNaN(second.storedBlobs().doubleValue()), "unknown until counted");
    assertEquals(1, second.startupWalk(started));
    assertTrue(Files.exists(inProgress), "a temp file younger than the start is a write in progress");
    assertEquals(sizes.size(), second.storedBlobs().longValue());
    assertEquals(sizes.values().stream().mapToLong(Integer::longValue).sum(), second.storedBytes().longValue());
    Map<Digest, Long> seen = new HashMap<>();
    second.forEach(b -> seen.put(b.digest(), b.size()));
    assertEquals(sizes.size(), seen.size());
    sizes.forEach((d, s) -> assertEquals((long) s, seen.get(d), d.toString()));
    assertEquals(dir.resolve("blobs").resolve("sha512"), second.path(d512).getParent().getParent());
    assertFalse(Files.exists(crashed), "temp files a crash left are removed");
  }

  @Test
  void everyStoredFileHashesToItsName() throws IOException {
    BlobStore store = new BlobStore(dir);
    for (int i = 0; i < 20; i++) {
      byte[] c = random(i * 511, 200 + i);
      store.commit(temp(c), Digest.sha256(c));
    }
    try (Stream<Path> s = Files.walk(dir.resolve("blobs"))) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        assertEquals(p.getFileName().toString(), Digest.sha256(Files.readAllBytes(p)).hex());
      }
    }
    assertEquals(20, store.storedBlobs().longValue());
  }
}
