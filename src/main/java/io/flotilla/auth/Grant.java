package io.flotilla.auth;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One entry of a bearer token's {@code access} claim and of a token request's {@code scope}:
 * {@code repository:<name>:pull,push,delete} or {@code registry:catalog:*}, in the Docker token
 * format. Parsing is strict: a scope that does not parse is ignored (granted nothing).
 *
 * @param type {@code repository} or {@code registry}
 * @param name a repository name, or {@code catalog}
 * @param actions {@code pull}, {@code push}, {@code delete}, or {@code *}
 */
public record Grant(String type, String name, Set<String> actions) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  private static final Set<String> REPO_ACTIONS = Set.of("pull", "push", "delete", "*");

  public Grant {
    actions = Set.copyOf(actions);
  }

  public static final Grant CATALOG = new Grant("registry", "catalog", Set.of("*"));

  /**
   * Parses the {@code scope} parameters of a token request; {@code scope} may hold several
   * space-separated scopes. Unknown or malformed scopes are dropped.
   */
  public static List<Grant> parseScopes(List<String> scopes) {
    List<Grant> out = new ArrayList<>();
    for (String s : scopes) {
      if (s == null || s.length() > 4096) {
        continue;
      }
      for (String one : s.trim().split(" +")) {
        Grant g = parse(one);
        if (g != null) {
          out.add(g);
        }
      }
    }
    return out;
  }

  static Grant parse(String scope) {
    int first = scope.indexOf(':');
    int last = scope.lastIndexOf(':');
    if (first <= 0 || last == first) {
      return null;
    }
    String type = scope.substring(0, first);
    String name = scope.substring(first + 1, last);
    Set<String> actions = new LinkedHashSet<>();
    for (String a : scope.substring(last + 1).split(",")) {
      if (!a.isBlank()) {
        actions.add(a.trim());
      }
    }
    if (type.equals("registry") && name.equals("catalog")) {
      return CATALOG;
    }
    if (!type.equals("repository") || name.length() > 255 || !NAME.matcher(name).matches()
        || actions.isEmpty() || !REPO_ACTIONS.containsAll(actions)) {
      return null;
    }
    return new Grant(type, name, actions);
  }

  /** The token actions that {@code allowed} policy actions amount to. */
  public static Set<String> tokenActions(Set<Action> allowed) {
    Set<String> out = new LinkedHashSet<>();
    if (allowed.contains(Action.READ)) {
      out.add("pull");
    }
    if (allowed.contains(Action.CREATE) || allowed.contains(Action.UPDATE)) {
      out.add("push");
    }
    if (allowed.contains(Action.DELETE)) {
      out.add("delete");
    }
    return out;
  }

  /** The token action a policy action needs. */
  public static String tokenAction(Action a) {
    return switch (a) {
      case READ -> "pull";
      case CREATE, UPDATE -> "push";
      case DELETE -> "delete";
    };
  }
}
