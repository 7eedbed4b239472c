package io.flotilla.storage;

import io.flotilla.config.StorageConfig;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.StorageTypes.BlobInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.file.OpenOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * One node's storage over a temp folder, in process, without HTTP or a cluster: the stores, the
 * upload byte path, the registry API and the replica view over them, on a private Vert.x.
 * Test-thread helpers block until their future completes (or fail after a minute).
 */
final class StorageFixture implements AutoCloseable {
  static final RequestContext CTX = RequestContext.internal("test");

  final Path dir;
  final Vertx vertx = Vertx.vertx();
  final ExecutorService pool = Executors.newFixedThreadPool(2);
  final StorageConfig config;
  final MetadataStore metadata;
  final BlobStore blobs;
  final UploadStore uploads;
  final BlobUploads bytes;
  final LocalRegistry registry;
  final ReplicaStore replicas;

  StorageFixture(Path dir, Duration gcGrace) {
    this.dir = dir;
    this.config = new StorageConfig(dir, true, 4 * 1024 * 1024, 10_000, Duration.ofHours(24), Duration.ZERO, gcGrace);
    this.metadata = new MetadataStore(dir);
    this.blobs = new BlobStore(dir);
    this.uploads = new UploadStore(dir, pool);
    try {
      metadata.load();
      uploads.load();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.bytes = new BlobUploads(vertx, uploads, blobs, metadata);
    this.registry = new LocalRegistry(vertx, config, metadata, blobs, uploads, EventSink.NONE);
    this.replicas = new ReplicaStore(vertx, metadata, blobs, config.deleteEnabled(), config.gcGrace().toMillis());
  }

  static <T> T await(Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs {@code work} on a Vert.x context (as the HTTP layer calls storage) and waits for its result. */
  <T> T onVertx(java.util.function.Supplier<Future<T>> work) {
    io.vertx.core.Promise<T> p = io.vertx.core.Promise.promise();
    vertx.runOnContext(v -> work.get().onComplete(p));
    return await(p.future());
  }

  /** Opens an upload session in {@code repo} and PATCHes {@code content} into it; returns the session. */
  UploadSession startChunked(RepositoryName repo, byte[] content) throws IOException {
    UploadSession s = uploads.create(repo, true);
    Path body = Files.createTempFile(dir, "body", "");
    Files.write(body, content);
    onVertx(() -> vertx.fileSystem().open(body.toString(), new OpenOptions().setRead(true))
        .compose(file -> bytes.append(repo, s.id(), file, 0, content.length)));
    return s;
  }

  /** Finishes a session with no last chunk (PUT ?digest= with an empty body). */
  BlobInfo finish(RepositoryName repo, UploadSession s, Digest digest) {
    return onVertx(() -> bytes.finish(repo, s.id(), digest, null, -1, -1, info -> io.vertx.core.Future.succeededFuture()));
  }

  /** Uploads a whole blob into a repository through a session. */
  Digest push(RepositoryName repo, byte[] content) throws IOException {
    Digest d = Digest.sha256(content);
    finish(repo, startChunked(repo, content), d);
    return d;
  }

  @Override
  public void close() {
    await(vertx.close());
    pool.shutdownNow();
    metadata.close();
  }
}
