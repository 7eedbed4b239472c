package io.flotilla.auth;

import java.util.Locale;

/** What a policy grants on a repository. */
public enum Action {
  /** Pull: manifests, blobs, tags, referrers, and seeing the repository in the catalog. */
  READ,
  /** Push what is new: blobs, manifests by digest, tags that do not exist yet. */
  CREATE,
  /** Move an existing tag to another manifest. */
  UPDATE,
  /** Delete manifests, tags and blobs. */
  DELETE;

  public static Action of(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
