package io.flotilla.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.DigestAlgorithm;
import io.flotilla.oci.OciError;
import io.flotilla.oci.OciException;
import io.flotilla.oci.RepositoryName;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UploadStoreTest {
  private static final RepositoryName REPO = RepositoryName.of("team/app");
  private static final Executor DIRECT = Runnable::run;

  @TempDir
  Path dir;

  private UploadStore load() throws IOException {
    UploadStore s = new UploadStore(dir, DIRECT);
    s.load();
    return s;
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static List<String> folders(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** What BlobUploads does on the session's two lanes, run here on one thread. */
  private static void append(UploadSession s, byte[] bytes) throws IOException {
    s.prepareFile();
    s.prepareHash(s.offset());
    s.write(ByteBuffer.wrap(bytes));
    s.hash(ByteBuffer.wrap(bytes));
    s.acknowledge(true);
  }

  @Test
  void persistentSessionsSurviveAndOthersAreDropped() throws IOException {
    UploadStore first = load();
    UploadSession kept = first.create(REPO, true);
    UploadSession monolithic = first.create(REPO, false);
    Path uploads = dir.resolve("uploads");
    assertTrue(Files.isRegularFile(uploads.resolve(kept.id()).resolve("state.json")));
    assertFalse(Files.exists(uploads.resolve(monolithic.id()).resolve("state.json")));
    // Crash leftovers: a folder without a state file, one with a corrupt state file, one whose
    // data is shorter than its acknowledged offset, plus a stray plain file.
    Path noState = Files.createDirectories(uploads.resolve("no-state"));
    Files.write(noState.resolve("data"), new byte[100]);
    Path corrupt = Files.createDirectories(uploads.resolve("corrupt"));
    Files.writeString(corrupt.resolve("state.json"), "{\"repository\":\"team/app\",\"off");
    Path shortData = Files.createDirectories(uploads.resolve("short"));
    Files.writeString(shortData.resolve("state.json"), "{\"repository\":\"team/app\",\"offset\":500,\"created\":1}");
    Files.write(shortData.resolve("data"), new byte[10]);
    Path badRepo = Files.createDirectories(uploads.resolve("bad-repo"));
    Files.writeString(badRepo.resolve("state.json"), "{\"repository\":\"../../etc\",\"offset\":0,\"created\":1}");

    UploadStore second = load();
    assertEquals(List.of(kept.id()), second.all().stream().map(UploadSession::id).toList());
    assertEquals(List.of(kept.id()), folders(uploads), "leftover folders removed at load");
    UploadSession again = second.get(REPO, kept.id());
    assertEquals(0, again.offset());
    assertEquals(kept.createdMillis(), again.createdMillis());
  }

  @Test
  void getRejectsUnknownIdsAndOtherRepositories() throws IOException {
    UploadStore store = load();
    UploadSession s = store.create(REPO, true);
    OciException unknown = assertThrows(OciException.class, () -> store.get(REPO, "nope"));
    assertEquals(OciError.BLOB_UPLOAD_UNKNOWN, unknown.error());
    OciException otherRepo = assertThrows(OciException.class, () -> store.get(RepositoryName.of("other"), s.id()));
    assertEquals(OciError.BLOB_UPLOAD_UNKNOWN, otherRepo.error());
    assertEquals(OciError.BLOB_UPLOAD_UNKNOWN, assertThrows(OciException.class, () -> store.get(REPO, null)).error());
    store.remove(s);
    assertFalse(Files.exists(dir.resolve("uploads").resolve(s.id())));
    assertEquals(OciError.BLOB_UPLOAD_UNKNOWN, assertThrows(OciException.class, () -> store.get(REPO, s.id())).error());
  }

  @Test
  void acknowledgedBytesAndHashSurviveARestart() throws Exception {
    UploadStore first = load();
    UploadSession s = first.create(REPO, true);
    byte[] a = random(70_000, 1);
    byte[] b = random(33_333, 2);
    append(s, a);
    append(s, b);
    assertEquals(a.length + b.length, s.offset());
    // A third chunk is written but never acknowledged: the process dies mid-request.
    s.prepareFile();
    s.write(ByteBuffer.wrap(random(12_345, 3)));
    s.close();
    long onDisk = Files.size(dir.resolve("uploads").resolve(s.id()).resolve("data"));
    assertTrue(onDisk > s.offset(), "unacknowledged bytes reached the file");

    UploadStore second = load();
    UploadSession r = second.get(REPO, s.id());
    assertEquals(a.length + b.length, r.offset(), "the acknowledged offset is what was persisted");
    byte[] ab = concat(a, b);
    assertEquals(HexFormat.of().formatHex(DigestAlgorithm.SHA256.newHasher().digest(ab)),
        HexFormat.of().formatHex(r.sha256Snapshot().digest()), "hash rebuilt over acknowledged bytes only");
    assertEquals(Digest.of(DigestAlgorithm.SHA512, ab).hex(),
        HexFormat.of().formatHex(r.rehash(DigestAlgorithm.SHA512, r.offset()).digest()));
    byte[] c = random(4_096, 4);
    append(r, c);
    r.close();
    byte[] all = concat(ab, c);
    assertArrayEquals(all, Files.readAllBytes(dir.resolve("uploads").resolve(s.id()).resolve("data")),
        "the unacknowledged tail was cut before the resumed chunk");
    assertEquals(all.length, load().get(REPO, s.id()).offset());
  }

  @Test
  void rollbackForgetsTheUnacknowledgedTail() throws Exception {
    UploadStore store = load();
    UploadSession s = store.create(REPO, true);
    byte[] a = random(1000, 5);
    append(s, a);
    byte[] dropped = random(500, 6);
    s.prepareFile();
    s.write(ByteBuffer.wrap(dropped));
    s.hash(ByteBuffer.wrap(dropped));
    s.rollbackFile();
    s.resetHash();
    byte[] b = random(700, 7);
    append(s, b);
    s.close();
    byte[] ab = concat(a, b);
    assertArrayEquals(ab, Files.readAllBytes(dir.resolve("uploads").resolve(s.id()).resolve("data")));
    assertEquals(ab.length, s.offset());
    assertEquals(Digest.sha256(ab).hex(), HexFormat.of().formatHex(s.sha256Snapshot().digest()));
    s.close();
  }

  @Test
  void stateFileIsUpdatedAtomicallyWithTheOffset() throws Exception {
    UploadStore store = load();
    UploadSession s = store.create(REPO, true);
    append(s, random(10, 8));
    s.close();
    Path state = dir.resolve("uploads").resolve(s.id()).resolve("state.json");
    String json = Files.readString(state);
    assertTrue(json.contains("\"offset\":10"), json);
    try (Stream<Path> files = Files.list(state.getParent())) {
      assertEquals(List.of("data", "state.json"), files.map(p -> p.getFileName().toString()).sorted().toList());
    }
    // Appending junk to the data file (as a crash mid-write leaves it) does not change what loads.
    Files.write(dir.resolve("uploads").resolve(s.id()).resolve("data"), new byte[99], StandardOpenOption.APPEND);
    assertEquals(10, load().get(REPO, s.id()).offset());
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** The hash lane may start only after the write lane acknowledged the whole body (a busy pool). */
  @Test
  void hashLaneLaggingBehindTheWriteLaneStillHashesEachByteOnce() throws Exception {
    UploadStore store = load();
    UploadSession s = store.create(REPO, true);
    byte[] body = random(90_000, 11);
    long before = s.offset();
    s.prepareFile();
    s.write(ByteBuffer.wrap(body));
    s.acknowledge(true);
    s.prepareHash(before);
    s.hash(ByteBuffer.wrap(body));
    assertEquals(Digest.sha256(body).hex(), HexFormat.of().formatHex(s.sha256Snapshot().digest()));
    s.close();
  }

  @Test
  void removeDeletesTheSessionFolderWhateverItHolds() throws IOException {
    UploadStore store = load();
    UploadSession plain = store.create(REPO, true);
    append(plain, random(1000, 7));
    UploadSession cluttered = store.create(REPO, true);
    append(cluttered, random(10, 8));
    Files.writeString(cluttered.dir().resolve("stray"), "left by hand");
    Files.createDirectories(cluttered.dir().resolve("sub")).resolve("deeper");
    store.remove(plain);
    store.remove(cluttered);
    store.remove(plain); // twice is harmless
    assertFalse(Files.exists(plain.dir()));
    assertFalse(Files.exists(cluttered.dir()));
    assertTrue(store.all().isEmpty());
  }
}
