package io.flotilla.auth;

import io.flotilla.bus.Messages.TokenKeyInfo;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The keys bearer tokens are signed and verified with. Each node signs with its own EC P-256 key
 * pair, made at start and replaced every rotation period; the key id ({@code kid}) is
 * {@code <node>~<random>}, so a verifier knows which node to ask for an unknown public key (over
 * the authenticated bus). Retired keys keep verifying until every token they signed has expired.
 * Public keys learnt from other nodes are remembered for as long. Thread-safe.
 */
public final class TokenKeys {
  /** A signing key of this node. */
  public record SigningKey(String kid, KeyPair pair, long createdMillis) {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MAX_REMOTE = 1024;

  private final String node;
  private final Duration tokenTtl;
  private final Clock clock;
  private volatile SigningKey current;
  private final Map<String, SigningKey> retired = new ConcurrentHashMap<>();
  private final Map<String, Remembered> remote = new ConcurrentHashMap<>();

  private record Remembered(PublicKey key, long untilMillis) {}

  public TokenKeys(String node, Duration tokenTtl, Clock clock) {
    this.node = node;
    this.tokenTtl = tokenTtl;
    this.clock = clock;
    this.current = generate();
  }

  public SigningKey current() {
    return current;
  }

  /** Starts signing with a new key; the old one verifies until its last token has expired. */
  public void rotate() {
    SigningKey old = current;
    current = generate();
    retired.put(old.kid(), old);
    long cutoff = clock.millis() - tokenTtl.toMillis() * 2;
    retired.values().removeIf(k -> k != old && k.createdMillis() < cutoff);
    remote.values().removeIf(r -> r.untilMillis() < clock.millis());
  }

  /** The node that made a key id, or empty when the id is not one of ours. */
  public static Optional<String> nodeOf(String kid) {
    int at = kid == null ? -1 : kid.lastIndexOf('~');
    return at <= 0 ? Optional.empty() : Optional.of(kid.substring(0, at));
  }

  public boolean isLocal(String kid) {
    return nodeOf(kid).map(node::equals).orElse(false);
  }

  /** This node's public key for {@code kid}, as served to the other nodes. */
  public Optional<TokenKeyInfo> local(String kid) {
    SigningKey k = current.kid().equals(kid) ? current : retired.get(kid);
    if (k == null) {
      return Optional.empty();
    }
    long until = clock.millis() + tokenTtl.toMillis() * 2;
    return Optional.of(new TokenKeyInfo(k.kid(), k.pair().getPublic().getEncoded(), until));
  }

  /** The key that verifies {@code kid}, if this node has it (its own, or one learnt); null otherwise. */
  public PublicKey known(String kid) {
    SigningKey c = current;
    if (c.kid().equals(kid)) {
      return c.pair().getPublic();
    }
    SigningKey r = retired.get(kid);
    if (r != null) {
      return r.pair().getPublic();
    }
    Remembered m = remote.get(kid);
    return m != null && m.untilMillis() > clock.millis() ? m.key() : null;
  }

  /** Remembers another node's public key; refuses anything but an EC key under a kid of that node. */
  public PublicKey remember(TokenKeyInfo info, String fromNode) {
    if (!nodeOf(info.kid()).map(fromNode::equals).orElse(false)) {
      throw new IllegalArgumentException("node " + fromNode + " served a key id of another node");
    }
    try {
      PublicKey key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(info.encoded()));
      if (remote.size() >= MAX_REMOTE) {
        remote.clear();
      }
      long until = Math.min(info.validUntilMillis(), clock.millis() + tokenTtl.toMillis() * 2);
      remote.put(info.kid(), new Remembered(key, until));
      return key;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an EC public key", e);
    }
  }

  private SigningKey generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      byte[] id = new byte[6];
      RANDOM.nextBytes(id);
      return new SigningKey(node + "~" + HexFormat.of().formatHex(id), g.generateKeyPair(), clock.millis());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no EC P-256 in this JVM", e);
    }
  }
}
