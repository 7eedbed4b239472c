// The per-request CPU cost of access control on the hot path, measured in-process without HTTP
// (a benchmark, not a test): what AccessGate adds to a manifest GET with a cached bearer token,
// with Basic credentials (cached after the first bcrypt), and the one-time costs (an ES256 verify
// of a token not seen before, a bcrypt check). Run against the built jar:
//
//   java -cp target/flotilla.jar bench/AuthCost.java [iterations]
//
// Single-file source program so the bench project needs no compile-time dependency on the server.
import io.flotilla.auth.AccessPolicy;
import io.flotilla.auth.Action;
import io.flotilla.auth.Authenticator;
import io.flotilla.auth.Grant;
import io.flotilla.auth.Htpasswd;
import io.flotilla.auth.LoginThrottle;
import io.flotilla.auth.TokenKeys;
import io.flotilla.auth.TokenService;
import io.flotilla.config.AuthConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.security.crypto.bcrypt.BCrypt;

public class AuthCost {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
    Path dir = Files.createTempDirectory("authcost");
    Path htpasswd = Files.writeString(dir.resolve("htpasswd"),
        "bench:" + BCrypt.hashpw("bench-pw", BCrypt.gensalt(10)).replace("$2a$", "$2y$") + "\n");
    AuthConfig config = new AuthConfig(true, htpasswd, List.of(), Map.of(), List.of(
        new AuthConfig.Policy("team/**", List.of("bench"), List.of(), List.of("read", "create"), List.of(), List.of()),
        new AuthConfig.Policy("**", List.of(), List.of(), List.of(), List.of("read"), List.of())),
        Duration.ofMinutes(5), Duration.ofHours(24), 10);
    Vertx vertx = Vertx.vertx();
    AccessPolicy policy = new AccessPolicy(config);
    TokenKeys keys = new TokenKeys("bench", Duration.ofMinutes(5), Clock.systemUTC());
    TokenService tokens = new TokenService(keys, Duration.ofMinutes(5), Clock.systemUTC(),
        (node, kid) -> Future.failedFuture("single node"));
    Authenticator auth = new Authenticator(vertx, policy, Htpasswd.load(htpasswd), k -> Optional.empty(), tokens,
        new LoginThrottle(10, Clock.systemUTC()), Clock.systemUTC(), new SimpleMeterRegistry());
    String bearer = "Bearer " + tokens.issue("bench", List.of(new Grant("repository", "team/app", Set.of("pull")))).token();
    String basic = "Basic " + Base64.getEncoder().encodeToString("bench:bench-pw".getBytes());
    auth.authenticate(basic, "127.0.0.1").toCompletionStage().toCompletableFuture().get(); // one bcrypt, then cached

    for (int round = 0; round < 3; round++) {
      System.out.printf("round %d: bearer (cached) %.0f ns/request, basic (cached) %.0f ns/request%n", round,
          perOp(n, () -> gate(auth, policy, bearer)), perOp(n, () -> gate(auth, policy, basic)));
    }
    int fresh = 2000;
    List<String> unseen = new java.util.ArrayList<>();
    for (int i = 0; i < fresh; i++) {
      unseen.add(tokens.issue("bench", List.of()).token());
    }
    long t0 = System.nanoTime();
    for (String t : unseen) {
      new TokenService(keys, Duration.ofMinutes(5), Clock.systemUTC(), (a, b) -> Future.failedFuture("x")).verify(t);
    }
    System.out.printf("first sight of a token (ES256 verify): %.1f us%n", (System.nanoTime() - t0) / 1e3 / fresh);
    Htpasswd users = Htpasswd.load(htpasswd);
    t0 = System.nanoTime();
    for (int i = 0; i < 10; i++) {
      users.check("bench", "bench-pw");
    }
    System.out.printf("bcrypt check (cost 10, first Basic login or token request): %.1f ms%n",
        (System.nanoTime() - t0) / 1e6 / 10);
    vertx.close();
  }

  private static boolean gate(Authenticator auth, AccessPolicy policy, String header) {
    var caller = auth.authenticate(header, "127.0.0.1").result();
    return policy.allowed(caller.principal(), "team/app").contains(Action.READ)
        && (!caller.bearer() || caller.token().grants("team/app", "pull"));
  }

  private static double perOp(int n, java.util.function.BooleanSupplier op) {
    int ok = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      ok += op.getAsBoolean() ? 1 : 0;
    }
    if (ok != n) {
      throw new IllegalStateException("denied " + (n - ok) + " of " + n);
    }
    return (System.nanoTime() - t0) / (double) n;
  }
}
