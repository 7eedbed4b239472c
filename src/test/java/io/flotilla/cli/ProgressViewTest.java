package io.flotilla.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressViewTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MIB = 1024 * 1024;
  private static final long SECOND = 1_000_000_000L;

  private static JsonNode task(String state, long blobsDone, long bytesDone) throws Exception {
    return JSON.readTree("""
        {"id":"t1","name":"sync","repository":"library/alpine","state":"%s","someFutureField":{"x":1},
         "progressReports":[
          {"action":"sync","stage":"sync.tags","message":"3 tags","done":3,"total":3,"state":"completed","bytesDone":0,"bytesTotal":0},
          {"action":"publish","stage":"publish","message":"waiting","done":0,"total":0,"state":"waiting","bytesDone":0,"bytesTotal":0},
          {"action":"sync","stage":"sync.blobs","message":"copying blobs","done":%d,"total":30,"state":"running","bytesDone":%d,"bytesTotal":%d,"extra":true}
         ]}""".formatted(state, blobsDone, bytesDone, 190 * MIB));
  }

  @Test
  void rowsAreGroupedByActionWithBarCountBytesAndMessage() throws Exception {
    ProgressView view = new ProgressView(false, 200);
    List<ProgressView.Row> rows = view.rows(task("running", 12, 84 * MIB), 0);
    assertEquals(List.of("sync/sync.tags", "sync/sync.blobs", "publish/publish"), rows.stream().map(ProgressView.Row::key).toList());
    assertEquals("sync       sync.tags       [####################]     3/3                         completed   3 tags",
        rows.get(0).text());
    assertEquals("sync       sync.blobs      [########------------]   12/30  84.0 MiB/190.0 MiB                 copying blobs",
        rows.get(1).text());
    assertEquals("publish    publish         [--------------------]       -                         waiting     waiting",
        rows.get(2).text());
    assertEquals("task t1  sync library/alpine  running", view.header(task("running", 12, 84 * MIB)));
  }

  @Test
  void rateComesFromByteDeltasOverTimeAndIsSmoothed() throws Exception {
    ProgressView view = new ProgressView(false, 200);
    view.rows(task("running", 0, 0), 0);
    String first = view.rows(task("running", 5, 10 * MIB), SECOND).get(1).text();
    assertTrue(first.contains("  10.0 MiB/s  "), first);
    // 20 MiB in the next second: 0.4 * 20 + 0.6 * 10 = 14
    String second = view.rows(task("running", 10, 30 * MIB), 2 * SECOND).get(1).text();
    assertTrue(second.contains("  14.0 MiB/s  "), second);
    // a snapshot too soon after the last keeps the rate rather than measuring noise
    String soon = view.rows(task("running", 10, 31 * MIB), 2 * SECOND + 1000).get(1).text();
    assertTrue(soon.contains("  14.0 MiB/s  "), soon);
    // nothing moved for 2 s: the rate falls but not at once
    String stalled = view.rows(task("running", 10, 30 * MIB), 4 * SECOND).get(1).text();
    assertTrue(stalled.contains("  8.4 MiB/s  "), stalled);
  }

  @Test
  void signatureChangesOnlyWithStateOrCounts() throws Exception {
    ProgressView view = new ProgressView(false, 200);
    String a = view.rows(task("running", 12, 10 * MIB), 0).get(1).signature();
    String sameCountMoreBytes = view.rows(task("running", 12, 20 * MIB), SECOND).get(1).signature();
    String moreDone = view.rows(task("running", 13, 20 * MIB), 2 * SECOND).get(1).signature();
    assertEquals(a, sameCountMoreBytes);
    assertNotEquals(a, moreDone);
  }

  @Test
  void colourOnlyWhenAsked() throws Exception {
    String plain = new ProgressView(false, 200).rows(task("running", 1, 1), 0).get(0).text();
    String colored = new ProgressView(true, 200).rows(task("running", 1, 1), 0).get(0).text();
    assertFalse(plain.contains("\033"));
    assertTrue(colored.contains("\033[32m[####################]\033[0m"), colored);
  }

  @Test
  void longMessagesAreCutToTheWidth() throws Exception {
    ProgressView view = new ProgressView(false, 80);
    List<ProgressView.Row> rows = view.rows(task("running", 12, 84 * MIB), 0);
    for (ProgressView.Row r : rows) {
      assertTrue(r.text().length() <= 79, r.text());
    }
    assertEquals("sync       sync.blobs      [########------------]   12/30  84.0 MiB/190.0 MiB", rows.get(1).text());
    String wide = new ProgressView(false, 103).rows(task("running", 12, 84 * MIB), 0).get(1).text();
    assertTrue(wide.endsWith("  copying"), wide);
  }

  @Test
  void summaryNamesStateDurationAndCreatedResources() throws Exception {
    JsonNode done = JSON.readTree("""
        {"id":"t1","state":"completed","started":"2026-01-02T10:00:00Z","finished":"2026-01-02T10:00:12.345Z",
         "createdResources":["/api/v1/repositories/library/alpine/versions/3","/api/v1/publications/p1"]}""");
    assertEquals(List.of("task t1 completed in 12.3s", "created:", "  /api/v1/repositories/library/alpine/versions/3",
        "  /api/v1/publications/p1"), new ProgressView(false, 100).summary(done));
    assertNull(ProgressView.error(done));
  }

  @Test
  void errorMayBeAStringOrAnObject() throws Exception {
    assertEquals("upstream said 401", ProgressView.error(JSON.readTree("{\"error\":\"upstream said 401\"}")));
    assertEquals("no such tag", ProgressView.error(JSON.readTree("{\"error\":{\"code\":\"X\",\"message\":\"no such tag\"}}")));
    assertEquals("X", ProgressView.error(JSON.readTree("{\"error\":{\"code\":\"X\"}}")));
    assertNull(ProgressView.error(JSON.readTree("{\"error\":null}")));
  }

  @Test
  void unitsAndBars() {
    assertEquals("512 B", ProgressView.bytes(512));
    assertEquals("1.0 KiB", ProgressView.bytes(1024));
    assertEquals("84.1 MiB", ProgressView.bytes((long) (84.1 * MIB)));
    assertEquals("2.0 GiB", ProgressView.bytes(2048 * MIB));
    assertEquals("[##########----------]", ProgressView.bar(15, 30, "running", 20));
    assertEquals("[####################]", ProgressView.bar(0, 0, "completed", 20));
    assertEquals("[--------------------]", ProgressView.bar(0, 0, "running", 20));
    assertEquals("[####################]", ProgressView.bar(40, 30, "running", 20));
  }
}
