package io.flotilla.events;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Per-endpoint webhook figures on {@code /metrics}, tagged {@code endpoint}: pending events,
 * delivered, failed attempts, dead-lettered, last HTTP status and last latency (this node's
 * deliveries). Refreshed every few seconds from the endpoints' statuses, so endpoints added or
 * removed at runtime appear and disappear.
 */
public final class WebhookMetrics {
  private final List<Row> rows;

  private record Row(MultiGauge gauge, ToDoubleFunction<WebhookDispatcher.Status> value) {}

  private WebhookMetrics(MeterRegistry registry) {
    rows = List.of(
        row(registry, "flotilla_webhook_pending_events", "events not yet delivered", s -> s.pending()),
        row(registry, "flotilla_webhook_delivered_events", "events delivered since start", s -> s.delivered()),
        row(registry, "flotilla_webhook_failed_attempts", "failed delivery attempts since start", s -> s.failed()),
        row(registry, "flotilla_webhook_dead_lettered_events", "events on the dead-letter list", s -> s.deadLettered()),
        row(registry, "flotilla_webhook_last_status", "HTTP status of the last attempt (0: no response)",
            s -> s.lastStatus()),
        row(registry, "flotilla_webhook_last_latency_milliseconds", "duration of the last attempt",
            s -> s.lastLatencyMillis()));
  }

  private static Row row(MeterRegistry registry, String name, String help, ToDoubleFunction<WebhookDispatcher.Status> f) {
    return new Row(MultiGauge.builder(name).description(help).register(registry), f);
  }

  /** Starts refreshing the figures of {@code webhooks} every {@code periodMillis}. */
  public static WebhookMetrics start(Vertx vertx, MeterRegistry registry, Webhooks webhooks, long periodMillis) {
    WebhookMetrics m = new WebhookMetrics(registry);
    vertx.setPeriodic(0, periodMillis, t -> webhooks.list().onSuccess(m::refresh));
    return m;
  }

  private void refresh(List<WebhookDispatcher.Status> statuses) {
    for (Row row : rows) {
      row.gauge().register(statuses.stream()
          .map(s -> MultiGauge.Row.of(Tags.of("endpoint", s.name()), row.value().applyAsDouble(s)))
          .toList(), true);
    }
  }
}
