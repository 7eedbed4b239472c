package io.flotilla.scan;

import java.util.Comparator;

/**
 * The version ordering of one packaging ecosystem, used to decide whether an installed version falls
 * inside an advisory's affected range. Implementations are stateless and thread-safe.
 *
 * <p>{@link #compare} never throws, whatever the input: versions that {@link #valid} rejects sort
 * after every valid version, among themselves by {@link String#compareTo}, and {@code null} sorts last.
 * That fallback keeps the ordering total (antisymmetric and transitive) over any mix of strings, so a
 * sort or a range check on bad data finishes; callers that must not guess (the range evaluation) check
 * {@link #valid} first and skip what it rejects.
 */
public interface VersionComparator extends Comparator<String> {

  /** Whether {@code version} is a well-formed version of this ecosystem (false for {@code null}). */
  boolean valid(String version);

  /**
   * Negative, zero or positive as {@code a} sorts before, equal to or after {@code b} in this
   * ecosystem; two different strings may compare equal (for example {@code 1.0} and {@code 1} in PEP 440).
   */
  @Override
  int compare(String a, String b);
}
