package io.flotilla.events;

import io.flotilla.config.KafkaConfig;
import io.flotilla.config.WebhookConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClientOptions;
import java.nio.file.Path;
import java.util.List;

/** Runs this node's event delivery (webhooks and, when configured, the Kafka sink) on its own context. Thin. */
public final class EventsVerticle extends VerticleBase {
  private final EventJournal journal;
  private final Path dir;
  private final List<WebhookConfig> fromFile;
  private final KafkaConfig kafka;
  private final WebhookTargets targets;
  private volatile Webhooks webhooks;
  private KafkaSink sink;

  /**
   * @param dir this node's events folder (webhook and Kafka positions, dead letters)
   * @param targets which hosts webhooks may be sent to
   */
  public EventsVerticle(EventJournal journal, Path dir, List<WebhookConfig> fromFile, KafkaConfig kafka,
      WebhookTargets targets) {
    this.journal = journal;
    this.targets = targets;
    this.dir = dir;
    this.fromFile = fromFile;
    this.kafka = kafka;
  }

  /** The running service (after start). */
  public Webhooks webhooks() {
    return webhooks;
  }

  @Override
  public Future<?> start() {
    webhooks = new Webhooks(vertx, journal, () -> vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)),
        dir.resolve("webhooks"), fromFile, targets);
    Future<Void> started = webhooks.start();
    if (!kafka.enabled()) {
      return started;
    }
    sink = new KafkaSink(vertx, journal, kafka, dir.resolve("kafka"));
    webhooks.addReader(sink::savedPosition);
    journal.onAppended(() -> context.runOnContext(v -> sink.poke()));
    return started.compose(v -> sink.start());
  }

  @Override
  public Future<?> stop() {
    Future<Void> hooks = webhooks.stop();
    return sink == null ? hooks : Future.join(hooks, sink.stop());
  }
}
