package io.flotilla.auth;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * This node's copy of the cluster's API keys: all of them in memory, so {@link #verify} is a map
 * lookup and one SHA-256 and never touches the disk; every change is saved ({@link ApiKeyFile})
 * before the method that made it returns. Thread-safe: reads are lock-free, changes are serialised.
 *
 * <p><b>Why SHA-256 and not bcrypt.</b> A slow hash protects low-entropy secrets (passwords) from
 * guessing once the hashes leak. A key's secret is 32 bytes from {@link SecureRandom}: 2^256
 * candidates, so a leaked SHA-256 cannot be reversed by guessing, and the check stays cheap enough
 * to run on every request (bcrypt would cost ~100 ms of CPU per request authenticated by a key).
 *
 * <p><b>Replication.</b> Nodes exchange the records (hashes, never secrets) and {@link #merge} them:
 * the union by id, and a revocation wins (the largest {@code revokedMillis} is kept); records are
 * otherwise immutable. A key revoked or expired for {@link #RETENTION} is forgotten ({@link #prune})
 * and refused by {@code merge}, so no node brings it back. A node whose file is older than that
 * (it was down longer) cannot tell a live key of its own from one the others revoked and forgot:
 * its keys are <i>unconfirmed</i> (they do not verify and are not offered to peers) until
 * {@link #confirm} keeps those a peer still knows; a running node re-saves its file daily.
 *
 * <p>Blocking: the constructor ({@link #open}), {@link #create}, {@link #revoke}, {@link #merge},
 * {@link #confirm} and {@link #prune} write the file; call them from worker threads. The others
 * are safe on an event loop.
 */
public final class ApiKeys {
  public static final int MAX_PER_USER = 100;
  public static final int MAX_TOTAL = 10_000;
  /** How long revoked and expired keys are remembered (and listed) before they are forgotten. */
  public static final Duration RETENTION = Duration.ofDays(7);
  private static final long RESAVE_MILLIS = Duration.ofDays(1).toMillis();
  private static final Pattern USER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9 ._@:/+-]{0,63}");
  private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

  /**
   * A key just created: its record and its full text, which exists nowhere else and cannot be
   * shown again. {@code toString} leaves the text out.
   */
  public record Created(ApiKey apiKey, String key) {
    @Override
    public String toString() {
      return "Created[" + apiKey.id() + " of " + apiKey.user() + "]";
    }
  }

  /** A create refused because a bound is reached ({@link #MAX_PER_USER}, {@link #MAX_TOTAL}). */
  public static final class LimitException extends RuntimeException {
    LimitException(String message) {
      super(message);
    }
  }

  private final ApiKeyFile file;
  private final LongSupplier clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, ApiKey> keys = new ConcurrentHashMap<>();
  private final Set<String> unconfirmed = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private long savedMillis;

  private ApiKeys(ApiKeyFile file, LongSupplier clock) {
    this.file = file;
    this.clock = clock;
  }

  /** Loads {@code <dataDir>/_auth/apikeys.json} (none yet: no keys). Blocking. */
  public static ApiKeys open(Path dataDir) {
    return open(dataDir, System::currentTimeMillis);
  }

  /** {@link #open(Path)} with a clock (epoch milliseconds), for tests. */
  public static ApiKeys open(Path dataDir, LongSupplier clock) {
    ApiKeys k = new ApiKeys(new ApiKeyFile(dataDir), clock);
    ApiKeyFile.Content c = k.file.load();
    if (c != null) {
      long now = clock.getAsLong();
      boolean stale = c.savedMillis() < now - RETENTION.toMillis();
      for (ApiKey key : c.keys()) {
        if (wellFormed(key)) {
          k.keys.put(key.id(), key);
          if (stale) {
            k.unconfirmed.add(key.id());
          }
        }
      }
      k.savedMillis = c.savedMillis();
    }
    return k;
  }

  /**
   * Creates a key for {@code user}. Blocking (saves the file).
   *
   * @param name the owner's label
   * @param expiresMillis when it stops working (in the future), or 0 for never
   * @throws IllegalArgumentException when the user, name or expiry is not acceptable
   * @throws LimitException when the user has {@link #MAX_PER_USER} live keys or the node
   *     {@link #MAX_TOTAL} keys
   */
  public Created create(String user, String name, long expiresMillis) {
    if (user == null || !USER.matcher(user).matches() || Principal.ANONYMOUS.equals(user)) {
      throw new IllegalArgumentException("not a valid user name");
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("name must be 1 to 64 characters: letters, digits, space and ._@:/+- "
          + "(starting with a letter or digit)");
    }
    synchronized (lock) {
      long now = clock.getAsLong();
      if (expiresMillis != 0 && expiresMillis <= now) {
        throw new IllegalArgumentException("the expiry must be in the future");
      }
      if (keys.size() >= MAX_TOTAL) {
        throw new LimitException("this registry holds " + MAX_TOTAL + " API keys, the most it allows");
      }
      long own = keys.values().stream().filter(k -> k.user().equals(user) && k.live(now)).count();
      if (own >= MAX_PER_USER) {
        throw new LimitException("user " + user + " has " + MAX_PER_USER + " live API keys, the most allowed: revoke one first");
      }
      ApiKeyFormat.Fresh fresh;
      do {
        fresh = ApiKeyFormat.generate(random);
      } while (keys.containsKey(fresh.id()));
      ApiKey key = new ApiKey(fresh.id(), user, name, now, expiresMillis, 0, fresh.secretSha256());
      keys.put(key.id(), key);
      try {
        save(now);
      } catch (RuntimeException e) {
        keys.remove(key.id());
        throw e;
      }
      return new Created(key, fresh.text());
    }
  }

  /** The keys of {@code user}, revoked and expired ones included until they are forgotten, oldest first. */
  public List<ApiKey> list(String user) {
    return keys.values().stream().filter(k -> k.user().equals(user)).sorted(ORDER).toList();
  }

  /** Every key of every user, oldest first. */
  public List<ApiKey> listAll() {
    return keys.values().stream().sorted(ORDER).toList();
  }

  /** The key with this id, if this node knows it. */
  public Optional<ApiKey> get(String id) {
    return id == null ? Optional.empty() : Optional.ofNullable(keys.get(id));
  }

  /**
   * Revokes a key at {@code millis}; revoking it again changes nothing. Blocking (saves the file).
   *
   * @return the key as it is now, or empty if this node does not know the id
   */
  public Optional<ApiKey> revoke(String id, long millis) {
    synchronized (lock) {
      ApiKey k = id == null ? null : keys.get(id);
      if (k == null) {
        return Optional.empty();
      }
      ApiKey revoked = k.revokedAt(millis);
      if (revoked != k) {
        keys.put(id, revoked); // in force before it is saved: a failed save must not leave it usable
        save(clock.getAsLong());
      }
      return Optional.of(revoked);
    }
  }

  /**
   * The user {@code presented} authenticates as: present when it is a well-formed key whose id is
   * known, confirmed, neither revoked nor expired, and whose secret hashes to the stored hash
   * (compared in constant time). Never throws, never blocks; malformed input of any size is refused
   * by its length or characters before any hashing.
   */
  public Optional<String> verify(String presented) {
    ApiKeyFormat.Parsed p = ApiKeyFormat.parse(presented);
    if (p == null) {
      return Optional.empty();
    }
    ApiKey k = keys.get(p.id());
    if (k == null || !k.live(clock.getAsLong()) || unconfirmed.contains(k.id())) {
      return Optional.empty();
    }
    byte[] expected = HexFormat.of().parseHex(k.secretSha256());
    return MessageDigest.isEqual(expected, ApiKeyFormat.sha256(p.secret())) ? Optional.of(k.user()) : Optional.empty();
  }

  /** Keys that verify now. */
  public long liveCount() {
    long now = clock.getAsLong();
    return keys.values().stream().filter(k -> k.live(now) && !unconfirmed.contains(k.id())).count();
  }

  /** What this node offers its peers: every key but the unconfirmed ones. */
  public List<ApiKey> snapshot() {
    return keys.values().stream().filter(k -> !unconfirmed.contains(k.id())).sorted(ORDER).toList();
  }

  /** Whether some keys wait for {@link #confirm} (this node was down longer than {@link #RETENTION}). */
  public boolean unconfirmed() {
    return !unconfirmed.isEmpty();
  }

  /**
   * Merges records from a peer: unknown ids are added, a revocation wins, malformed records and
   * records due to be forgotten are ignored; an unconfirmed key the peer knows is confirmed.
   * Blocking when something changed (saves the file).
   *
   * @return whether this node's set changed
   */
  public boolean merge(Collection<ApiKey> incoming) {
    synchronized (lock) {
      long now = clock.getAsLong();
      boolean changed = false;
      for (ApiKey in : incoming) {
        if (!wellFormed(in) || in.prunableAfter(RETENTION.toMillis()) <= now) {
          continue;
        }
        unconfirmed.remove(in.id());
        ApiKey mine = keys.get(in.id());
        ApiKey merged = mine == null ? in : combine(mine, in);
        if (!merged.equals(mine)) {
          keys.put(in.id(), merged);
          changed = true;
        }
      }
      if (changed) {
        save(now);
      }
      return changed;
    }
  }

  /**
   * Ends the doubt about unconfirmed keys. {@code authoritative}: a peer with no unconfirmed keys of
   * its own answered, and every unconfirmed key it did not know ({@link #merge} confirmed those it
   * did) was revoked or expired and forgotten there: it goes. Otherwise (no other node, or only
   * nodes as stale as this one) nobody knows better and the keys are kept. Blocking.
   */
  public void confirm(boolean authoritative) {
    synchronized (lock) {
      if (unconfirmed.isEmpty()) {
        return;
      }
      if (authoritative) {
        unconfirmed.forEach(keys::remove);
      }
      unconfirmed.clear();
      save(clock.getAsLong());
    }
  }

  /**
   * Forgets keys revoked or expired more than {@link #RETENTION} ago, and re-saves the file when it
   * is a day old (its time tells a restarted node how long it was away). Blocking.
   *
   * @return how many keys were forgotten
   */
  public int prune() {
    synchronized (lock) {
      long now = clock.getAsLong();
      int before = keys.size();
      keys.values().removeIf(k -> k.prunableAfter(RETENTION.toMillis()) <= now);
      int removed = before - keys.size();
      if (removed > 0 || savedMillis < now - RESAVE_MILLIS) {
        save(now);
      }
      return removed;
    }
  }

  private void save(long now) {
    file.save(now, keys.values().stream().sorted(ORDER).toList());
    savedMillis = now;
  }

  private static ApiKey combine(ApiKey a, ApiKey b) {
    long revoked = Math.max(a.revokedMillis(), b.revokedMillis());
    // Ids are random (~95 bits): two different keys with one id do not happen; should they, every
    // node keeps the same one.
    ApiKey base = sameKey(a, b) || a.secretSha256().compareTo(b.secretSha256()) <= 0 ? a : b;
    return revoked == base.revokedMillis() ? base
        : new ApiKey(base.id(), base.user(), base.name(), base.createdMillis(), base.expiresMillis(), revoked,
            base.secretSha256());
  }

  private static boolean sameKey(ApiKey a, ApiKey b) {
    return a.user().equals(b.user()) && a.name().equals(b.name()) && a.createdMillis() == b.createdMillis()
        && a.expiresMillis() == b.expiresMillis() && a.secretSha256().equals(b.secretSha256());
  }

  private static boolean wellFormed(ApiKey k) {
    return k != null && ApiKeyFormat.validId(k.id()) && k.user() != null && USER.matcher(k.user()).matches()
        && k.name() != null && k.name().length() <= 64 && k.secretSha256() != null
        && HEX.matcher(k.secretSha256()).matches() && k.expiresMillis() >= 0 && k.revokedMillis() >= 0;
  }

  private static final Comparator<ApiKey> ORDER = Comparator.comparingLong(ApiKey::createdMillis).thenComparing(ApiKey::id);
}
