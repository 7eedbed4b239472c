package io.flotilla.content;

import io.flotilla.oci.RepositoryName;
import io.flotilla.storage.Fs;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pull-through sources of a running node: a repository whose settings name a remote with policy
 * {@code onDemand} is served from that remote ({@link ContentIndex#onDemand}, one map read). One
 * upstream client per remote revision is kept and shared by every request (its token cache with it);
 * a remote that changed gets a new client and the old one is closed.
 */
public final class RemoteSources implements PullThroughSources {
  private record Cached(Remote remote, PullThroughSource source) {}

  private final Vertx vertx;
  private final ContentIndex index;
  private final Path caDir;
  private final Map<String, Cached> clients = new ConcurrentHashMap<>();

  public RemoteSources(Vertx vertx, ContentIndex index, Path dataDir) {
    this.vertx = vertx;
    this.index = index;
    this.caDir = dataDir.resolve("_content").resolve("ca");
  }

  @Override
  public Optional<PullThroughSource> source(String repository) {
    Optional<Remote> remote = index.onDemand(repository);
    if (remote.isEmpty()) {
      return Optional.empty();
    }
    Remote r = remote.get();
    Cached c = clients.compute(r.name(), (name, old) -> {
      if (old != null && old.remote().equals(r)) {
        return old;
      }
      if (old != null) {
        old.source().upstream().close();
      }
      return new Cached(r, new PullThroughSource(new UpstreamRegistry(vertx, config(r)),
          RepositoryName.of(r.upstreamName()), r.filter()));
    });
    return Optional.of(c.source());
  }

  private UpstreamConfig config(Remote r) {
    if (r.caCertificate() == null) {
      return r.upstreamConfig();
    }
    // a copy of a replicated object, made once per remote revision: atomic, not synced (it is rebuilt if lost)
    Path pem = caDir.resolve(r.name() + ".pem");
    try {
      java.nio.file.Files.createDirectories(caDir);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Fs.writeAtomicNoSync(pem, r.caCertificate().getBytes(StandardCharsets.UTF_8));
    return r.upstreamConfig().withCaCertificate(pem);
  }
}
