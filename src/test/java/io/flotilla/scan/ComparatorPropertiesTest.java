package io.flotilla.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded randomized property tests: every comparator is a total order (reflexive, antisymmetric,
 * transitive) over realistic generated versions mixed with malformed strings, and sorting a shuffle
 * of a spec's ascending vectors gives them back in order. The seed is printed in failures.
 */
class ComparatorPropertiesTest {
  private static final long SEED = 0x5CA11EDL;
  private static final int SAMPLES = 250;

  static Stream<Arguments> ecosystems() {
    return Stream.of(
        Arguments.of("debian", new DebianComparator(), (Function<Random, String>) ComparatorPropertiesTest::debian,
            List.of("1~~", "1~~a", "1~", "1", "1a", "1.0~beta1~svn1245", "1.0~beta1", "1.0", "1.0-1", "1.0-1+b1",
                "1.0.1", "1:0.1")),
        Arguments.of("apk", new ApkComparator(), (Function<Random, String>) ComparatorPropertiesTest::apk,
            List.of("1.00", "1.005", "1.0_alpha", "1.0_beta2", "1.0_pre1", "1.0_rc1", "1.0", "1.0-r1", "1.0_cvs",
                "1.0_git1", "1.0_p1", "1.0a", "1.05", "1.5", "1.5.0")),
        Arguments.of("pep440", new Pep440Comparator(), (Function<Random, String>) ComparatorPropertiesTest::pep440,
            Pep440ComparatorTest.SPEC_ORDER),
        Arguments.of("maven", new MavenComparator(), (Function<Random, String>) ComparatorPropertiesTest::maven,
            List.of("1-alpha", "1-beta", "1-milestone", "1-rc", "1-snapshot", "1", "1-sp", "1.1")),
        Arguments.of("semver", new SemverComparator(), (Function<Random, String>) ComparatorPropertiesTest::semver,
            List.of("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ecosystems")
  void totalOrderOverGeneratedVersions(String name, VersionComparator cmp, Function<Random, String> gen,
                                       List<String> spec) {
    Random random = new Random(SEED ^ name.hashCode());
    List<String> versions = new ArrayList<>();
    int valid = 0;
    for (int i = 0; i < SAMPLES; i++) {
      String v = random.nextInt(10) == 0 ? garbage(random) : gen.apply(random);
      valid += cmp.valid(v) ? 1 : 0;
      versions.add(v);
    }
    versions.addAll(spec);
    assertTrue(valid > SAMPLES / 2, name + ": the generator should mostly make valid versions, made " + valid);
    for (String a : versions) {
      assertEquals(0, cmp.compare(a, a), name + " reflexive: " + a);
    }
    for (int i = 0; i < 4_000; i++) {
      String a = versions.get(random.nextInt(versions.size()));
      String b = versions.get(random.nextInt(versions.size()));
      String c = versions.get(random.nextInt(versions.size()));
      int ab = Integer.signum(cmp.compare(a, b));
      if (ab != -Integer.signum(cmp.compare(b, a))) {
        fail(name + " antisymmetry (seed " + SEED + "): " + a + " vs " + b);
      }
      int bc = Integer.signum(cmp.compare(b, c));
      int ac = Integer.signum(cmp.compare(a, c));
      if (ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0) {
        fail(name + " transitivity (seed " + SEED + "): " + a + ", " + b + ", " + c);
      }
    }
    // A sort (TimSort checks the contract on the way) must give an order in which every pair agrees.
    List<String> sorted = new ArrayList<>(versions);
    sorted.sort(cmp);
    for (int i = 0; i + 1 < sorted.size(); i++) {
      assertTrue(cmp.compare(sorted.get(i), sorted.get(i + 1)) <= 0, name + ": " + sorted.get(i) + " > " + sorted.get(i + 1));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ecosystems")
  void sortingAShuffledSpecListRestoresIt(String name, VersionComparator cmp, Function<Random, String> gen,
                                          List<String> spec) {
    Random random = new Random(SEED);
    for (int round = 0; round < 50; round++) {
      List<String> shuffled = new ArrayList<>(spec);
      Collections.shuffle(shuffled, random);
      shuffled.sort(cmp);
      assertEquals(spec, shuffled, name);
    }
  }

  private static String garbage(Random r) {
    String alphabet = "0123456789.-_~+:!abcxyzAZ ";
    StringBuilder sb = new StringBuilder();
    int n = r.nextInt(8);
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static String pick(Random r, String... options) {
    return options[r.nextInt(options.length)];
  }

  private static String num(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> "0";
      case 1 -> "0" + r.nextInt(10);
      case 2 -> String.valueOf(r.nextInt(100_000));
      default -> String.valueOf(r.nextInt(4));
    };
  }

  private static String dotted(Random r, int max) {
    StringBuilder sb = new StringBuilder(String.valueOf(r.nextInt(4)));
    int n = r.nextInt(max);
    for (int i = 0; i < n; i++) {
      sb.append('.').append(num(r));
    }
    return sb.toString();
  }

  static String debian(Random r) {
    StringBuilder sb = new StringBuilder();
    if (r.nextInt(5) == 0) {
      sb.append(r.nextInt(3)).append(':');
    }
    sb.append(dotted(r, 3));
    for (int i = r.nextInt(3); i > 0; i--) {
      sb.append(pick(r, "~", "+", ".", "a", "~rc", "+dfsg", "+git", "~beta", "b", "")).append(r.nextInt(3) == 0 ? "" : num(r));
    }
    if (r.nextBoolean()) {
      sb.append('-').append(num(r)).append(pick(r, "", "", "+b1", "+deb12u" + r.nextInt(3), "~bpo11+1", ".1", "ubuntu1"));
    }
    return sb.toString();
  }

  static String apk(Random r) {
    StringBuilder sb = new StringBuilder(dotted(r, 3));
    if (r.nextInt(5) == 0) {
      sb.append(pick(r, "a", "b", "z"));
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      sb.append('_').append(pick(r, "alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"));
      if (r.nextBoolean()) {
        sb.append(num(r));
      }
    }
    if (r.nextBoolean()) {
      sb.append("-r").append(r.nextInt(12));
    }
    return sb.toString();
  }

  static String pep440(Random r) {
    StringBuilder sb = new StringBuilder();
    if (r.nextInt(8) == 0) {
      sb.append(r.nextInt(3)).append('!');
    }
    sb.append(dotted(r, 3));
    if (r.nextInt(3) == 0) {
      sb.append(pick(r, "a", "b", "rc", "alpha", ".beta", "-c", "pre")).append(r.nextBoolean() ? String.valueOf(r.nextInt(4)) : "");
    }
    if (r.nextInt(4) == 0) {
      sb.append(pick(r, ".post", "-", ".rev", "post")).append(r.nextInt(4));
    }
    if (r.nextInt(4) == 0) {
      sb.append(pick(r, ".dev", "dev", "-dev")).append(r.nextBoolean() ? String.valueOf(r.nextInt(4)) : "");
    }
    if (r.nextInt(5) == 0) {
      sb.append('+').append(pick(r, "abc", "1", "ubuntu", "2", "abc.5", "abc.7", "5.abc"));
    }
    return sb.toString();
  }

  static String maven(Random r) {
    StringBuilder sb = new StringBuilder(dotted(r, 3));
    if (r.nextInt(3) == 0) {
      sb.append(pick(r, "-", ".", "")).append(pick(r, "alpha", "beta", "M", "RC", "cr", "SNAPSHOT", "ga", "final",
          "sp", "jre", "android", "Final", "RELEASE"));
      if (r.nextBoolean()) {
        sb.append(r.nextInt(4));
      }
    }
    return sb.toString();
  }

  static String semver(Random r) {
    StringBuilder sb = new StringBuilder(r.nextInt(4) == 0 ? "v" : "");
    sb.append(r.nextInt(3)).append('.').append(r.nextInt(12)).append('.').append(r.nextInt(3));
    if (r.nextInt(3) == 0) {
      sb.append('-').append(pick(r, "alpha", "beta", "rc", "0", "1", "11", "alpha.1", "beta.2", "rc.1.2",
          "20191109021931-daa7c04131f5", "0.20191109021931-daa7c04131f5", "pre.0.20200101000000-abcdef012345"));
    }
    if (r.nextInt(5) == 0) {
      sb.append('+').append(pick(r, "incompatible", "build.1", "sha.5114f85"));
    }
    return sb.toString();
  }
}
