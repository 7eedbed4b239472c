package io.flotilla.content;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncProgressTest {
  @Test
  void startsWithEveryStageWaiting() {
    List<StageReport> stages = new SyncProgress().snapshot();
    assertEquals(List.of(SyncProgress.TAGS, SyncProgress.MANIFESTS, SyncProgress.BLOBS),
        stages.stream().map(StageReport::code).toList());
    stages.forEach(s -> assertEquals(new StageReport(s.code(), "waiting", SyncState.WAITING, 0, 0, 0, 0), s));
  }

  @Test
  void countsItemsAndBytesAndSnapshotsDoNotChangeAfterwards() {
    SyncProgress p = new SyncProgress();
    p.start(SyncProgress.BLOBS, "copying");
    p.add(SyncProgress.BLOBS, 3, 3000);
    StageReport early = p.stage(SyncProgress.BLOBS);
    p.advance(SyncProgress.BLOBS, 0, 1000);
    p.advance(SyncProgress.BLOBS, 1, 0);
    p.advance(SyncProgress.BLOBS, 0, 500);
    p.advance(SyncProgress.BLOBS, 1, -500); // a transfer that failed gives its bytes back
    p.finish(SyncProgress.BLOBS, SyncState.COMPLETED, "copied 1, 1 failed");
    assertEquals(new StageReport(SyncProgress.BLOBS, "copying", SyncState.RUNNING, 0, 3, 0, 3000), early);
    assertEquals(new StageReport(SyncProgress.BLOBS, "copied 1, 1 failed", SyncState.COMPLETED, 2, 3, 1000, 3000),
        p.stage(SyncProgress.BLOBS));
  }

  @Test
  void skipRestEndsOnlyTheStagesThatAreNotOver() {
    SyncProgress p = new SyncProgress();
    p.start(SyncProgress.TAGS, "listing");
    p.finish(SyncProgress.TAGS, SyncState.FAILED, "cannot list");
    p.start(SyncProgress.MANIFESTS, "fetching");
    p.skipRest("the tags could not be listed");
    assertEquals(List.of(SyncState.FAILED, SyncState.SKIPPED, SyncState.SKIPPED),
        p.snapshot().stream().map(StageReport::state).toList());
    assertEquals("cannot list", p.stage(SyncProgress.TAGS).message());
  }

  @Test
  void concurrentUpdatesAreAllCounted() throws InterruptedException {
    SyncProgress p = new SyncProgress();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      threads.add(new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          p.add(SyncProgress.BLOBS, 1, 7);
          p.advance(SyncProgress.BLOBS, 1, 7);
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    StageReport blobs = p.stage(SyncProgress.BLOBS);
    assertEquals(40_000, blobs.total());
    assertEquals(40_000, blobs.done());
    assertEquals(280_000, blobs.bytesTotal());
    assertEquals(280_000, blobs.bytesDone());
  }
}
