package io.flotilla.crash;

import static io.flotilla.crash.CrashChecks.assertHeader;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.oci.Digest;
import io.flotilla.oci.MediaTypes;
import io.flotilla.storage.MetadataChecks;
import io.flotilla.testing.Images;
import io.flotilla.testing.NodeProcess;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a node in the middle of many concurrent pushes, repeated ten times: after each
 * kill the metadata database, as the next start opens it, is consistent key by key (nothing
 * half-visible: {@link MetadataChecks}); after each restart everything the registry acknowledged is
 * intact, nothing on disk is torn or dangling, and upload sessions resume from their acknowledged
 * offsets.
 */
class KillDuringPushIT {
  private static final int CYCLES = 10;
  private static final int WORKERS = 10;
  private static final int MIB = 1024 * 1024;
  /** Sessions resumed (finished) per restart; the others are only checked and carried over. */
  private static final int RESUMES_PER_CYCLE = 10;
  private static final byte[] BASE_LAYER = CrashChecks.content(256 * 1024, 4242);

  @TempDir
  Path tmp;

  /** A blob we can regenerate: {@code CrashChecks.content(size, seed)}. */
  record BlobRef(Digest digest, int size, long seed) {
    byte[] bytes() {
      return seed == -1 ? BASE_LAYER : CrashChecks.content(size, seed);
    }
  }

  /** An image whose manifest PUT was answered 201. */
  record AckedImage(int cycle, String repo, String tag, Digest digest, byte[] manifest, List<BlobRef> blobs) {}

  /** An upload session the client was told about (POST answered 202). Written by one worker. */
  static final class Session {
    final String repo;
    final String location;
    final int size;
    final long seed;
    final String kind;
    volatile long acked;
    volatile long inflight = -1;
    volatile boolean putInFlight;
    volatile boolean done;

    Session(String repo, String location, int size, long seed, String kind) {
      this.repo = repo;
      this.location = location;
      this.size = size;
      this.seed = seed;
      this.kind = kind;
    }

    @Override
    public String toString() {
      return kind + " " + location + " size=" + size + " acked=" + acked + " inflight=" + inflight + " put=" + putInFlight;
    }
  }

  private final List<AckedImage> acked = Collections.synchronizedList(new ArrayList<>());
  private final List<Session> sessions = Collections.synchronizedList(new ArrayList<>());
  private final List<String> workerErrors = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger ackedThisCycle = new AtomicInteger();

  // ------------------------------------------------------------------ the client side of a push

  /** A worker's view of the node; every request failure is an IOException (the node died). */
  private static final class Client {
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(3)).build();
    final String base;

    Client(String base) {
      this.base = base;
    }

