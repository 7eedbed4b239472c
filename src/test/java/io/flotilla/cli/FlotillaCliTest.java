package io.flotilla.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client run in-process against a scripted HTTP server: requests sent, output, exit codes. */
class FlotillaCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TASK = "/api/v1/tasks/t1";
  private static final String SYNC = "/api/v1/repositories/library/alpine/sync";

  private ScriptedServer server;
  private String out;
  private String err;

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int run(String... args) {
    return run(false, "", args);
  }

  private int run(boolean tty, String stdin, String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    CliEnv env = new CliEnv(Map.of("FLOTILLA_URL", server.url(), "FLOTILLA_USER", "admin", "FLOTILLA_PASSWORD", "s3cret"),
        new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), new PrintWriter(o), new PrintWriter(e), tty, 200,
        Duration.ofMillis(5));
    int code = FlotillaCli.commandLine(env).execute(args);
    out = o.toString();
    err = e.toString();
    return code;
  }

  private static ScriptedServer.Response ok(int status, String json) {
    return new ScriptedServer.Response(status, json);
  }

  private static String task(String state, long blobsDone, String extra) {
    return """
        {"id":"t1","name":"sync","repository":"library/alpine","node":"n1","state":"%s","created":"2026-01-02T10:00:00Z",
         "started":"2026-01-02T10:00:01Z","finished":%s,"progressReports":[
          {"action":"sync","stage":"sync.tags","message":"2 tags","done":2,"total":2,"state":"completed","bytesDone":0,"bytesTotal":0},
          {"action":"sync","stage":"sync.blobs","message":"copying blobs","done":%d,"total":4,"state":"%s","bytesDone":%d,"bytesTotal":4194304},
          {"action":"publish","stage":"publish","message":"","done":%d,"total":1,"state":"%s","bytesDone":0,"bytesTotal":0}
         ]%s}""".formatted(state, state.equals("running") || state.equals("waiting") ? "null" : "\"2026-01-02T10:00:03.5Z\"",
        blobsDone, blobsDone == 4 ? "completed" : "running", blobsDone * 1048576, state.equals("completed") ? 1 : 0, state.equals("completed") ? "completed" : "waiting",
        extra);
  }

  private void scriptSync(String finalTask) {
    server.on("POST", SYNC, ok(202, "{\"id\":\"t1\",\"task\":\"/api/v1/tasks/t1\"}"));
    server.on("GET", TASK, ok(200, task("waiting", 0, "")), ok(200, task("running", 1, "")), ok(200, task("running", 1, "")),
        ok(200, task("running", 3, "")), ok(200, finalTask));
  }

  private static long count(String text, String needle) {
    return text.lines().filter(l -> l.contains(needle)).count();
  }

  @Test
  void syncWaitFollowsTheTaskToCompletion() throws Exception {
    scriptSync(task("completed", 4, ",\"createdResources\":[\"/api/v1/repositories/library/alpine/versions/3\","
        + "\"/api/v1/publications/p9\"],\"somethingNew\":[1,2]"));
    int code = run("repo", "sync", "library/alpine", "--mirror", "--auto-publish", "--wait");

    assertEquals(ExitCodes.OK, code, err);
    List<ScriptedServer.Request> sent = server.requestsBut("GET", TASK);
    assertEquals(1, sent.size());
    assertEquals("POST", sent.get(0).method());
    assertEquals(SYNC, sent.get(0).path());
    assertEquals(JSON.readTree("{\"mirror\":true,\"autoPublish\":true}"), JSON.readTree(sent.get(0).body()));
    assertEquals("Basic " + Base64.getEncoder().encodeToString("admin:s3cret".getBytes(StandardCharsets.UTF_8)),
        sent.get(0).authorization());
    assertEquals(5, server.requests().stream().filter(r -> r.path().equals(TASK)).count(), "polls until final");

    // not a terminal: no escape codes, and a row printed again only when its state or counts change
    assertFalse(out.contains("\033"), out);
    assertEquals(1, count(out, "sync.tags"));
    assertEquals(4, count(out, "sync.blobs"), out); // 0/4, 1/4, 3/4, 4/4: the repeated 1/4 is not printed again
    assertEquals(2, count(out, "publish         ["), out); // waiting, then completed
    assertTrue(out.contains("[#####---------------]     1/4  1.0 MiB/4.0 MiB"), out);
    assertTrue(out.contains("[####################]     4/4  4.0 MiB/4.0 MiB        completed   copying blobs"), out);
    assertTrue(out.endsWith("""
        task t1 completed in 2.5s
        created:
          /api/v1/repositories/library/alpine/versions/3
          /api/v1/publications/p9
        """), out);
    assertTrue(out.startsWith("task t1  sync library/alpine  waiting\n"), out);
    assertEquals("", err);
  }

  @Test
  void aFailedTaskExitsOneWithItsError() {
    scriptSync(task("failed", 3, ",\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"upstream said 401\"}"));
    assertEquals(ExitCodes.TASK_FAILED, run("repo", "sync", "library/alpine", "--wait"));
    assertEquals("error: task failed: upstream said 401\n", err);
    assertTrue(out.contains("task t1 failed in 2.5s"), out);
    assertEquals("{}", server.requests().get(0).body());
  }

  @Test
  void aCanceledTaskExitsFive() {
    server.on("GET", TASK, ok(200, task("running", 1, "")), ok(200, task("canceled", 1, "")));
    assertEquals(ExitCodes.CANCELED, run("task", "show", "t1", "--wait"));
    assertTrue(out.contains("task t1 canceled"), out);
  }

  @Test
  void jsonWaitPrintsOnlyTheFinalTask() throws Exception {
    String last = task("completed", 4, ",\"createdResources\":[\"/api/v1/repositories/library/alpine/versions/3\"]");
    scriptSync(last);
    assertEquals(ExitCodes.OK, run("--output", "json", "repo", "sync", "library/alpine", "--wait"));
    assertEquals(JSON.readTree(last), JSON.readTree(out));
  }

  @Test
  void withoutWaitTheTaskIsNamedAndNotPolled() throws Exception {
    scriptSync(task("completed", 4, ""));
    assertEquals(ExitCodes.OK, run("repo", "sync", "library/alpine", "--remote", "hub", "--no-auto-distribute"));
    assertTrue(out.startsWith("task t1 started: /api/v1/tasks/t1\n"), out);
    assertEquals(1, server.requests().size());
    assertEquals(JSON.readTree("{\"remote\":\"hub\",\"autoDistribute\":false}"), JSON.readTree(server.requests().get(0).body()));
  }

  @Test
  void onATerminalRowsAreRedrawnInPlace() {
    scriptSync(task("completed", 4, ""));
    assertEquals(ExitCodes.OK, run(true, "", "--no-color", "repo", "sync", "library/alpine", "--wait"));
    // four lines drawn each time (header and three rows): moved up over them before each redraw
    assertEquals(4, out.split("\033\\[4A\r\033\\[J", -1).length - 1, out);
    assertFalse(out.contains("\033[3"), "no colours with --no-color: " + out);
  }

  @Test
  void coloursOnATerminalUnlessNoColor() {
    scriptSync(task("completed", 4, ""));
    assertEquals(ExitCodes.OK, run(true, "", "repo", "sync", "library/alpine", "--wait"));
    assertTrue(out.contains("\033[32m"), out);
  }

  @Test
  void remoteCreateSendsEveryField(@TempDir Path dir) throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    server.on("POST", "/api/v1/remotes", ok(201, """
        {"name":"hub","url":"https://registry-1.docker.io","upstreamName":"library/alpine","username":"bob",
         "hasPassword":true,"verifyTls":false,"includeTags":["3.*"],"excludeTags":["*-rc"],"policy":"immediate",
         "syncInterval":600,"created":"2026-01-02T10:00:00Z","updated":"2026-01-02T10:00:00Z"}"""));
    int code = run(false, "upstream-secret\n", "remote", "create", "hub", "--url", "https://registry-1.docker.io",
        "--upstream-name", "library/alpine", "--username", "bob", "--password-stdin", "--include", "3.*",
        "--include", "latest", "--exclude", "*-rc", "--policy", "immediate", "--sync-interval", "10m",
        "--insecure-upstream", "--ca-file", ca.toString());
    assertEquals(ExitCodes.OK, code, err);
    JsonNode body = JSON.readTree(server.requests().get(0).body());
    assertEquals(JSON.readTree("""
        {"name":"hub","url":"https://registry-1.docker.io","upstreamName":"library/alpine","username":"bob",
         "password":"upstream-secret","verifyTls":false,
         "caCertificate":"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n",
         "includeTags":["3.*","latest"],"excludeTags":["*-rc"],"policy":"immediate","syncInterval":600}"""), body);
    assertTrue(out.contains("hasPassword:  true\n"), out);
    assertTrue(out.contains("includeTags:  3.*\n"), out);
  }

  @Test
  void remoteCreateDefaults() throws Exception {
    server.on("POST", "/api/v1/remotes", ok(201, "{\"name\":\"hub\"}"));
    assertEquals(ExitCodes.OK, run("remote", "create", "hub", "--url", "https://r.example", "--upstream-name", "a/b"));
    assertEquals(JSON.readTree("""
        {"name":"hub","url":"https://r.example","upstreamName":"a/b","verifyTls":true,"includeTags":[],"excludeTags":[],
         "syncInterval":null}"""), JSON.readTree(server.requests().get(0).body()));
  }

  @Test
  void repoSetSendsOnlyTheGivenFieldsAndKeepsSlashes() throws Exception {
    server.on("PUT", "/api/v1/repositories/library/alpine", ok(200, "{\"name\":\"library/alpine\",\"mirror\":false}"));
    assertEquals(ExitCodes.OK, run("repo", "set", "library/alpine", "--no-mirror", "--retain-versions", "5"));
    assertEquals(JSON.readTree("{\"mirror\":false,\"retainVersions\":5}"), JSON.readTree(server.requests().get(0).body()));
  }

  @Test
  void distributionUpdateLatestSendsVersionNull() throws Exception {
    server.on("PATCH", "/api/v1/distributions/web", ok(200, "{\"name\":\"web\",\"version\":null}"));
    assertEquals(ExitCodes.OK, run("--output", "json", "distribution", "update", "web", "--latest"));
    assertEquals("{\"version\":null}", server.requests().get(0).body());
    assertEquals(JSON.readTree("{\"name\":\"web\",\"version\":null}"), JSON.readTree(out));
  }

  @Test
  void listsQueryAndTabulate() {
    server.on("GET", "/api/v1/tasks?state=running&repository=library%2Falpine", ok(200, """
        {"tasks":[{"id":"t1","name":"sync","repository":"library/alpine","state":"running","created":"2026-01-02T10:00:00Z","node":"n1"}]}"""));
    assertEquals(ExitCodes.OK, run("task", "list", "--state", "running", "--repository", "library/alpine"));
    assertEquals("""
        ID  NAME  REPOSITORY      STATE    CREATED               NODE
        t1  sync  library/alpine  running  2026-01-02T10:00:00Z  n1
        """, out);
  }

  @Test
  void refusalsExitThreeWithTheServersMessage() {
    server.on("GET", "/api/v1/remotes/nope",
        ok(404, "{\"errors\":[{\"code\":\"REMOTE_UNKNOWN\",\"message\":\"no remote named nope\",\"detail\":{\"name\":\"nope\"}}]}"));
    assertEquals(ExitCodes.REFUSED, run("remote", "show", "nope"));
    assertEquals("error: no remote named nope\n", err);
    assertEquals("", out);

    server.on("POST", "/api/v1/tasks/t1/cancel", ok(409, "{\"errors\":[{\"code\":\"TASK_FINISHED\",\"message\":\"task t1 has finished\"}]}"));
    assertEquals(ExitCodes.REFUSED, run("task", "cancel", "t1"));
    assertEquals("error: task t1 has finished\n", err);
  }

  @Test
  void serverErrorsAndNoServerExitFour() throws Exception {
    server.on("GET", "/api/v1/remotes", ok(500, "<html>oops</html>"));
    assertEquals(ExitCodes.SERVER, run("remote", "list"));
    assertEquals("error: GET /api/v1/remotes: HTTP 500\n", err);

    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    assertEquals(ExitCodes.SERVER, run("--server", "http://127.0.0.1:" + port, "remote", "list"));
    assertEquals("error: cannot reach http://127.0.0.1:" + port + ": connection refused\n", err);
  }

  @Test
  void usageErrorsExitTwoAndSendNothing() {
    List<String[]> bad = new ArrayList<>();
    bad.add(new String[] {"repo", "set", "library/alpine"});
    bad.add(new String[] {"distribution", "create", "web", "--base-path", "web"});
    bad.add(new String[] {"distribution", "create", "web", "--base-path", "web", "--repository", "a", "--publication", "p"});
    bad.add(new String[] {"distribution", "update", "web", "--latest", "--version", "3"});
    bad.add(new String[] {"remote", "create", "hub", "--url", "u", "--upstream-name", "a", "--sync-interval", "10x"});
    bad.add(new String[] {"remote", "create", "hub", "--url", "u", "--upstream-name", "a", "--ca-file", "/no/such/file.pem"});
    bad.add(new String[] {"remote", "create", "hub", "--url", "u", "--upstream-name", "a", "--policy", "sometimes"});
    bad.add(new String[] {"--output", "yaml", "remote", "list"});
    bad.add(new String[] {"remote"});
    bad.add(new String[] {"repo", "version", "library/alpine", "three"});
    for (String[] args : bad) {
      assertEquals(ExitCodes.USAGE, run(args), String.join(" ", args) + ": " + err);
      assertTrue(err.startsWith("error: "), err);
    }
    assertEquals(List.of(), server.requests());
    assertEquals(ExitCodes.USAGE, run("remote", "create", "hub", "--url", "u", "--upstream-name", "a", "--sync-interval", "10x"));
    assertTrue(err.contains("'10x' is not a duration"), err);
  }

  @Test
  void deleteSaysWhatItDeleted() {
    server.on("DELETE", "/api/v1/distributions/web", ok(204, null));
    assertEquals(ExitCodes.OK, run("distribution", "delete", "web"));
    assertEquals("deleted distribution web\n", out);
  }
}
