package io.flotilla.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Registry figures on {@code /metrics}: requests by route, method and status, request latency by
 * route, bytes received and sent, and storage used. Meters are cached per label set so the hot
 * path does one map lookup. Thread-safe.
 */
public final class RegistryMetrics {
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> latency = new ConcurrentHashMap<>();
  private final Counter bytesIn;
  private final Counter bytesOut;

  public RegistryMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.bytesIn = Counter.builder("flotilla_http_received_bytes").description("request body bytes received")
        .register(registry);
    this.bytesOut = Counter.builder("flotilla_http_sent_bytes").description("response bytes sent").register(registry);
  }

  /**
   * Exposes a count kept elsewhere that only grows, read from {@code state} when scraped, as a
   * counter ({@code name} + {@code _total} on /metrics).
   */
  public <T> void counter(String name, String description, T state, java.util.function.ToDoubleFunction<T> value) {
    // the registry holds {@code state} weakly: pass an object that lives as long as the node
    io.micrometer.core.instrument.FunctionCounter.builder(name, state, value).description(description).register(registry);
  }

  /** Exposes a gauge, e.g. storage used, read when scraped. */
  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }

  public void record(String route, String method, int status, long received, long sent, long nanos) {
    String key = route + ' ' + method + ' ' + status;
    requests.computeIfAbsent(key, k -> Counter.builder("flotilla_http_requests")
        .description("HTTP requests by route, method and status")
        .tag("route", route).tag("method", method).tag("status", Integer.toString(status))
        .register(registry)).increment();
    latency.computeIfAbsent(route, r -> Timer.builder("flotilla_http_request_duration")
        .description("HTTP request latency by route").tag("route", r)
        .publishPercentileHistogram(false).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    if (received > 0) {
      bytesIn.increment(received);
    }
    if (sent > 0) {
      bytesOut.increment(sent);
    }
  }
}
