package io.flotilla.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Function;

/**
 * Compact JWS with ES256 only (ECDSA P-256, SHA-256, signatures in the JOSE r||s form), as the
 * bearer tokens need it: a fixed algorithm, a {@code kid} naming the verification key, nothing
 * else. Anything else in the header ({@code alg: none}, HS256 with the public key as a secret,
 * embedded {@code jwk} or {@code jku}) is refused before any key is looked up. Stateless and
 * thread-safe.
 */
public final class Jwt {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder D64 = Base64.getUrlDecoder();
  private static final String ALG = "SHA256withECDSAinP1363Format";
  /** Tokens are small; anything longer is refused before it is decoded. */
  public static final int MAX_LENGTH = 16 * 1024;

  private Jwt() {}

  /** Signs {@code claims} with {@code key}, naming it {@code kid}. */
  public static String sign(ObjectNode claims, String kid, PrivateKey key) {
    try {
      ObjectNode header = JSON.createObjectNode().put("typ", "JWT").put("alg", "ES256").put("kid", kid);
      String input = B64.encodeToString(JSON.writeValueAsBytes(header)) + "."
          + B64.encodeToString(JSON.writeValueAsBytes(claims));
      Signature s = Signature.getInstance(ALG);
      s.initSign(key);
      s.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(s.sign());
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot sign a token", e);
    }
  }

  /** A token's parts, decoded but not yet verified. */
  public record Parsed(String kid, String signingInput, byte[] signature, JsonNode claims) {}

  /** Decodes a token's structure; empty when it is not an ES256 JWS with a kid. */
  public static Optional<Parsed> parse(String token) {
    if (token == null || token.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    int a = token.indexOf('.');
    int b = a < 0 ? -1 : token.indexOf('.', a + 1);
    if (a <= 0 || b <= a + 1 || b == token.length() - 1 || token.indexOf('.', b + 1) >= 0) {
      return Optional.empty();
    }
    try {
      JsonNode header = JSON.readTree(D64.decode(token.substring(0, a)));
      if (header == null || !header.isObject() || !"ES256".equals(header.path("alg").asText())
          || !header.path("kid").isTextual() || header.size() > 3
          || (header.has("typ") && !"JWT".equals(header.path("typ").asText()))) {
        return Optional.empty();
      }
      JsonNode claims = JSON.readTree(D64.decode(token.substring(a + 1, b)));
      byte[] sig = D64.decode(token.substring(b + 1));
      if (claims == null || !claims.isObject() || sig.length != 64) {
        return Optional.empty();
      }
      return Optional.of(new Parsed(header.get("kid").asText(), token.substring(0, b), sig, claims));
    } catch (IllegalArgumentException | java.io.IOException e) {
      return Optional.empty();
    }
  }

  /** Whether {@code p}'s signature was made by the private half of {@code key}. */
  public static boolean verify(Parsed p, PublicKey key) {
    try {
      Signature s = Signature.getInstance(ALG);
      s.initVerify(key);
      s.update(p.signingInput().getBytes(StandardCharsets.US_ASCII));
      return s.verify(p.signature());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Parses and verifies in one step, looking the key up by kid; empty when anything is wrong. */
  public static Optional<JsonNode> verified(String token, Function<String, PublicKey> keys) {
    return parse(token).flatMap(p -> {
      PublicKey k = keys.apply(p.kid());
      return k != null && verify(p, k) ? Optional.of(p.claims()) : Optional.empty();
    });
  }
}
