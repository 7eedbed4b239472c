package io.flotilla.auth;

import java.util.Set;

/**
 * Who a request comes from, once authenticated: a user of the htpasswd file (directly, through an
 * API key or through a bearer token) or the anonymous caller. Its name is what travels on the bus
 * in {@code RequestContext.identity} and what events carry in {@code actor.name}.
 *
 * @param name the user name, or {@link #ANONYMOUS}
 * @param groups the groups the configuration puts the user in
 * @param admin whether the user (or one of its groups) is an admin
 */
public record Principal(String name, Set<String> groups, boolean admin) {
  public static final String ANONYMOUS = "anonymous";
  /** The key under which the HTTP layer keeps the caller's principal in a routing context. */
  public static final String KEY = "flotilla.principal";
  public static final Principal NOBODY = new Principal(ANONYMOUS, Set.of(), false);

  public Principal {
    groups = Set.copyOf(groups == null ? Set.of() : groups);
  }

  public boolean authenticated() {
    return !ANONYMOUS.equals(name);
  }
}
