package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.e2e.Skopeo;
import io.flotilla.oci.Digest;
import io.flotilla.testing.Await;
import io.flotilla.testing.Images;
import io.flotilla.testing.OciClient;
import io.flotilla.testing.TestNode;
import io.flotilla.testing.WebhookReceiver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The content lifecycle through the admin API of a real node, syncing from another Flotilla node
 * (and from scripted upstreams that are slow or lie), every pull of a distribution made by skopeo:
 * remotes with tag globs, sync tasks with progress reports per action and stage, versions, mirror
 * against additive, a sync that changes nothing, publications, distributions with rollback and
 * promotion, pushes that publish and distribute, serialised syncs, cancel, and the bad input each
 * refused with a clear error before any task or ending in a failed task with the reason.
 */
class ContentLifecycleIT {
  @TempDir
  static Path dir;
  static TestNode upstreamNode;
  static TestNode target;
  static OciClient up;
  static OciClient down;
  static ContentClient api;
  static FaultServer faults;
  static WebhookReceiver receiver;

  @BeforeAll
  static void start() throws Exception {
    receiver = new WebhookReceiver();
    upstreamNode = TestNode.start(dir.resolve("upstream"));
    target = TestNode.start(dir.resolve("target"), Map.of("events.allowPrivateWebhookTargets", "true"));
    up = new OciClient(upstreamNode.url());
    down = new OciClient(target.url());
    api = new ContentClient(target.url());
    faults = new FaultServer();
    api.expect(201, "POST", "/api/v1/webhooks", "{\"name\":\"content\",\"url\":\"" + receiver.url("/content")
        + "\",\"backoff\":\"100ms\"}");
  }