    HttpResponse<byte[]> send(String method, String path, HttpRequest.BodyPublisher body, Map<String, String> headers)
        throws IOException, InterruptedException {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : body);
      headers.forEach(b::header);
      return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<byte[]> send(String method, String path, byte[] body, Map<String, String> headers)
        throws IOException, InterruptedException {
      return send(method, path, body == null ? null : HttpRequest.BodyPublishers.ofByteArray(body), headers);
    }
  }

  /** A request answered with something else than expected while the node was alive. */
  private static final class Unexpected extends RuntimeException {
    Unexpected(HttpResponse<byte[]> r, int expected) {
      super("expected " + expected + " but got " + r.statusCode() + " for " + r.request().method() + " "
          + r.request().uri() + ": " + OciClient.text(r));
    }
  }

  private static HttpResponse<byte[]> expect(HttpResponse<byte[]> r, int status) {
    if (r.statusCode() != status) {
      throw new Unexpected(r, status);
    }
    return r;
  }

  private static long rangeEnd(HttpResponse<byte[]> r) {
    String range = r.headers().firstValue("Range").orElseThrow(() -> new AssertionError("no Range on " + r));
    return Long.parseLong(range.substring(range.indexOf('-') + 1)) + 1;
  }

  private Session open(Client c, String repo, int size, long seed, String kind) throws IOException, InterruptedException {
    HttpResponse<byte[]> post = expect(c.send("POST", "/v2/" + repo + "/blobs/uploads/", (byte[]) null, Map.of()), 202);
    Session s = new Session(repo, post.headers().firstValue("Location").orElseThrow(), size, seed, kind);
    sessions.add(s);
    return s;
  }

  /** PATCH bytes [from, to) of the session's content; chunked transfer when {@code streamed}. */
  private static void patch(Client c, Session s, byte[] content, int from, int to, boolean streamed)
      throws IOException, InterruptedException {
    byte[] chunk = Arrays.copyOfRange(content, from, to);
    s.inflight = chunk.length;
    HttpResponse<byte[]> r;
    if (streamed) {
      r = c.send("PATCH", s.location, HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(chunk)),
          Map.of("Content-Type", "application/octet-stream"));
    } else {
      r = c.send("PATCH", s.location, chunk, Map.of("Content-Type", "application/octet-stream",
          "Content-Range", from + "-" + (to - 1)));
    }
    expect(r, 202);
    if (rangeEnd(r) != to) {
      throw new AssertionError("PATCH acknowledged up to " + rangeEnd(r) + ", expected " + to + ": " + s);
    }
    s.acked = to;
    s.inflight = -1;
  }

  /** PUT ?digest, optionally with the last bytes [from, size) as its body. */
  private static Digest finish(Client c, Session s, byte[] content, int from) throws IOException, InterruptedException {
    Digest d = Digest.sha256(content);
    s.putInFlight = true;
    HttpResponse<byte[]> r;
    if (from < content.length) {
      s.inflight = content.length - from;
      r = c.send("PUT", s.location + "?digest=" + d, Arrays.copyOfRange(content, from, content.length),
          Map.of("Content-Type", "application/octet-stream", "Content-Range", from + "-" + (content.length - 1)));
    } else {
      r = c.send("PUT", s.location + "?digest=" + d, (byte[]) null, Map.of());
    }
    expect(r, 201);
    s.done = true;
    return d;
  }

  private static BlobRef monolithic(Client c, String repo, byte[] content, long seed) throws IOException, InterruptedException {
    Digest d = Digest.sha256(content);
    HttpResponse<byte[]> r = expect(c.send("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + d, content,
        Map.of("Content-Type", "application/octet-stream")), 201);
    assertHeader(r, "Docker-Content-Digest", d.toString());
    return new BlobRef(d, content.length, seed);
  }

  private AckedImage putImage(Client c, int cycle, String repo, String tag, long seed, List<BlobRef> layers)
      throws IOException, InterruptedException {
    byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":" + seed + "}").getBytes(StandardCharsets.UTF_8);
    Digest configDigest = Digest.sha256(config);
    expect(c.send("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + configDigest, config, Map.of()), 201);
    StringBuilder ls = new StringBuilder();
    for (BlobRef l : layers) {
      if (ls.length() > 0) {
        ls.append(',');
      }
      ls.append(Images.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", l.digest(), l.size()));
    }
    byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":"
        + Images.descriptor("application/vnd.oci.image.config.v1+json", configDigest, config.length)
        + ",\"layers\":[" + ls + "]}").getBytes(StandardCharsets.UTF_8);
    HttpResponse<byte[]> r = expect(c.send("PUT", "/v2/" + repo + "/manifests/" + tag, manifest,
        Map.of("Content-Type", MediaTypes.OCI_MANIFEST)), 201);
    Digest d = Digest.sha256(manifest);
    assertHeader(r, "Docker-Content-Digest", d.toString());
    List<BlobRef> blobs = new ArrayList<>();
    blobs.add(new BlobRef(configDigest, config.length, Long.MIN_VALUE));
    blobs.addAll(layers);
    AckedImage img = new AckedImage(cycle, repo, tag, d, manifest, blobs);
    acked.add(img);
    ackedThisCycle.incrementAndGet();
    return img;
  }

  /** One worker's pushes until the node dies. The kind of traffic depends on the worker index. */
  private void work(String base, int cycle, int worker) {
    Client c = new Client(base);
    Random rnd = new Random(cycle * 1000L + worker);
    String repo = "crash/w" + worker;
    int parked = 0;
    try {
      for (int n = 0; ; n++) {
        long seed = cycle * 1_000_000L + worker * 10_000L + n;
        String tag = "c" + cycle + "-" + n;
        switch (worker) {
          case 0, 1, 2 -> {
            // One streamed PATCH of up to 1.5 MiB (chunked transfer), PUT without body, manifest.
            int size = MIB / 2 + rnd.nextInt(MIB);
            byte[] content = CrashChecks.content(size, seed);
            Session s = open(c, repo, size, seed, "streamed");
            patch(c, s, content, 0, size, true);
            Digest d = finish(c, s, content, size);
            putImage(c, cycle, repo, tag, seed, List.of(new BlobRef(d, size, seed)));
          }
          case 3, 4, 5 -> {
            // Several Content-Range PATCHes, the last chunk in the PUT, plus a layer every image shares.
            int size = 3 * MIB / 4 + rnd.nextInt(MIB / 4);
            byte[] content = CrashChecks.content(size, seed);
            Session s = open(c, repo, size, seed, "chunked");
            int chunk = 192 * 1024;
            int off = 0;
            while (size - off > chunk) {
              patch(c, s, content, off, off + chunk, false);
              off += chunk;
            }
            Digest d = finish(c, s, content, off);
            BlobRef shared = monolithic(c, repo, BASE_LAYER, -1);
            putImage(c, cycle, repo, tag, seed, List.of(shared, new BlobRef(d, size, seed)));
          }
          case 6 -> {
            // Parks sessions with an acknowledged offset, then pushes small images.
            if (parked < 24) {
              int size = MIB / 2 + rnd.nextInt(MIB / 2);
              byte[] content = CrashChecks.content(size, seed);
              Session s = open(c, repo, size, seed, "parked");
              patch(c, s, content, 0, 64 * 1024 + rnd.nextInt(192 * 1024), rnd.nextBoolean());
              parked++;
            } else {
              byte[] small = CrashChecks.content(4096 + rnd.nextInt(4096), seed);
              putImage(c, cycle, repo, tag, seed, List.of(monolithic(c, repo, small, seed)));
            }
          }
          case 8, 9 -> {
            // Small images as fast as they go: many metadata commits in flight at the kill.
            byte[] small = CrashChecks.content(1024 + rnd.nextInt(4096), seed);
            putImage(c, cycle, repo, tag, seed, List.of(monolithic(c, repo, small, seed)));
          }
          default -> {
            // Monolithic layers, and layers mounted from other repositories.
            int size = MIB / 4 + rnd.nextInt(MIB / 2);
            List<BlobRef> layers = new ArrayList<>();
            layers.add(monolithic(c, repo, CrashChecks.content(size, seed), seed));
            AckedImage other = null;
            synchronized (acked) {
              if (!acked.isEmpty()) {
                other = acked.get(rnd.nextInt(acked.size()));
              }
            }
            if (other != null && other.cycle() >= 0 && !other.repo().equals(repo)) {
              BlobRef l = other.blobs().get(other.blobs().size() - 1);
              HttpResponse<byte[]> m = c.send("POST", "/v2/" + repo + "/blobs/uploads/?mount=" + l.digest() + "&from="
                  + other.repo(), (byte[]) null, Map.of());
              if (m.statusCode() == 201) {
                if (!layers.get(0).digest().equals(l.digest())) {
                  layers.add(l);
                }
              } else {
                expect(m, 202);
                expect(c.send("DELETE", m.headers().firstValue("Location").orElseThrow(), (byte[]) null, Map.of()), 204);
              }
            }
            putImage(c, cycle, repo, tag, seed, layers);
          }
        }
      }
    } catch (IOException e) {
      // The node is gone: this is how every worker ends.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      workerErrors.add("worker " + worker + " cycle " + cycle + ": " + e);
    }
  }

  // ------------------------------------------------------------------ the test

  private final long testStart = System.nanoTime();
  /** Blob files already hashed by an earlier check (content-addressed files never change). */
  private final java.util.Set<Path> hashed = new java.util.HashSet<>();
  /** Manifest records the database checks after the kills looked at (summed over the cycles). */
  private long halfVisibleChecked;

  private static long elapsedMs(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }

  private NodeProcess start(Path data) throws Exception {
    NodeProcess n = NodeProcess.start(data, TestNode.freePort(), TestNode.freePort(), Map.of());
    System.out.printf("[%d ms] node started%n", elapsedMs(testStart));
    return n;
  }

  @Test
  void acknowledgedPushesSurviveRepeatedKill9() throws Exception {
    Path data = tmp.resolve("data");
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    System.out.println("KillDuringPushIT random seed " + seed);
    NodeProcess node = start(data);
    try {
      OciClient c = new OciClient(node.url());
      for (int i = 0; i < 3; i++) {
        Images.Pushed p = Images.push(c, "crash/base", "v" + i, 2, 900 + i);
        List<BlobRef> blobs = new ArrayList<>();
        blobs.add(new BlobRef(p.config(), -1, Long.MIN_VALUE));
        p.layers().forEach(d -> blobs.add(new BlobRef(d, -1, Long.MIN_VALUE)));
        acked.add(new AckedImage(-1, "crash/base", "v" + i, p.manifest(), p.body(), blobs));
      }
      for (int cycle = 0; cycle < CYCLES; cycle++) {
        int ackedBefore = acked.size();
        int sessionsBefore = sessions.size();
        List<Thread> workers = new ArrayList<>();
        String base = node.url();
        for (int w = 0; w < WORKERS; w++) {
          int worker = w;
          int k = cycle;
          Thread t = new Thread(() -> work(base, k, worker), "push-" + cycle + "-" + w);
          t.setDaemon(true);
          workers.add(t);
          t.start();
        }
        // Kill at a random moment 300-800 ms into the storm, but not before it acknowledged a few
        // images (a freshly started JVM is slow at first), and in any case after 10 s.
        ackedThisCycle.set(0);
        long stormStart = System.nanoTime();
        long minDelay = 300 + rnd.nextInt(501);
        int minAcks = 2 + rnd.nextInt(4);
        while (elapsedMs(stormStart) < 10_000 && (elapsedMs(stormStart) < minDelay || ackedThisCycle.get() < minAcks)) {
          Thread.sleep(5);
        }
        long delay = elapsedMs(stormStart);
        node.kill9();
        for (Thread t : workers) {
          t.join(30_000);
          assertTrue(!t.isAlive(), t.getName() + " did not stop after the kill");
        }
        assertEquals(List.of(), workerErrors, "requests that failed while the node was alive");
        long inflight;
        synchronized (sessions) {
          inflight = sessions.stream().filter(s -> !s.done && (s.inflight >= 0 || s.putInFlight)).count();
        }
        System.out.printf("[%d ms] cycle %d: killed after %d ms; %d images acknowledged, %d sessions opened, %d with a"
            + " request in flight%n", elapsedMs(testStart), cycle, delay, acked.size() - ackedBefore, sessions.size() - sessionsBefore, inflight);
        // What the next start will see (opening replays the write-ahead log), before the node runs again.
        MetadataChecks.Report db = MetadataChecks.verify(data);
        assertEquals(List.of(), db.problems(), "half-visible or inconsistent metadata after kill -9 in cycle " + cycle);
        halfVisibleChecked += db.manifests();

        node = start(data);
        verify(node, data, cycle, rnd, cycle < CYCLES - 1 ? RESUMES_PER_CYCLE : 2 * RESUMES_PER_CYCLE);
      }
      assertTrue(acked.size() > 3, "the storms acknowledged some images");
      System.out.printf("[%d ms] %d kill -9 cycles: %d images acknowledged, 0 lost; %d manifest records checked after"
          + " the kills, 0 half-visible%n", elapsedMs(testStart), CYCLES, acked.size(), halfVisibleChecked);
    } finally {
      node.close();
    }
  }

  private void verify(NodeProcess node, Path data, int cycle, Random rnd, int resumes) throws Exception {
    OciClient c = new OciClient(node.url());
    CrashChecks.BlobWalk walk = CrashChecks.verifyBlobFiles(data, hashed);
    assertEquals(List.of(), walk.tempFiles(), "temp files in blobs/ survived the restart");
    CrashChecks.verifyUploadFolders(data);

    // Every acknowledged image, byte for byte.
    List<AckedImage> images;
    synchronized (acked) {
      images = List.copyOf(acked);
    }
    for (AckedImage img : images) {
      HttpResponse<byte[]> m = c.get("/v2/" + img.repo() + "/manifests/" + img.tag(), Map.of("Accept", CrashChecks.ACCEPT));
      OciClient.expect(m, 200);
      assertArrayEquals(img.manifest(), m.body(), "manifest of acknowledged " + img.repo() + ":" + img.tag());
      OciClient.expect(c.send("HEAD", "/v2/" + img.repo() + "/manifests/" + img.digest(), null,
          Map.of("Accept", CrashChecks.ACCEPT)), 200);
      for (BlobRef b : img.blobs()) {
        boolean full = img.cycle() == cycle || img.cycle() < 0 || b.size() < 64 * 1024;
        if (full) {
          HttpResponse<byte[]> r = c.get("/v2/" + img.repo() + "/blobs/" + b.digest());
          OciClient.expect(r, 200);
          assertEquals(b.digest(), Digest.sha256(r.body()), "content of " + b.digest() + " in " + img.repo());
          if (b.seed() != Long.MIN_VALUE) {
            assertArrayEquals(b.bytes(), r.body());
          }
        } else {
          HttpResponse<byte[]> r = c.send("HEAD", "/v2/" + img.repo() + "/blobs/" + b.digest(), null, Map.of());
          OciClient.expect(r, 200);
          assertHeader(r, "Content-Length", Integer.toString(b.size()));
        }
      }
    }
    int tags = CrashChecks.verifyCatalog(c);

    // Upload sessions: acknowledged offsets survived; a sample is resumed to completion.
    List<Session> open;
    synchronized (sessions) {
      open = new ArrayList<>(sessions.stream().filter(s -> !s.done).toList());
    }
    Collections.shuffle(open, rnd);
    int resumed = 0;
    int lost = 0;
    for (Session s : open) {
      HttpResponse<byte[]> st = c.get(s.location);
      if (s.putInFlight) {
        // Finishing may have committed the blob before the kill: gone or resumable are both fine
        // (resumable either before or after the PUT's own body was acknowledged).
        CrashChecks.assertStatus(st, 204, 404);
        if (st.statusCode() == 404) {
          s.done = true;
          lost++;
          continue;
        }
      } else {
        OciClient.expect(st, 204);
      }
      long offset = rangeEnd(st);
      if (s.acked == 0 && offset == 1) {
        offset = 0; // "0-0" is the range of an empty session too
      }
      boolean ok = offset == s.acked || (s.inflight > 0 && offset == s.acked + s.inflight);
      assertTrue(ok, "session resumes at " + offset + ": " + s);
      s.acked = offset;
      s.inflight = -1;
      s.putInFlight = false;
      if (resumed >= resumes) {
        continue;
      }
      byte[] content = CrashChecks.content(s.size, s.seed);
      if (offset < s.size) {
        HttpResponse<byte[]> p = c.send("PATCH", s.location, Arrays.copyOfRange(content, (int) offset, s.size),
            Map.of("Content-Type", "application/octet-stream", "Content-Range", offset + "-" + (s.size - 1)));
        OciClient.expect(p, 202);
        assertHeader(p, "Range", "0-" + (s.size - 1));
      }
      Digest d = Digest.sha256(content);
      OciClient.expect(c.send("PUT", s.location + "?digest=" + d, null, Map.of()), 201);
      HttpResponse<byte[]> head = c.send("HEAD", "/v2/" + s.repo + "/blobs/" + d, null, Map.of());
      OciClient.expect(head, 200);
      assertHeader(head, "Content-Length", Integer.toString(s.size));
      s.done = true;
      resumed++;
    }
    CrashChecks.verifyBlobFiles(data, hashed);
    System.out.printf("[%d ms] cycle %d verified: %d images, %d tags, %d blob files (%d bytes), %d sessions checked,"
        + " %d resumed, %d gone after an interrupted PUT%n", elapsedMs(testStart), cycle, images.size(), tags, walk.blobs(),
        walk.bytes(), open.size(), resumed, lost);
  }
}
