package io.flotilla.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.config.AuthConfig;
import io.flotilla.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AccessPolicyTest {
  private static final List<String> ALL = List.of("read", "create", "update", "delete");

  private static AccessPolicy policy(List<AuthConfig.Policy> policies) {
    return new AccessPolicy(new AuthConfig(true, Path.of("htpasswd"), List.of("admin", "ops"),
        Map.of("ci", List.of("robot"), "ops", List.of("carol")), policies, Duration.ofMinutes(5),
        Duration.ofHours(24), 10));
  }

  private static AuthConfig.Policy users(String glob, List<String> users, List<String> actions) {
    return new AuthConfig.Policy(glob, users, List.of(), actions, List.of(), List.of());
  }

  private static AuthConfig.Policy groups(String glob, List<String> groups, List<String> actions) {
    return new AuthConfig.Policy(glob, List.of(), groups, actions, List.of(), List.of());
  }

  private static AuthConfig.Policy anonymous(String glob, List<String> actions) {
    return new AuthConfig.Policy(glob, List.of(), List.of(), List.of(), actions, List.of());
  }

  @Test
  void globsMatchWithinAndAcrossSegments() {
    assertTrue(new RepositoryPattern("team/*").matches("team/app"));
    assertFalse(new RepositoryPattern("team/*").matches("team/app/x"));
    assertTrue(new RepositoryPattern("team/**").matches("team/app/x"));
    assertFalse(new RepositoryPattern("team/**").matches("team"));
    assertFalse(new RepositoryPattern("team/**").matches("teams/app"));
    assertTrue(new RepositoryPattern("**").matches("a/b/c"));
    assertTrue(new RepositoryPattern("**/base").matches("base"));
    assertTrue(new RepositoryPattern("**/base").matches("x/y/base"));
    assertTrue(new RepositoryPattern("app-*").matches("app-1"));
    assertFalse(new RepositoryPattern("app-*").matches("app-1/x"));
    assertFalse(new RepositoryPattern("a.b").matches("axb"), "a dot is literal");
  }

  @Test
  void theMostSpecificMatchingPatternDecidesAlone() {
    AccessPolicy p = policy(List.of(
        anonymous("**", List.of("read")),
        users("team/**", List.of("alice"), ALL),
        users("team/secret", List.of("bob"), List.of("read"))));
    Principal alice = p.principal("alice");
    assertEquals(EnumSet.allOf(Action.class), p.allowed(alice, "team/app"));
    // team/secret is more specific than team/**: only bob reads it, alice gets nothing
    assertEquals(Set.of(), p.allowed(alice, "team/secret"));
    assertEquals(Set.of(Action.READ), p.allowed(p.principal("bob"), "team/secret"));
    // anonymous reads outside team/, not inside (team/** is more specific and grants anonymous nothing)
    assertEquals(Set.of(Action.READ), p.allowed(Principal.NOBODY, "library/alpine"));
    assertEquals(Set.of(), p.allowed(Principal.NOBODY, "team/app"));
    // an authenticated user keeps what anonymous has
    assertEquals(Set.of(Action.READ), p.allowed(alice, "library/alpine"));
  }

  @Test
  void groupsAuthenticatedAndAdmins() {
    AccessPolicy p = policy(List.of(
        groups("ci/**", List.of("ci"), List.of("read", "create")),
        new AuthConfig.Policy("shared/**", List.of(), List.of(), List.of(), List.of(), List.of("read"))));
    assertEquals(Set.of(Action.READ, Action.CREATE), p.allowed(p.principal("robot"), "ci/build"));
    assertEquals(Set.of(), p.allowed(p.principal("alice"), "ci/build"));
    assertEquals(Set.of(Action.READ), p.allowed(p.principal("alice"), "shared/x"));
    assertEquals(Set.of(), p.allowed(Principal.NOBODY, "shared/x"));
    assertTrue(p.principal("admin").admin());
    assertTrue(p.principal("carol").admin(), "carol is in the ops group, which is an admin");
    assertEquals(EnumSet.allOf(Action.class), p.allowed(p.principal("carol"), "anything/at/all"));
    assertFalse(p.mayRead("anonymous", "ci/build"));
    assertTrue(p.mayRead("robot", "ci/build"));
  }

  @Test
  void nothingMatchingMeansNothingAllowed() {
    AccessPolicy p = policy(List.of(users("team/**", List.of("alice"), ALL)));
    assertEquals(Set.of(), p.allowed(p.principal("alice"), "other/x"));
  }

  @Test
  void offMeansEverythingForEveryone() {
    AccessPolicy p = new AccessPolicy(AuthConfig.OPEN);
    assertEquals(EnumSet.allOf(Action.class), p.allowed(Principal.NOBODY, "x"));
    assertTrue(p.mayRead("anonymous", "x"));
  }

  @Test
  void invalidPoliciesAreRefusedNamingTheKey() {
    assertThrows(ConfigException.class, () -> users("Team/**", List.of("a"), ALL));
    assertThrows(ConfigException.class, () -> users("team/../x", List.of("a"), ALL).repositories().length());
    assertThrows(ConfigException.class, () -> users("team/**", List.of("a"), List.of("write")));
    assertThrows(ConfigException.class, () -> users("team/**", List.of(), List.of("read")));
    assertThrows(ConfigException.class, () -> users("team/**", List.of("anonymous"), List.of("read")));
  }
}