  @AfterAll
  static void stop() throws Exception {
    if (faults != null) {
      faults.close();
    }
    if (target != null) {
      target.close();
    }
    if (upstreamNode != null) {
      upstreamNode.close();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private static String remote(String name, String upstreamUrl, String upstreamName, String extra) {
    return "{\"name\":\"" + name + "\",\"url\":\"" + upstreamUrl + "\",\"upstreamName\":\"" + upstreamName + "\""
        + (extra.isEmpty() ? "" : "," + extra) + "}";
  }

  private static String ref(String name) {
    return "docker://" + target.hostPort() + "/" + name;
  }

  /** The manifest digest skopeo sees at {@code name:tag} of the target. */
  private static String pulledDigest(String nameAndTag) {
    return Skopeo.runOk("inspect", "--tls-verify=false", "--format", "{{.Digest}}", ref(nameAndTag)).stdout().trim();
  }

  private static Set<String> stages(JsonNode task) {
    Set<String> out = new HashSet<>();
    task.get("progressReports").forEach(r -> out.add(r.get("action").asText() + ":" + r.get("stage").asText()));
    return out;
  }

  @Test
  void syncWithGlobsMakesOneVersionPublishesAndDistributesAndASecondSyncChangesNothing() throws Exception {
    Images.Pushed v1 = Images.push(up, "lib/app", "v1", 2, 11);
    Images.push(up, "lib/app", "v2", 2, 12);
    Images.push(up, "lib/app", "dev", 1, 13);
    JsonNode r = api.expect(201, "POST", "/api/v1/remotes", remote("app", upstreamNode.url(), "lib/app",
        "\"includeTags\":[\"v*\"],\"excludeTags\":[\"v2\"],\"username\":\"u\",\"password\":\"secret-pw\""));
    assertTrue(r.get("hasPassword").asBoolean());
    assertFalse(r.toString().contains("secret-pw"), "the password is never shown: " + r);
    assertFalse(api.get("/api/v1/remotes").toString().contains("secret-pw"));
    api.expect(200, "PUT", "/api/v1/repositories/mirror/app", "{\"remote\":\"app\",\"autoPublish\":true}");
    api.expect(201, "POST", "/api/v1/distributions",
        "{\"name\":\"app-prod\",\"basePath\":\"prod/app\",\"repository\":\"mirror/app\"}");

    JsonNode task = api.syncAndWait("mirror/app", "{\"autoDistribute\":true}");
    assertTrue(stages(task).containsAll(Set.of("sync:sync.tags", "sync:sync.manifests", "sync:sync.blobs",
        "publish:publish", "distribute:distribute")), "reports: " + task.get("progressReports"));
    for (JsonNode report : task.get("progressReports")) {
      assertEquals("completed", report.get("state").asText(), "report: " + report);
    }
    JsonNode blobs = report(task, "sync.blobs");
    assertEquals(3, blobs.get("total").asLong(), "config and two layers");
    assertEquals(blobs.get("bytesTotal").asLong(), blobs.get("bytesDone").asLong());
    assertTrue(task.get("createdResources").toString().contains("/api/v1/repositories/mirror/app/versions/1"));
    assertTrue(task.get("createdResources").toString().contains("/api/v1/publications/"));
    JsonNode version = api.get("/api/v1/repositories/mirror/app/versions/1");
    assertEquals(Map.of("v1", v1.manifest().toString()), ContentJson.JSON.convertValue(version.get("tags"), Map.class));
    assertEquals(1, version.get("summary").get("added").asInt());

    assertEquals(v1.manifest().toString(), pulledDigest("prod/app:v1"));
    Path copied = dir.resolve("prod-app-v1");
    Skopeo.runOk("copy", "--src-tls-verify=false", ref("prod/app:v1"), "dir:" + copied);
    assertEquals(v1.manifest(), Digest.sha256(Files.readAllBytes(copied.resolve("manifest.json"))));
    assertNotEquals(0, Skopeo.run("inspect", "--tls-verify=false", ref("prod/app:v2")).exitCode(),
        "v2 is excluded");
    assertEquals(403, down.putManifest("prod/app", "x", io.flotilla.oci.MediaTypes.OCI_MANIFEST, v1.body())
        .statusCode(), "a base path is read-only");

    JsonNode again = api.syncAndWait("mirror/app", null);
    assertEquals(1, api.get("/api/v1/repositories/mirror/app/versions").get("versions").size(),
        "a sync that changes nothing makes no version");
    assertFalse(again.get("createdResources").toString().contains("versions/2"));
    assertTrue(report(again, "version").get("message").asText().contains("no changes"));
    // events: the task's states, the version and the distribution
    Await.until("task, version and distribution events", Duration.ofSeconds(20), () -> {
      String all = receiver.events("/content").toString();
      return all.contains("\"task.completed\"") && all.contains("\"version.created\"")
          && all.contains("\"distribution.updated\"") && all.contains("\"task.running\"");
    });
  }

  @Test
  void mirrorRemovesWhatUpstreamRemovedWhileAnAdditiveSyncKeepsIt() {
    Images.push(up, "lib/m", "a", 1, 21);
    Images.push(up, "lib/m", "b", 1, 22);
    api.expect(201, "POST", "/api/v1/remotes", remote("m", upstreamNode.url(), "lib/m", ""));
    api.expect(200, "PUT", "/api/v1/repositories/mirror/m", "{\"remote\":\"m\"}");
    api.syncAndWait("mirror/m", null);
    OciClient.expect(up.send("DELETE", "/v2/lib/m/manifests/b", null, Map.of()), 202);
    api.syncAndWait("mirror/m", null);
    JsonNode versions = api.get("/api/v1/repositories/mirror/m/versions").get("versions");
    assertEquals(1, versions.size(), "additive: b stays, nothing changed: " + versions);
    api.syncAndWait("mirror/m", "{\"mirror\":true}");
    JsonNode v2 = api.get("/api/v1/repositories/mirror/m/versions/2");
    assertEquals(Set.of("a"), fieldNames(v2.get("tags")));
    assertEquals(1, v2.get("summary").get("removed").asInt());
    assertEquals(1, v2.get("base").asInt());
    assertEquals(Set.of("a", "b"), fieldNames(api.get("/api/v1/repositories/mirror/m/versions/1").get("tags")),
        "version 1 is immutable");
  }

  @Test
  void aDistributionRollsBackToVersionOneAndForwardAgain() {
    Images.Pushed first = Images.push(up, "lib/roll", "stable", 1, 31);
    api.expect(201, "POST", "/api/v1/remotes", remote("roll", upstreamNode.url(), "lib/roll", ""));
    api.expect(200, "PUT", "/api/v1/repositories/mirror/roll",
        "{\"remote\":\"roll\",\"autoPublish\":true,\"autoDistribute\":true}");
    api.expect(201, "POST", "/api/v1/distributions",
        "{\"name\":\"roll\",\"basePath\":\"live/roll\",\"repository\":\"mirror/roll\"}");
    api.syncAndWait("mirror/roll", null);
    assertEquals(first.manifest().toString(), pulledDigest("live/roll:stable"));
    Images.Pushed second = Images.push(up, "lib/roll", "stable", 1, 32);
    api.syncAndWait("mirror/roll", null);
    assertEquals(second.manifest().toString(), pulledDigest("live/roll:stable"));
    JsonNode back = api.expect(200, "PATCH", "/api/v1/distributions/roll", "{\"version\":1}");
    assertEquals(1, back.get("servedVersion").asInt());
    assertEquals(first.manifest().toString(), pulledDigest("live/roll:stable"), "rolled back to version 1");
    JsonNode forward = api.expect(200, "PATCH", "/api/v1/distributions/roll", "{\"version\":2}");
    assertEquals(2, forward.get("servedVersion").asInt());
    assertEquals(second.manifest().toString(), pulledDigest("live/roll:stable"), "forward again");
    assertEquals(List.of("stable"), tags(down.get("/v2/live/roll/tags/list")));
    assertEquals(403, down.send("DELETE", "/v2/mirror/roll/manifests/" + first.manifest(), null, Map.of()).statusCode(),
        "a manifest a version names stays");
    // retention: keep two versions; the one a distribution serves is never dropped
    api.expect(200, "PUT", "/api/v1/repositories/mirror/roll", "{\"retainVersions\":2}");
    api.expect(200, "PATCH", "/api/v1/distributions/roll", "{\"version\":1}");
    Images.push(up, "lib/roll", "stable", 1, 33);
    api.syncAndWait("mirror/roll", "{\"autoDistribute\":false}");
    Images.push(up, "lib/roll", "stable", 1, 34);
    api.syncAndWait("mirror/roll", "{\"autoDistribute\":false}");
    List<Integer> kept = new ArrayList<>();
    api.get("/api/v1/repositories/mirror/roll/versions").get("versions").forEach(v -> kept.add(v.get("number").asInt()));
    assertEquals(List.of(1, 3, 4), kept, "version 2 dropped, version 1 kept while served");
    assertEquals(first.manifest().toString(), pulledDigest("live/roll:stable"));
  }

  @Test
  void aPushIntoAnAutoDistributedRepositoryMakesAVersionAndServesIt() throws Exception {
    api.expect(200, "PUT", "/api/v1/repositories/team/app", "{\"autoPublish\":true,\"autoDistribute\":true}");
    api.expect(201, "POST", "/api/v1/distributions",
        "{\"name\":\"team\",\"basePath\":\"live/team\",\"repository\":\"team/app\"}");
    Images.Pushed pushed = Images.push(down, "team/app", "1.0", 1, 41);
    Await.until("version 1 served", Duration.ofSeconds(20),
        () -> api.get("/api/v1/distributions/team").path("servedVersion").asInt() >= 1);
    assertEquals(pushed.manifest().toString(), pulledDigest("live/team:1.0"));
    JsonNode v = api.get("/api/v1/repositories/team/app/versions/1");
    assertEquals("push", v.get("cause").asText());
    Images.Pushed next = Images.push(down, "team/app", "1.1", 1, 42);
    Await.until("version 2 served", Duration.ofSeconds(20),
        () -> api.get("/api/v1/distributions/team").path("servedVersion").asInt() >= 2);
    assertEquals(next.manifest().toString(), pulledDigest("live/team:1.1"));
    assertEquals(Set.of("1.0", "1.1"), fieldNames(api.get("/api/v1/repositories/team/app/versions/2").get("tags")));
  }

  @Test
  void twoSyncsOfOneRepositoryRunOneAfterTheOther() {
    new ScriptedUpstream(faults, "slow/serial", "v1", 2 << 20, 4 << 20, ScriptedUpstream.Fault.NONE);
    api.expect(201, "POST", "/api/v1/remotes", remote("serial", faults.url(), "slow/serial", ""));
    api.expect(200, "PUT", "/api/v1/repositories/mirror/serial", "{\"remote\":\"serial\"}");
    String a = api.sync("mirror/serial", null);
    String b = api.sync("mirror/serial", null);
    JsonNode second = api.get("/api/v1/tasks/" + b);
    JsonNode ta = api.await(a, Duration.ofSeconds(60));
    JsonNode tb = api.await(b, Duration.ofSeconds(60));
    assertEquals("completed", ta.get("state").asText(), ta.toString());
    assertEquals("completed", tb.get("state").asText(), tb.toString());
    assertEquals("waiting", second.get("state").asText(), "the second waits for the lock: " + second);
    assertFalse(Instant.parse(tb.get("started").asText()).isBefore(Instant.parse(ta.get("finished").asText())),
        "the second started after the first finished: " + ta + " / " + tb);
  }

  @Test
  void aCanceledSyncStopsWithinSecondsAndLeavesNoVersion() throws Exception {
    new ScriptedUpstream(faults, "slow/cancel", "v1", 16 << 20, 1 << 20, ScriptedUpstream.Fault.NONE);
    api.expect(201, "POST", "/api/v1/remotes", remote("cancel", faults.url(), "slow/cancel", ""));
    api.expect(200, "PUT", "/api/v1/repositories/mirror/cancel", "{\"remote\":\"cancel\"}");
    String id = api.sync("mirror/cancel", null);
    Await.until("bytes flowing", Duration.ofSeconds(20), () -> report(api.get("/api/v1/tasks/" + id), "sync.blobs")
        .get("bytesDone").asLong() > 0);
    long asked = System.nanoTime();
    api.expect(202, "POST", "/api/v1/tasks/" + id + "/cancel", null);
    JsonNode t = api.await(id, Duration.ofSeconds(30));
    long tookMillis = (System.nanoTime() - asked) / 1_000_000;
    assertEquals("canceled", t.get("state").asText(), t.toString());
    assertTrue(tookMillis < 10_000, "stopped within seconds: " + tookMillis + " ms");
    assertEquals(0, api.get("/api/v1/repositories/mirror/cancel/versions").get("versions").size());
    assertEquals(404, down.get("/v2/mirror/cancel/manifests/v1").statusCode(), "the tag was not stored");
    api.expect(409, "POST", "/api/v1/tasks/" + id + "/cancel", null);
  }

  @Test
  void aLyingOrBrokenUpstreamFailsTheTaskWithTheReasonAndStoresNothing() {
    Map<ScriptedUpstream.Fault, String> reasons = Map.of(
        ScriptedUpstream.Fault.LYING_BLOB, "digest",
        ScriptedUpstream.Fault.MISSING_BLOB, "404",
        ScriptedUpstream.Fault.HUGE_MANIFEST, "large");
    List<String> problems = new ArrayList<>();
    for (var e : reasons.entrySet()) {
      String name = e.getKey().name().toLowerCase().replace('_', '-');
      ScriptedUpstream s = new ScriptedUpstream(faults, "bad/" + name, "v1", 64 << 10, 0, e.getKey());
      api.expect(201, "POST", "/api/v1/remotes", remote(name, faults.url(), "bad/" + name, ""));
      api.expect(200, "PUT", "/api/v1/repositories/mirror/" + name, "{\"remote\":\"" + name + "\"}");
      JsonNode t = api.await(api.sync("mirror/" + name, null), Duration.ofSeconds(60));
      String error = t.path("error").asText("");
      if (!"failed".equals(t.get("state").asText()) || !error.toLowerCase().contains(e.getValue())) {
        problems.add(e.getKey() + ": " + t);
      }
      if (down.get("/v2/mirror/" + name + "/manifests/v1").statusCode() != 404
          || down.get("/v2/mirror/" + name + "/blobs/" + s.layer).statusCode() != 404) {
        problems.add(e.getKey() + ": something was stored");
      }
      assertEquals(0, api.get("/api/v1/repositories/mirror/" + name + "/versions").get("versions").size());
    }
    // an upstream nobody answers at: the task fails with the reason once the retries are spent
    api.expect(201, "POST", "/api/v1/remotes", remote("gone", "http://127.0.0.1:" + TestNode.freePort(), "lib/gone", ""));
    JsonNode t = api.await(api.sync("mirror/gone", "{\"remote\":\"gone\"}"), Duration.ofSeconds(90));
    assertEquals("failed", t.get("state").asText(), t.toString());
    assertTrue(t.get("error").asText().contains("UNAVAILABLE") || t.get("error").asText().contains("onnect"),
        t.toString());
    assertEquals(List.of(), problems);
  }

  @Test
  void anOnDemandRemoteServesFirstPullsFromUpstreamAndKeepsWhatItFetched() throws Exception {
    Images.Pushed image = Images.push(up, "lib/od", "1", 2, 61);
    api.expect(201, "POST", "/api/v1/remotes", remote("od", upstreamNode.url(), "lib/od",
        "\"policy\":\"onDemand\",\"includeTags\":[\"1*\"]"));
    api.expect(200, "PUT", "/api/v1/repositories/cache/od", "{\"remote\":\"od\"}");
    assertEquals(404, down.get("/v2/cache/od/tags/list").statusCode(), "nothing held before the first pull");
    Path copied = dir.resolve("cache-od-1");
    Skopeo.runOk("copy", "--src-tls-verify=false", ref("cache/od:1"), "dir:" + copied);
    assertEquals(image.manifest(), Digest.sha256(Files.readAllBytes(copied.resolve("manifest.json"))));
    Await.until("the pulled image stored", Duration.ofSeconds(20),
        () -> tags(down.get("/v2/cache/od/tags/list")).contains("1"));
    for (Digest layer : image.layers()) {
      assertEquals(200, down.get("/v2/cache/od/blobs/" + layer).statusCode());
    }
    JsonNode refused = api.expect(400, "POST", "/api/v1/repositories/cache/od/sync", null);
    assertTrue(refused.toString().contains("onDemand"), refused.toString());
  }

  /** Runs the {@code flotilla} client in-process against the target node; returns its exit code, output in {@code out[0]}. */
  private static int cli(String[] out, String... args) {
    java.io.StringWriter o = new java.io.StringWriter();
    java.io.StringWriter e = new java.io.StringWriter();
    io.flotilla.cli.CliEnv env = new io.flotilla.cli.CliEnv(Map.of("FLOTILLA_URL", target.url()),
        new java.io.ByteArrayInputStream(new byte[0]), new java.io.PrintWriter(o), new java.io.PrintWriter(e), false, 120,
        Duration.ofMillis(100));
    int code = io.flotilla.cli.FlotillaCli.commandLine(env).execute(args);
    out[0] = o + "\n--- stderr ---\n" + e;
    return code;
  }

  @Test
  void theCommandLineClientSyncsWaitsAndSaysHowItEnded() throws Exception {
    Images.Pushed image = Images.push(up, "lib/cli", "1.0", 1, 81);
    String[] out = new String[1];
    assertEquals(0, cli(out, "remote", "create", "cli", "--url", upstreamNode.url(), "--upstream-name", "lib/cli",
        "--include", "1.*"), out[0]);
    assertEquals(0, cli(out, "repo", "set", "mirror/cli", "--remote", "cli", "--auto-publish", "--auto-distribute"),
        out[0]);
    assertEquals(0, cli(out, "distribution", "create", "cli", "--base-path", "live/cli", "--repository", "mirror/cli"),
        out[0]);
    assertEquals(0, cli(out, "repo", "sync", "mirror/cli", "--wait"), out[0]);
    assertTrue(out[0].contains("completed") && out[0].contains("sync.blobs") && out[0].contains("distribute"), out[0]);
    assertEquals(image.manifest().toString(), pulledDigest("live/cli:1.0"));
    assertEquals(0, cli(out, "--output", "json", "repo", "versions", "mirror/cli"), out[0]);
    JsonNode versions = ContentJson.JSON.readTree(out[0].substring(0, out[0].indexOf("--- stderr ---")));
    assertEquals(1, versions.get("versions").size(), out[0]);
    // a sync that fails exits 1, a refused request 3
    new ScriptedUpstream(faults, "bad/cli", "v1", 64 << 10, 0, ScriptedUpstream.Fault.LYING_BLOB);
    assertEquals(0, cli(out, "remote", "create", "badcli", "--url", faults.url(), "--upstream-name", "bad/cli"), out[0]);
    assertEquals(1, cli(out, "repo", "sync", "mirror/badcli", "--remote", "badcli", "--wait"), out[0]);
    assertTrue(out[0].toLowerCase().contains("digest"), out[0]);
    assertEquals(3, cli(out, "task", "show", "no-such-task"), out[0]);
    assertEquals(3, cli(out, "repo", "sync", "mirror/cli", "--remote", "nope"), out[0]);
  }

  @Test
  void aBlobAnotherRepositoryOfTheSameUpstreamHoldsIsMountedNotDownloaded() {
    ScriptedUpstream s = new ScriptedUpstream(faults, "dedupe/app", "v1", 1 << 20, 0, ScriptedUpstream.Fault.NONE);
    api.expect(201, "POST", "/api/v1/remotes", remote("dedupe-a", faults.url(), "dedupe/app", ""));
    api.expect(201, "POST", "/api/v1/remotes", remote("dedupe-b", faults.url(), "dedupe/app", ""));
    api.expect(200, "PUT", "/api/v1/repositories/mirror/dedupe-a", "{\"remote\":\"dedupe-a\"}");
    api.expect(200, "PUT", "/api/v1/repositories/mirror/dedupe-b", "{\"remote\":\"dedupe-b\"}");
    api.syncAndWait("mirror/dedupe-a", null);
    JsonNode second = api.syncAndWait("mirror/dedupe-b", null);
    assertEquals(1, faults.seen("/v2/dedupe/app/blobs/" + s.layer).size(), "the layer was downloaded once");
    JsonNode blobs = report(second, "sync.blobs");
    assertEquals(0, blobs.get("bytesTotal").asLong(), "nothing to download: " + blobs);
    assertEquals(blobs.get("total").asLong(), blobs.get("done").asLong());
    assertEquals(200, down.get("/v2/mirror/dedupe-b/blobs/" + s.layer).statusCode());
  }

  @Test
  void badRequestsAreRefusedBeforeAnyTaskStarts() {
    int tasks = api.get("/api/v1/tasks").get("tasks").size();
    api.expect(400, "POST", "/api/v1/remotes", remote("Bad Name", upstreamNode.url(), "lib/x", ""));
    api.expect(400, "POST", "/api/v1/remotes", remote("nourl", "ftp://x", "lib/x", ""));
    api.expect(400, "POST", "/api/v1/remotes", remote("typo", upstreamNode.url(), "lib/x", "\"includeTag\":[\"a\"]"));
    api.expect(400, "PUT", "/api/v1/repositories/bad/one", "{\"remote\":\"nope\"}");
    api.expect(400, "POST", "/api/v1/repositories/bad/one/sync", "{\"remote\":\"nope\"}");
    api.expect(201, "POST", "/api/v1/remotes", remote("ok", upstreamNode.url(), "lib/x", ""));
    api.expect(200, "PUT", "/api/v1/repositories/bad/one", "{\"remote\":\"ok\",\"autoPublish\":true}");
    JsonNode refused = api.expect(400, "POST", "/api/v1/repositories/bad/one/sync", "{\"autoDistribute\":true}");
    assertTrue(refused.toString().contains("no distribution"), refused.toString());
    api.expect(400, "POST", "/api/v1/repositories/bad/one/sync", "{\"autoPublish\":false,\"autoDistribute\":true}");
    Images.push(down, "pushed/here", "x", 1, 51);
    JsonNode collides = api.expect(409, "POST", "/api/v1/distributions",
        "{\"name\":\"clash\",\"basePath\":\"pushed/here\",\"repository\":\"bad/one\"}");
    assertTrue(collides.toString().contains("pushed repository"), collides.toString());
    api.expect(404, "GET", "/api/v1/tasks/nope", null);
    api.expect(404, "GET", "/api/v1/remotes/nope", null);
    api.expect(409, "DELETE", "/api/v1/remotes/ok", null);
    assertEquals(tasks, api.get("/api/v1/tasks").get("tasks").size(), "no task was created");
  }

  static JsonNode report(JsonNode task, String stage) {
    for (JsonNode r : task.get("progressReports")) {
      if (r.get("stage").asText().equals(stage)) {
        return r;
      }
    }
    throw new AssertionError("no report of " + stage + " in " + task);
  }

  static Set<String> fieldNames(JsonNode o) {
    Set<String> out = new HashSet<>();
    o.fieldNames().forEachRemaining(out::add);
    return out;
  }

  static List<String> tags(java.net.http.HttpResponse<byte[]> r) {
    try {
      List<String> out = new ArrayList<>();
      ContentJson.JSON.readTree(new String(r.body(), StandardCharsets.UTF_8)).get("tags").forEach(t -> out.add(t.asText()));
      return out;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
