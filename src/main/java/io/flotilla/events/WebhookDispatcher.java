package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.config.WebhookConfig;
import io.flotilla.oci.Glob;
import io.flotilla.storage.Fs;
import io.flotilla.storage.SerialLane;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Delivers this node's events to one webhook endpoint, from the durable journal, at least once and
 * in journal order (so in order per repository): one batch in flight at a time; a failed batch is
 * retried with exponential backoff and jitter, capped, and after {@code maxAttempts} (or when its
 * oldest event is older than {@code maxAge}) its events go to the endpoint's dead-letter list, from
 * which {@link #replay} sends them again. A replay renames the dead-letter list to a replay file
 * ({@code replay-<n>.jsonl}) that is deleted only once its events were delivered (or dead-lettered
 * again), and is queued again after a restart; dead-lettering, listing and replaying run one at a
 * time, in order, on the endpoint's {@link SerialLane}. The endpoint's position in the journal is a
 * {@link JournalCursor} (saved at most once a second and on stop), so a restart resumes where delivery
 * stood; after a crash up to a second of delivered events is sent again (receivers de-duplicate by
 * event id). Bodies are signed:
 * {@code Flotilla-Signature: sha256=<hex HMAC-SHA256 of the body>} with the endpoint's secret.
 * Runs on the Vert.x context it was started on; journal and file I/O run on workers.
 */
public final class WebhookDispatcher {
  /** Header carrying the body's signature. */
  public static final String SIGNATURE_HEADER = "Flotilla-Signature";
  private static final int HISTORY = 50;
  private static final System.Logger LOG = System.getLogger(WebhookDispatcher.class.getName());

  private final Vertx vertx;
  private final EventJournal journal;
  private final java.util.function.Supplier<HttpClient> clients;
  private HttpClient http;
  private final Path dir;
  private final WebhookTargets targets;
  private volatile WebhookConfig config;
  private final Pattern repositories;
  private JournalCursor cursor;
  private boolean running;
  private boolean poked;
  private boolean stopped;
  private final ArrayDeque<Replay> replays = new ArrayDeque<>();
  /** The dead-letter and replay files' I/O, one task at a time in submission order, on worker threads. */
  private final SerialLane lane;
  private final ArrayDeque<Attempt> history = new ArrayDeque<>();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private volatile int lastStatus;
  private volatile long lastLatencyMillis;

  /** One delivery attempt, for the endpoint's history. {@code status} is 0 when no response came. */
  public record Attempt(String time, int events, int status, long latencyMillis, String error) {}

  /** A batch of replayed events from {@code file}; the file goes once its {@code last} batch is done. */
  private record Replay(Path file, List<EventJournal.Entry> entries, boolean last) {}

  /** Where the endpoint stands (the secret is never shown). */
  public record Status(String name, String url, boolean paused, String format, long pending, long delivered,
      long failed, long deadLettered, int lastStatus, long lastLatencyMillis, List<Attempt> history) {}

  /**
   * @param clients makes the endpoint's HTTP client (keep-alive; replaced after a failed attempt)
   * @param targets checks the endpoint's host before each attempt (private targets are refused)
   */
  WebhookDispatcher(Vertx vertx, EventJournal journal, java.util.function.Supplier<HttpClient> clients, Path dir,
      WebhookConfig config, WebhookTargets targets) {
    this.vertx = vertx;
    this.targets = targets;
    this.journal = journal;
    this.clients = clients;
    this.http = clients.get();
    this.dir = dir;
    this.config = config;
    this.repositories = Glob.toPattern(config.repositories());
    this.lane = new SerialLane(task -> vertx.executeBlocking(() -> {
      task.run();
      return null;
    }, false));
  }

  public WebhookConfig config() {
    return config;
  }

  /**
   * Loads the saved position (a new endpoint starts after the newest event) and queues the replays
   * that were not done when the endpoint last stopped; blocking.
   */
  void load() throws IOException {
    Files.createDirectories(dir);
    cursor = JournalCursor.load(vertx, dir.resolve("cursor"), journal.end());
    List<Path> files;
    try (var list = Files.list(dir)) {
      files = list.filter(f -> f.getFileName().toString().matches("replay-\\d+\\.jsonl")).sorted().toList();
    }
    for (Path f : files) {
      queueReplay(f, entries(read(f)));
    }
  }

  /** The saved position: the journal may be trimmed before it. */
  EventJournal.Position savedPosition() {
    return cursor == null ? null : cursor.saved();
  }

  /** New events may be there: deliver them unless a delivery is already under way. Call on the context. */
  void poke() {
    if (stopped || config.paused()) {
      return;
    }
    if (running) {
      poked = true; // looked at again when the current batch is done
      return;
    }
    running = true;
    poked = false;
    next().onComplete(ar -> {
      running = false;
      if (poked || (ar.succeeded() && ar.result())) {
        poke(); // more to send
      }
    });
  }

  /** Stops delivering and saves the position. */
  Future<Void> stop() {
    stopped = true;
    http.close();
    return cursor == null ? Future.succeededFuture() : cursor.close();
  }

  /** Stops delivering without saving anything (the endpoint is being deleted). */
  void discard() {
    stopped = true;
    http.close();
    if (cursor != null) {
      cursor.discard();
    }
  }

  void setPaused(boolean paused) {
    config = config.withPaused(paused);
    if (!paused) {
      poke();
    }
  }

  /** Sends the next batch; completes with whether more may be waiting. */
  private Future<Boolean> next() {
    Replay replay = replays.poll();
    if (replay != null) {
      return deliver(replay.entries(), 1)
          .compose(v -> replay.last() ? onLane(() -> Fs.deleteDurably(replay.file())) : Future.succeededFuture())
          .map(true);
    }
    EventJournal.Position from = cursor.position();
    return vertx.executeBlocking(() -> journal.read(from, config.batchSize()), false).compose(batch -> {
      Future<Void> lost = batch.skipped() > 0
          ? deadLetter(List.of(), "journal full: " + batch.skipped() + " events before seq " + (batch.next().seq()
              - batch.entries().size() + 1) + " were dropped before delivery")
          : Future.succeededFuture();
      List<EventJournal.Entry> wanted = new ArrayList<>();
      for (EventJournal.Entry e : batch.entries()) {
        if (wants(e.json())) {
          wanted.add(e);
        }
      }
      Future<Void> sent = wanted.isEmpty() ? Future.succeededFuture() : deliver(wanted, 1);
      return lost.compose(v -> sent).compose(v -> {
        if (batch.next().equals(from)) {
          return Future.succeededFuture(false);
        }
        cursor.advance(batch.next());
        return Future.succeededFuture(batch.entries().size() == config.batchSize());
      });
    });
  }

  /** Posts a batch until it is accepted or dead-lettered; fails only when the dispatcher stops. */
  private Future<Void> deliver(List<EventJournal.Entry> batch, int attempt) {
    if (stopped) {
      return Future.failedFuture("stopped");
    }
    WebhookConfig c = config;
    List<String> json = batch.stream().map(EventJournal.Entry::json).toList();
    EventFormat format = EventFormat.of(c.format());
    byte[] body = format.body(json);
    long started = System.nanoTime();
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(c.url())
        .setIdleTimeout(c.timeout().toMillis()).setConnectTimeout(c.timeout().toMillis())
        .putHeader("Content-Type", format.mediaType()).putHeader("User-Agent", "flotilla-webhooks");
    c.headers().forEach(options::putHeader);
    if (!c.secret().isEmpty()) {
      options.putHeader(SIGNATURE_HEADER, Signatures.header(c.secret(), body));
    }
    return target(c.url(), options)
        .compose(v -> http.request(options))
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> resp.statusCode()))
        .timeout(c.timeout().toMillis() * 2, java.util.concurrent.TimeUnit.MILLISECONDS)
        .transform(ar -> {
          long latency = (System.nanoTime() - started) / 1_000_000;
          int status = ar.succeeded() ? ar.result() : 0;
          boolean ok = status >= 200 && status < 300;
          record(new Attempt(Instant.now().toString(), batch.size(), status, latency,
              ok ? null : ar.failed() ? String.valueOf(ar.cause().getMessage()) : "HTTP " + status));
          lastStatus = status;
          lastLatencyMillis = latency;
          if (ok) {
            delivered.addAndGet(batch.size());
            return Future.succeededFuture();
          }
          failed.incrementAndGet();
          LOG.log(System.Logger.Level.INFO, "webhook " + c.name() + ": attempt " + attempt + " of a batch of "
              + batch.size() + " failed: " + (status == 0 ? String.valueOf(ar.cause()) : "HTTP " + status));
          // start the next attempt on fresh connections: a pooled one may be stuck on a dead peer
          HttpClient old = http;
          http = clients.get();
          old.close();
          if (attempt >= c.maxAttempts() || tooOld(batch.get(0).json(), c)) {
            return deadLetter(batch, "gave up after " + attempt + " attempts: "
                + (status == 0 ? String.valueOf(ar.cause().getMessage()) : "HTTP " + status));
          }
          Promise<Void> later = Promise.promise();
          vertx.setTimer(backoffMillis(c, attempt), t -> deliver(batch, attempt + 1).onComplete(later));
          return later.future();
        });
  }

  /**
   * Checks the endpoint's host (resolving it off the event loop) and, unless private targets are
   * allowed, pins the connection to the address just checked, so that a DNS answer changed in the
   * meantime (rebinding) cannot send the request elsewhere; the Host header and TLS server name
   * stay those of the URL. Fails when the host is refused or does not resolve.
   */
  private Future<Void> target(String url, RequestOptions options) {
    if (targets.allowsPrivate()) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> targets.check(url), false).compose(verdict -> {
      if (verdict.refused()) {
        return Future.failedFuture(new IllegalStateException(verdict.refusal()));
      }
      int port = options.getPort() != null ? options.getPort() : url.startsWith("https:") ? 443 : 80;
      options.setServer(SocketAddress.inetSocketAddress(port, verdict.address().getHostAddress()));
      return Future.succeededFuture();
    });
  }

  static long backoffMillis(WebhookConfig c, int attempt) {
    double exp = c.backoff().toMillis() * Math.pow(2, Math.min(30, attempt - 1));
    long capped = (long) Math.min(exp, c.maxBackoff().toMillis());
    long jitter = ThreadLocalRandom.current().nextLong(capped / 4 + 1);
    return Math.max(1, capped - capped / 8 + jitter); // +-12.5%
  }

  private static boolean tooOld(String eventJson, WebhookConfig c) {
    try {
      Instant t = Instant.parse(EventFormat.JSON.readTree(eventJson).path("timestamp").asText());
      return t.plus(c.maxAge()).isBefore(Instant.now());
    } catch (Exception e) {
      return false;
    }
  }

  private boolean wants(String json) {
    WebhookConfig c = config;
    if (c.actions().isEmpty() && c.mediaTypes().isEmpty() && c.repositories().equals("**")) {
      return true; // no filter: no need to parse the event
    }
    try {
      JsonNode e = EventFormat.JSON.readTree(json);
      if (!c.actions().isEmpty() && !c.actions().contains(e.path("action").asText())) {
        return false;
      }
      JsonNode target = e.path("target");
      if (!c.mediaTypes().isEmpty() && !c.mediaTypes().contains(target.path("mediaType").asText())) {
        return false;
      }
      return repositories.matcher(target.path("repository").asText()).matches();
    } catch (IOException ex) {
      return false;
    }
  }

  private synchronized void record(Attempt a) {
    history.addFirst(a);
    while (history.size() > HISTORY) {
      history.removeLast();
    }
  }

  private Future<Void> deadLetter(List<EventJournal.Entry> batch, String reason) {
    deadLettered.addAndGet(Math.max(1, batch.size()));
    return onLane(() -> {
      StringBuilder sb = new StringBuilder();
      String why = EventFormat.JSON.writeValueAsString(reason);
      if (batch.isEmpty()) {
        sb.append("{\"seq\":0,\"reason\":").append(why).append(",\"event\":null}\n");
      }
      for (EventJournal.Entry e : batch) {
        sb.append("{\"seq\":").append(e.seq()).append(",\"reason\":").append(why).append(",\"event\":")
            .append(e.json()).append("}\n");
      }
      try (var ch = java.nio.channels.FileChannel.open(dir.resolve("dead-letters.jsonl"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        ch.write(java.nio.ByteBuffer.wrap(sb.toString().getBytes(StandardCharsets.UTF_8)));
        ch.force(false);
      }
      return null;
    });
  }

  /** The dead-letter list: one JSON object per line ({@code seq}, {@code reason}, {@code event}). Call on the context. */
  Future<List<JsonNode>> deadLetters() {
    return onLane(() -> read(dir.resolve("dead-letters.jsonl")));
  }

  private static List<JsonNode> read(Path f) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (Files.exists(f)) {
      for (String line : Files.readAllLines(f)) {
        if (!line.isBlank()) {
          out.add(EventFormat.JSON.readTree(line));
        }
      }
    }
    return out;
  }

  private static List<EventJournal.Entry> entries(List<JsonNode> deadLetters) {
    List<EventJournal.Entry> entries = new ArrayList<>();
    for (JsonNode d : deadLetters) {
      if (!d.path("event").isNull() && !d.path("event").isMissingNode()) {
        entries.add(new EventJournal.Entry(d.path("seq").asLong(), d.path("event").toString()));
      }
    }
    return entries;
  }

  /** Queues a replay file's events in batches; a file with none is deleted. */
  private void queueReplay(Path file, List<EventJournal.Entry> entries) {
    if (entries.isEmpty()) {
      onLane(() -> Fs.deleteDurably(file));
      return;
    }
    for (int i = 0; i < entries.size(); i += config.batchSize()) {
      int end = Math.min(entries.size(), i + config.batchSize());
      replays.add(new Replay(file, entries.subList(i, end), end == entries.size()));
    }
  }

  /** Runs blocking file work on the endpoint's lane; the result comes back on the caller's context. */
  private <T> Future<T> onLane(java.util.concurrent.Callable<T> work) {
    Context context = vertx.getOrCreateContext();
    Promise<T> done = Promise.promise();
    lane.execute(() -> {
      try {
        T result = work.call();
        context.runOnContext(v -> done.complete(result));
      } catch (Exception e) {
        context.runOnContext(v -> done.fail(e));
      }
    });
    return done.future();
  }

  /**
   * Takes every dead-lettered event off the list and queues it for delivery again, ahead of new
   * events (with the same retry policy): the list is renamed to the next replay file, which stays
   * until its events are delivered (a restart queues it again). Returns how many were queued. Call
   * on the context.
   */
  Future<Integer> replay() {
    record Taken(Path file, List<JsonNode> dead) {}
    return onLane(() -> {
      Path list = dir.resolve("dead-letters.jsonl");
      if (!Files.exists(list) || Files.size(list) == 0) {
        return new Taken(null, List.<JsonNode>of());
      }
      long n = 1;
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          if (name.matches("replay-\\d+\\.jsonl")) {
            n = Math.max(n, Long.parseLong(name.substring(7, name.length() - 6)) + 1);
          }
        }
      }
      Path file = dir.resolve(String.format("replay-%020d.jsonl", n));
      Fs.moveAtomic(list, file);
      return new Taken(file, read(file));
    }).map(taken -> {
      if (taken.file() == null) {
        return 0;
      }
      List<EventJournal.Entry> entries = entries(taken.dead());
      queueReplay(taken.file(), entries);
      deadLettered.addAndGet(-taken.dead().size());
      poke();
      return entries.size();
    });
  }

  public synchronized Status status() {
    WebhookConfig c = config;
    long pending = Math.max(0, journal.lastSeq() - (cursor == null ? 0 : cursor.position().seq()));
    return new Status(c.name(), c.url(), c.paused(), c.format(), pending, delivered.get(), failed.get(),
        deadLettered.get(), lastStatus, lastLatencyMillis, List.copyOf(history));
  }
}
