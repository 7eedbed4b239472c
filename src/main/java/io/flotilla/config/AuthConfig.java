package io.flotilla.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Access control. Absent (no {@code auth.*} key at all) means the open registry of old, with a loud
 * warning at start; present means every request is authenticated and authorised by the policies.
 *
 * @param enabled whether access control is on
 * @param htpasswd bcrypt htpasswd file with the users
 * @param admins users and groups that may do everything, including the whole admin API
 * @param groups group name to member user names
 * @param policies who may do what on which repositories (the most specific matching pattern decides)
 * @param tokenTtl lifetime of the bearer tokens {@code /auth/token} issues
 * @param keyRotation how often a node replaces the key it signs tokens with (each node makes its own
 *     EC P-256 key pair and serves the public keys to the other nodes over the authenticated bus)
 * @param loginFailures failed logins allowed per client address and per user name within a minute
 *     before further attempts are answered 429
 */
public record AuthConfig(boolean enabled, Path htpasswd, List<String> admins, Map<String, List<String>> groups,
    List<Policy> policies, Duration tokenTtl, Duration keyRotation, int loginFailures) {
  public static final AuthConfig OPEN = new AuthConfig(false, null, List.of(), Map.of(), List.of(),
      Duration.ofMinutes(5), Duration.ofHours(24), 10);

  /** The four actions a policy grants on repositories. */
  public static final Set<String> ACTIONS = Set.of("read", "create", "update", "delete");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");
  private static final Set<String> RESERVED = Set.of("anonymous", "authenticated", "flotilla");

  public AuthConfig {
    admins = List.copyOf(admins == null ? List.of() : admins);
    policies = List.copyOf(policies == null ? List.of() : policies);
    Map<String, List<String>> g = new LinkedHashMap<>();
    if (groups != null) {
      groups.forEach((k, v) -> {
        checkName("auth.groups", k);
        for (String u : v) {
          checkName("auth.groups." + k, u);
        }
        g.put(k, List.copyOf(v));
      });
    }
    groups = Map.copyOf(g);
    for (String a : admins) {
      checkName("auth.admins", a);
    }
    if (enabled && htpasswd == null) {
      throw new ConfigException("auth.htpasswd", "is required when auth is configured");
    }
    if (tokenTtl == null || tokenTtl.toSeconds() < 10 || tokenTtl.toHours() > 24) {
      throw new ConfigException("auth.tokenTtl", "must be between 10s and 24h");
    }
    if (keyRotation == null || keyRotation.compareTo(tokenTtl.multipliedBy(2)) < 0) {
      throw new ConfigException("auth.keyRotation", "must be at least twice auth.tokenTtl");
    }
    if (loginFailures < 1 || loginFailures > 10_000) {
      throw new ConfigException("auth.loginFailures", "must be between 1 and 10000, was " + loginFailures);
    }
  }

  private static void checkName(String key, String name) {
    if (name == null || !NAME.matcher(name).matches() || RESERVED.contains(name)) {
      throw new ConfigException(key, "'" + name + "' is not a valid user or group name (reserved: " + RESERVED + ")");
    }
  }

  /**
   * One policy entry.
   *
   * @param repositories repository glob: {@code *} matches within a path segment, {@code **} across
   *     segments
   * @param users user names granted {@code actions}
   * @param groups group names granted {@code actions}
   * @param actions actions granted to {@code users} and {@code groups}
   * @param anonymous actions granted to callers without credentials
   * @param authenticated actions granted to every authenticated caller
   */
  public record Policy(String repositories, List<String> users, List<String> groups, List<String> actions,
      List<String> anonymous, List<String> authenticated) {
    private static final Pattern GLOB = Pattern.compile("[a-z0-9._*/-]+");

    public Policy {
      if (repositories == null || !GLOB.matcher(repositories).matches() || repositories.startsWith("/")
          || repositories.endsWith("/") || repositories.contains("//") || repositories.contains("***")
          || java.util.Arrays.stream(repositories.split("/")).anyMatch(seg -> seg.equals(".") || seg.equals(".."))) {
        throw new ConfigException("auth.policies.repositories", "'" + repositories
            + "' is not a repository pattern (lower-case name components, * and **)");
      }
      users = List.copyOf(users == null ? List.of() : users);
      groups = List.copyOf(groups == null ? List.of() : groups);
      actions = checkActions("auth.policies.actions", actions);
      anonymous = checkActions("auth.policies.anonymous", anonymous);
      authenticated = checkActions("auth.policies.authenticated", authenticated);
      for (String u : users) {
        checkName("auth.policies.users", u);
      }
      for (String gr : groups) {
        checkName("auth.policies.groups", gr);
      }
      if (!actions.isEmpty() && users.isEmpty() && groups.isEmpty()) {
        throw new ConfigException("auth.policies.actions", "grant for '" + repositories + "' names no users or groups");
      }
    }

    private static List<String> checkActions(String key, List<String> actions) {
      List<String> out = List.copyOf(actions == null ? List.of() : actions);
      for (String a : out) {
        if (!ACTIONS.contains(a)) {
          throw new ConfigException(key, "'" + a + "' is not one of " + ACTIONS);
        }
      }
      return out;
    }
  }
}
