package io.flotilla.auth;

import io.flotilla.config.AuthConfig;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The configured policies, evaluated: who a user is (groups, admin) and what a principal may do on
 * a repository. Among the patterns that match a repository, the most specific decides alone (a
 * narrower pattern can take away what a broader one grants); patterns of equal specificity add
 * up. Admins may do everything. With access control off every caller may do everything.
 * Decisions are cached per (principal, repository); the policies never change while a node runs.
 */
public final class AccessPolicy {
  private static final int CACHE_LIMIT = 50_000;

  private final boolean enabled;
  private final Set<String> admins;
  private final Map<String, List<String>> groupMembers;
  private final List<Rule> rules;
  private final Map<String, Set<Action>> cache = new ConcurrentHashMap<>();

  private record Rule(RepositoryPattern pattern, AuthConfig.Policy policy) {}

  public AccessPolicy(AuthConfig config) {
    this.enabled = config.enabled();
    this.admins = Set.copyOf(config.admins());
    this.groupMembers = config.groups();
    List<Rule> r = new ArrayList<>();
    for (AuthConfig.Policy p : config.policies()) {
      r.add(new Rule(new RepositoryPattern(p.repositories()), p));
    }
    this.rules = List.copyOf(r);
  }

  public boolean enabled() {
    return enabled;
  }

  /** The principal of an authenticated user name (its groups and admin flag from the configuration). */
  public Principal principal(String user) {
    if (user == null || user.isEmpty() || Principal.ANONYMOUS.equals(user)) {
      return Principal.NOBODY;
    }
    Set<String> groups = new HashSet<>();
    groupMembers.forEach((g, members) -> {
      if (members.contains(user)) {
        groups.add(g);
      }
    });
    boolean admin = admins.contains(user) || groups.stream().anyMatch(admins::contains);
    return new Principal(user, groups, admin);
  }

  /** What {@code p} may do on {@code repository} (a validated name). */
  public Set<Action> allowed(Principal p, String repository) {
    if (!enabled || p.admin()) {
      return EnumSet.allOf(Action.class);
    }
    String key = p.name() + '\n' + repository;
    Set<Action> hit = cache.get(key);
    if (hit != null) {
      return hit;
    }
    Set<Action> out = evaluate(p, repository);
    if (cache.size() >= CACHE_LIMIT) {
      cache.clear();
    }
    cache.put(key, out);
    return out;
  }

  public boolean may(Principal p, String repository, Action action) {
    return allowed(p, repository).contains(action);
  }

  /** Whether the identity carried in a bus message may read {@code repository} (catalog filtering). */
  public boolean mayRead(String identity, String repository) {
    return !enabled || may(principal(identity), repository, Action.READ);
  }

  private Set<Action> evaluate(Principal p, String repository) {
    long best = -1;
    EnumSet<Action> out = EnumSet.noneOf(Action.class);
    for (Rule r : rules) {
      if (!r.pattern().matches(repository)) {
        continue;
      }
      long s = r.pattern().specificity();
      if (s > best) {
        best = s;
        out.clear();
      } else if (s < best) {
        continue;
      }
      grant(out, r.policy(), p);
    }
    return Set.copyOf(out);
  }

  private static void grant(EnumSet<Action> out, AuthConfig.Policy policy, Principal p) {
    if (!p.authenticated()) {
      policy.anonymous().forEach(a -> out.add(Action.of(a)));
      return;
    }
    policy.authenticated().forEach(a -> out.add(Action.of(a)));
    policy.anonymous().forEach(a -> out.add(Action.of(a)));
    boolean named = policy.users().contains(p.name()) || policy.groups().stream().anyMatch(p.groups()::contains);
    if (named) {
      policy.actions().forEach(a -> out.add(Action.of(a)));
    }
  }
}
