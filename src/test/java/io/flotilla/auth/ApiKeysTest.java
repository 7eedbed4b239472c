package io.flotilla.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiKeysTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final long DAY = Duration.ofDays(1).toMillis();

  @TempDir
  Path dir;
  final AtomicLong now = new AtomicLong(T0);

  ApiKeys keys() {
    return ApiKeys.open(dir, now::get);
  }

  @Test
  void aKeyHasTheDocumentedFormatAndVerifiesAsItsUser() {
    ApiKeys keys = keys();
    ApiKeys.Created c = keys.create("alice", "ci", 0);
    assertTrue(c.key().matches("flt_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}"), "format");
    assertTrue(c.key().startsWith("flt_" + c.apiKey().id() + "_"));
    assertEquals(Optional.of("alice"), keys.verify(c.key()));
    assertEquals("alice", c.apiKey().user());
    assertEquals("ci", c.apiKey().name());
    assertEquals(T0, c.apiKey().createdMillis());
    assertFalse(c.toString().contains(c.key().substring(21)), "toString leaves the secret out");
    assertNotEquals(c.key(), keys.create("alice", "ci", 0).key(), "every key is new");
  }

  @Test
  void onlyTheHashIsStored() throws Exception {
    ApiKeys.Created c = keys().create("alice", "ci", 0);
    String saved = Files.readString(dir.resolve("_auth/apikeys.json"), StandardCharsets.UTF_8);
    String secret = c.key().substring(21);
    assertFalse(saved.contains(secret));
    assertTrue(saved.contains(c.apiKey().secretSha256()));
    assertEquals(64, c.apiKey().secretSha256().length());
  }

  @Test
  void aWrongSecretOrUnknownIdIsRefused() {
    ApiKeys keys = keys();
    String key = keys.create("alice", "ci", 0).key();
    char last = key.charAt(key.length() - 2);
    String wrongSecret = key.substring(0, key.length() - 2) + (last == 'A' ? 'B' : 'A') + key.charAt(key.length() - 1);
    assertEquals(Optional.empty(), keys.verify(wrongSecret));
    String otherId = "flt_" + "Z".repeat(16) + key.substring(20);
    assertEquals(Optional.empty(), keys.verify(otherId));
    assertEquals(Optional.empty(), keys().verify(key.substring(0, 20) + "_" + "A".repeat(43)));
  }

  @Test
  void malformedInputIsRefusedWithoutExceptions() {
    ApiKeys keys = keys();
    String key = keys.create("alice", "ci", 0).key();
    List<String> bad = List.of("", "flt_", "flt__", key.replace("flt_", "flx_"), key.replace("flt_", "FLT_"),
        key + "A", key.substring(0, key.length() - 1), "x".repeat(10_000_000), key.replace('_', '.'),
        key.substring(0, 21) + "!".repeat(43), key.substring(0, 21) + "=".repeat(43),
        "flt_" + key.substring(4, 20).replace(key.charAt(5), '-') + key.substring(20), " " + key.substring(1),
        key.substring(0, 20) + "-" + key.substring(21), "flt_\u00e9" + key.substring(5));
    for (String s : bad) {
      assertEquals(Optional.empty(), keys.verify(s), () -> "refused: " + s.substring(0, Math.min(80, s.length())));
    }
    assertEquals(Optional.empty(), keys.verify(null));
  }

  @Test
  void anExpiredKeyIsRefused() {
    ApiKeys keys = keys();
    String key = keys.create("alice", "ci", T0 + DAY).key();
    assertEquals(Optional.of("alice"), keys.verify(key));
    now.set(T0 + DAY - 1);
    assertEquals(Optional.of("alice"), keys.verify(key));
    now.set(T0 + DAY);
    assertEquals(Optional.empty(), keys.verify(key));
    assertEquals(0, keys.liveCount());
  }

  @Test
  void aRevokedKeyIsRefusedAndRevokingAgainChangesNothing() {
    ApiKeys keys = keys();
    ApiKeys.Created c = keys.create("alice", "ci", 0);
    String other = keys.create("alice", "cd", 0).key();
    assertEquals(T0 + 5, keys.revoke(c.apiKey().id(), T0 + 5).orElseThrow().revokedMillis());
    assertEquals(Optional.empty(), keys.verify(c.key()));
    assertEquals(Optional.of("alice"), keys.verify(other));
    assertEquals(T0 + 5, keys.revoke(c.apiKey().id(), T0 + 9).orElseThrow().revokedMillis());
    assertEquals(Optional.empty(), keys.revoke("NoSuchKeyAtAll0", T0));
    assertEquals(Optional.empty(), keys.revoke(null, T0));
  }

  @Test
  void keysSurviveAReload() {
    ApiKeys keys = keys();
    ApiKeys.Created live = keys.create("alice", "ci", 0);
    ApiKeys.Created gone = keys.create("bob", "cd", T0 + DAY);
    keys.revoke(gone.apiKey().id(), T0 + 1);
    ApiKeys again = keys();
    assertEquals(keys.listAll(), again.listAll());
    assertEquals(Optional.of("alice"), again.verify(live.key()));
    assertEquals(Optional.empty(), again.verify(gone.key()));
    assertEquals(List.of(live.apiKey()), again.list("alice"));
  }

  @Test
  void badCreatesAreRefused() {
    ApiKeys keys = keys();
    assertThrows(IllegalArgumentException.class, () -> keys.create("alice", "", 0));
    assertThrows(IllegalArgumentException.class, () -> keys.create("alice", "x".repeat(65), 0));
    assertThrows(IllegalArgumentException.class, () -> keys.create("alice", "new\nline", 0));
    assertThrows(IllegalArgumentException.class, () -> keys.create("", "ci", 0));
    assertThrows(IllegalArgumentException.class, () -> keys.create("anonymous", "ci", 0));
    assertThrows(IllegalArgumentException.class, () -> keys.create("alice", "ci", T0));
    assertEquals(List.of(), keys.listAll());
  }

  @Test
  void aUserHasAtMostAHundredLiveKeys() {
    ApiKeys keys = keys();
    ApiKeys.Created first = keys.create("alice", "k", 0);
    for (int i = 1; i < ApiKeys.MAX_PER_USER; i++) {
      keys.create("alice", "k" + i, 0);
    }
    ApiKeys.LimitException e = assertThrows(ApiKeys.LimitException.class, () -> keys.create("alice", "more", 0));
    assertTrue(e.getMessage().contains("revoke"), e.getMessage());
    keys.create("bob", "k", 0);
    keys.revoke(first.apiKey().id(), T0);
    keys.create("alice", "more", 0);
  }

  @Test
  void keysRevokedOrExpiredAWeekAgoAreForgotten() {
    ApiKeys keys = keys();
    ApiKeys.Created revoked = keys.create("alice", "r", 0);
    ApiKeys.Created expiring = keys.create("alice", "e", T0 + DAY);
    ApiKeys.Created live = keys.create("alice", "l", 0);
    keys.revoke(revoked.apiKey().id(), T0);
    now.set(T0 + 7 * DAY - 1);
    assertEquals(0, keys.prune());
    now.set(T0 + 7 * DAY);
    assertEquals(1, keys.prune());
    assertTrue(keys.get(expiring.apiKey().id()).isPresent(), "expired at T0 + 1 day: kept a week from then");
    now.set(T0 + 8 * DAY);
    assertEquals(1, keys.prune());
    assertEquals(List.of(live.apiKey()), keys().listAll());
  }

  @Test
  void mergeIsAUnionInWhichRevocationWins() {
    ApiKeys a = keys();
    ApiKeys b = ApiKeys.open(dir.resolve("b"), now::get);
    ApiKeys.Created ka = a.create("alice", "a", 0);
    ApiKeys.Created kb = b.create("bob", "b", 0);
    assertTrue(b.merge(a.snapshot()));
    assertTrue(a.merge(b.snapshot()));
    assertFalse(a.merge(b.snapshot()), "nothing new");
    assertEquals(a.listAll(), b.listAll());
    assertEquals(Optional.of("alice"), b.verify(ka.key()));
    assertEquals(Optional.of("bob"), a.verify(kb.key()));

    b.revoke(ka.apiKey().id(), T0 + 3);
    assertFalse(b.merge(a.snapshot()), "a live copy does not undo a revocation");
    assertEquals(Optional.empty(), b.verify(ka.key()));
    assertTrue(a.merge(b.snapshot()));
    assertEquals(Optional.empty(), a.verify(ka.key()));
    ApiKeys.Created kc = a.create("carol", "c", 0);
    b.merge(a.snapshot());
    a.revoke(kc.apiKey().id(), T0 + 1);
    b.revoke(kc.apiKey().id(), T0 + 2);
    assertFalse(b.merge(a.snapshot()));
    assertTrue(a.merge(b.snapshot()));
    assertEquals(T0 + 2, a.get(kc.apiKey().id()).orElseThrow().revokedMillis(), "concurrent revocations: the later time");
    assertEquals(a.listAll(), b.listAll());
    assertEquals(Optional.of("bob"), ApiKeys.open(dir.resolve("b"), now::get).verify(kb.key()), "merges are saved");
  }

  @Test
  void mergeIgnoresMalformedAndForgottenRecords() {
    ApiKeys keys = keys();
    String hash = "0".repeat(64);
    List<ApiKey> junk = List.of(new ApiKey("short", "u", "n", T0, 0, 0, hash),
        new ApiKey("AAAAAAAAAAAAAAAA", "u", "n", T0, 0, 0, "nothex"),
        new ApiKey("BBBBBBBBBBBBBBBB", null, "n", T0, 0, 0, hash),
        new ApiKey("CCCCCCCCCCCCCCCC", "u", "n", T0, T0 - 8 * DAY, 0, hash),
        new ApiKey("DDDDDDDDDDDDDDDD", "u", "n", T0, 0, T0 - 7 * DAY, hash));
    assertFalse(keys.merge(junk));
    assertEquals(List.of(), keys.listAll());
  }

  @Test
  void aNodeAwayLongerThanTheRetentionDoesNotBringBackAForgottenRevocation() {
    ApiKeys a = keys();
    Path bDir = dir.resolve("b");
    ApiKeys b = ApiKeys.open(bDir, now::get);
    ApiKeys.Created revoked = a.create("alice", "old", 0);
    ApiKeys.Created kept = a.create("alice", "kept", 0);
    b.merge(a.snapshot());
    // b goes down; a revokes one key and forgets it a week later
    a.revoke(revoked.apiKey().id(), T0 + 1);
    now.set(T0 + 10 * DAY);
    a.prune();
    ApiKeys back = ApiKeys.open(bDir, now::get);
    assertTrue(back.unconfirmed());
    assertEquals(List.of(), back.snapshot(), "unconfirmed keys are not offered to peers");
    assertEquals(Optional.empty(), back.verify(kept.key()), "nor accepted");
    assertEquals(0, a.listAll().stream().filter(k -> k.id().equals(revoked.apiKey().id())).count());
    back.merge(a.snapshot());
    back.confirm(true);
    assertFalse(back.unconfirmed());
    assertEquals(Optional.empty(), back.verify(revoked.key()));
    assertEquals(Optional.of("alice"), back.verify(kept.key()));
    assertEquals(Optional.empty(), back.get(revoked.apiKey().id()));
  }

  @Test
  void aLoneStaleNodeKeepsItsKeys() {
    ApiKeys.Created c = keys().create("alice", "ci", 0);
    now.set(T0 + 30 * DAY);
    ApiKeys back = keys();
    assertEquals(Optional.empty(), back.verify(c.key()));
    back.confirm(false);
    assertEquals(Optional.of("alice"), back.verify(c.key()));
    assertFalse(keys().unconfirmed(), "confirmation is saved");
  }
}
