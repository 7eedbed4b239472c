package io.flotilla.events;

import io.flotilla.config.WebhookConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClientOptions;
import java.nio.file.Path;
import java.util.List;

/** Runs this node's webhook delivery ({@link Webhooks}) on its own context. Thin. */
public final class EventsVerticle extends VerticleBase {
  private final EventJournal journal;
  private final Path dir;
  private final List<WebhookConfig> fromFile;
  private volatile Webhooks webhooks;

  public EventsVerticle(EventJournal journal, Path dir, List<WebhookConfig> fromFile) {
    this.journal = journal;
    this.dir = dir;
    this.fromFile = fromFile;
  }

  /** The running service (after start). */
  public Webhooks webhooks() {
    return webhooks;
  }

  @Override
  public Future<?> start() {
    webhooks = new Webhooks(vertx, journal, () -> vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)),
        dir, fromFile);
    return webhooks.start();
  }

  @Override
  public Future<?> stop() {
    webhooks.stop();
    return Future.succeededFuture();
  }
}
