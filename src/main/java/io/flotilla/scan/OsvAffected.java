package io.flotilla.scan;

import java.util.List;

/**
 * The version part of one OSV {@code affected[]} entry for a package: its ranges and its explicit
 * {@code versions} list (either may be empty). The package and ecosystem are held by the caller.
 */
public record OsvAffected(List<OsvRange> ranges, List<String> versions) {
  public OsvAffected {
    ranges = List.copyOf(ranges);
    versions = List.copyOf(versions);
  }
}
