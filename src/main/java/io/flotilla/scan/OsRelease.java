package io.flotilla.scan;

import java.util.Objects;

/**
 * The operating system an image declares, from {@code os-release(5)} or a distribution's version file.
 * {@link #UNKNOWN} (empty id) stands for "no OS file found"; fields are never {@code null}.
 *
 * @param id {@code ID}, e.g. {@code debian}, {@code alpine}, {@code ubuntu}
 * @param versionId {@code VERSION_ID}, e.g. {@code 12} or {@code 3.19.1}; empty if not stated
 * @param codename {@code VERSION_CODENAME}, e.g. {@code bookworm}; empty if not stated
 * @param path the file it was read from, e.g. {@code etc/os-release}
 */
public record OsRelease(String id, String versionId, String codename, String path) {
  /** No OS information. */
  public static final OsRelease UNKNOWN = new OsRelease("", "", "", "");

  public OsRelease {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(versionId, "versionId");
    Objects.requireNonNull(codename, "codename");
    Objects.requireNonNull(path, "path");
  }

  /** True unless this is {@link #UNKNOWN}. */
  public boolean known() {
    return !id.isEmpty();
  }
}
