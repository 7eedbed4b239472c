package io.flotilla.scan;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiled vulnerability database: OSV advisories indexed by (ecosystem, release, package) for matching
 * image inventories, and their display text by id. Built once by {@link OsvImporter}, then immutable and
 * safe to share between threads; {@link #match} allocates only per call and holds no lock. For re-matching
 * many images at once (a database activation) a {@link #batchMatcher} per thread also remembers verdicts
 * of (package, version) pairs that images share. Advisory versions are parsed once when the database is
 * built.
 *
 * <p>Matching is keyed by ecosystem only (no CPE guessing):
 * <ul>
 *   <li>{@link PackageType#DEB} by source package and source version against {@code Debian:<major>} when the
 *       image's {@code ID} is {@code debian}, against {@code Ubuntu:<YY.MM>} (any {@code :LTS}, {@code Pro:}
 *       variant) when it is {@code ubuntu}; {@link PackageType#APK} by origin and origin version against
 *       {@code Alpine:v<major.minor>} when it is {@code alpine}. OS packages of an image with another or no
 *       OS are not matched.</li>
 *   <li>{@link PackageType#MAVEN} by {@code groupId:artifactId}, {@link PackageType#NPM} by name,
 *       {@link PackageType#PYPI} by PEP 503-normalised name, {@link PackageType#GO} by module path with the
 *       leading {@code v} of the installed version dropped ({@code stdlib}: {@code v1.21} becomes
 *       {@code 1.21.0}, {@code v1.21rc2} becomes {@code 1.21.0-rc.2}, as the Go vulnerability database
 *       writes toolchain versions).</li>
 * </ul>
 * The verdict and fixed version come from {@link AffectedRanges#evaluate}. A finding names the installed
 * (binary) package, its path and version. One finding per (display id, package, path, installed version):
 * of several records with the same display id, the more severe wins, then the lower record id.
 */
public final class VulnDb {

  /**
   * What an import kept and skipped.
   *
   * @param records records compiled (distinct ids with at least one usable affected entry)
   * @param affectedEntries affected entries indexed
   * @param unsupportedRecords records without an affected package of a supported ecosystem and release
   * @param malformedRecords entries that are not valid JSON or not OSV records
   * @param withdrawnRecords records marked {@code withdrawn}
   * @param duplicateRecords records whose id was seen before (one copy is kept)
   * @param ignoredEntries zip entries not named {@code *.json}
   * @param affectedPerEcosystem affected entries indexed, by ecosystem
   */
  public record Stats(int records, int affectedEntries, int unsupportedRecords, int malformedRecords,
      int withdrawnRecords, int duplicateRecords, int ignoredEntries, Map<Ecosystem, Integer> affectedPerEcosystem) {
    public Stats {
      affectedPerEcosystem = Map.copyOf(affectedPerEcosystem);
    }

    /** Records not compiled: unsupported, malformed and withdrawn ones. */
    public int skippedRecords() {
      return unsupportedRecords + malformedRecords + withdrawnRecords;
    }
  }

  /** The index key: release is "" for language ecosystems; name is normalised by {@link #packageKey}. */
  private record Key(Ecosystem ecosystem, String release, String name) {}

  /** One compiled affected entry with what a finding needs of its record. */
  private record Entry(OsvAffected versions, String recordId, String displayId, Severity severity) {}

  private static final Pattern MAJOR_MINOR = Pattern.compile("v?(\\d+)\\.(\\d+)(?:[^0-9].*)?");
  private static final Pattern UBUNTU_RELEASE = Pattern.compile("(?:^|:)(\\d+\\.\\d+)(?::|$)");
  private static final Pattern GO_TOOLCHAIN = Pattern.compile("(\\d+)\\.(\\d+)(?:\\.(\\d+))?(?:(alpha|beta|rc)(\\d+))?");
  private static final Pattern PEP503 = Pattern.compile("[-_.]+");
  private static final Comparator<OsvRecord> PREFERRED =
      Comparator.comparing(OsvRecord::severity).reversed().thenComparing(OsvRecord::id);
  private static final Comparator<Finding> FINDING_ORDER = (a, b) -> {
    int c = a.id().compareTo(b.id());
    if (c == 0) {
      c = a.packageName().compareTo(b.packageName());
    }
    if (c == 0) {
      c = a.packagePath().compareTo(b.packagePath());
    }
    return c != 0 ? c : a.installedVersion().compareTo(b.installedVersion());
  };

  private final String digest;
  private final Stats stats;
  private final Map<Key, Entry[]> index;
  private final Map<String, Advisory> advisories;
  /** Parsed advisory versions per comparator instance (Debian and Ubuntu share one), read-only once built. */
  private final Map<VersionComparator, Map<String, Object>> parsed;

  VulnDb(String digest, Collection<OsvRecord> records, Stats stats) {
    this.digest = digest == null ? "" : digest;
    this.stats = stats;
    Map<Key, List<Entry>> lists = new HashMap<>();
    Map<String, List<OsvRecord>> byDisplay = new HashMap<>();
    for (OsvRecord r : records) {
      byDisplay.computeIfAbsent(r.displayId(), k -> new ArrayList<>()).add(r);
      for (OsvRecord.Affected a : r.affected()) {
        Severity s = a.severity() != null ? a.severity() : r.severity();
        lists.computeIfAbsent(new Key(a.ecosystem(), a.release(), a.name()), k -> new ArrayList<>())
            .add(new Entry(a.versions(), r.id(), r.displayId(), s));
      }
    }
    Map<VersionComparator, Map<String, Object>> keys = new IdentityHashMap<>();
    for (Map.Entry<Key, List<Entry>> e : lists.entrySet()) {
      for (Entry entry : e.getValue()) {
        for (OsvRange range : entry.versions().ranges()) {
          VersionComparator cmp = range.type() == OsvRange.Type.SEMVER ? Ecosystem.semver()
              : e.getKey().ecosystem().comparator();
          Map<String, Object> table = keys.computeIfAbsent(cmp, c -> new HashMap<>());
          for (OsvRange.Event ev : range.events()) {
            MemoComparator.parseInto(cmp, ev.version(), table);
          }
        }
      }
    }
    this.parsed = keys;
    Map<Key, Entry[]> idx = new HashMap<>(lists.size() * 2);
    lists.forEach((k, v) -> idx.put(k, v.toArray(new Entry[0])));
    this.index = idx;
    Map<String, Advisory> adv = new HashMap<>(byDisplay.size() * 2);
    byDisplay.forEach((id, rs) -> adv.put(id, advisory(id, rs)));
    this.advisories = adv;
  }

  /** The digest of the artifact this database was compiled from ("" if none was given). */
  public String digest() {
    return digest;
  }

  /** Counts of what the import kept and skipped. */
  public Stats stats() {
    return stats;
  }

  /** The display text of vulnerability {@code id} (a display id: the CVE alias when a record has one). */
  public Optional<Advisory> advisory(String id) {
    return Optional.ofNullable(id == null ? null : advisories.get(id));
  }

  /** The findings of an image, sorted by id, package name, package path, installed version. */
  public List<Finding> match(ImageInventory inventory) {
    return match(inventory, null);
  }

  /**
   * A matcher for re-matching many images against this database (a database activation), giving the
   * same findings as {@link #match} but remembering each (package, installed version) verdict, which
   * images sharing base layers repeat; it holds at most {@code maxVerdicts} remembered packages, then
   * starts afresh. Not thread-safe: one per thread, dropped when the batch is done.
   */
  public BatchMatcher batchMatcher(int maxVerdicts) {
    return new BatchMatcher(maxVerdicts);
  }

  /** See {@link #batchMatcher}. Confined to one thread. */
  public final class BatchMatcher {
    private final int max;
    private final Map<Verdicts, AffectedRanges.Verdict[]> memo = new HashMap<>();

    private BatchMatcher(int max) {
      this.max = max;
    }

    /** The findings of an image, exactly as {@link VulnDb#match} gives them. */
    public List<Finding> match(ImageInventory inventory) {
      if (memo.size() >= max) {
        memo.clear();
      }
      return VulnDb.this.match(inventory, memo);
    }
  }

  /** A memo key: the index slot (by identity) and the installed version as matched. */
  private record Verdicts(Entry[] entries, String version) {}

  private List<Finding> match(ImageInventory inventory, Map<Verdicts, AffectedRanges.Verdict[]> memo) {
    OsRelease os = inventory.os();
    Ecosystem osEcosystem = osEcosystem(os);
    String osRelease = osEcosystem == null ? null : imageReleaseKey(osEcosystem, os.versionId());
    Map<FindingKey, Best> found = new HashMap<>();
    Map<VersionComparator, VersionComparator> comparators = new IdentityHashMap<>();
    for (InstalledPackage p : inventory.packages()) {
      Ecosystem eco;
      String release;
      String name;
      String version;
      switch (p.type()) {
        case DEB, APK -> {
          if (osRelease == null || (p.type() == PackageType.APK) != (osEcosystem == Ecosystem.ALPINE)) {
            continue;
          }
          eco = osEcosystem;
          release = osRelease;
          name = p.sourceName();
          version = p.sourceVersion();
        }
        case GO -> {
          eco = Ecosystem.GO;
          release = "";
          name = p.name();
          version = goVersion(p.name(), p.version());
        }
        default -> {
          eco = switch (p.type()) {
            case MAVEN -> Ecosystem.MAVEN;
            case NPM -> Ecosystem.NPM;
            default -> Ecosystem.PYPI;
          };
          release = "";
          name = packageKey(eco, p.name());
          version = p.version();
        }
      }
      Entry[] entries = index.get(new Key(eco, release, name));
      if (entries == null) {
        continue;
      }
      AffectedRanges.Verdict[] verdicts = memo == null ? null : memo.get(new Verdicts(entries, version));
      if (verdicts == null) {
        verdicts = new AffectedRanges.Verdict[entries.length];
        VersionComparator cmp = comparators.computeIfAbsent(eco.comparator(), this::memo);
        VersionComparator semver = comparators.computeIfAbsent(Ecosystem.semver(), this::memo);
        for (int i = 0; i < entries.length; i++) {
          verdicts[i] = AffectedRanges.evaluate(cmp, semver, entries[i].versions(), version);
        }
        if (memo != null) {
          memo.put(new Verdicts(entries, version), verdicts);
        }
      }
      for (int i = 0; i < entries.length; i++) {
        Entry e = entries[i];
        AffectedRanges.Verdict v = verdicts[i];
        if (!v.affected()) {
          continue;
        }
        Finding f = new Finding(e.displayId(), e.severity(), p.name(), p.path(), p.version(), v.fixed().orElse(""));
        found.merge(new FindingKey(e.displayId(), p.name(), p.path(), p.version()), new Best(f, e.recordId()),
            VulnDb::better);
      }
    }
    List<Finding> out = new ArrayList<>(found.size());
    found.values().forEach(b -> out.add(b.finding()));
    out.sort(FINDING_ORDER);
    return out;
  }

  private VersionComparator memo(VersionComparator cmp) {
    return MemoComparator.over(cmp, parsed.getOrDefault(cmp, Map.of()));
  }

  private record FindingKey(String id, String name, String path, String version) {}

  private record Best(Finding finding, String recordId) {}

  /** More severe first, then the lower record id; within one record the first entry stays. */
  private static Best better(Best a, Best b) {
    int c = a.finding().severity().compareTo(b.finding().severity());
    if (c != 0) {
      return c > 0 ? a : b;
    }
    return b.recordId().compareTo(a.recordId()) < 0 ? b : a;
  }

  private static Advisory advisory(String id, List<OsvRecord> records) {
    records.sort(PREFERRED);
    OsvRecord chosen = records.get(0);
    TreeSet<String> aliases = new TreeSet<>();
    records.forEach(r -> aliases.addAll(r.otherIds()));
    aliases.remove(id);
    return new Advisory(id, chosen.summary(), chosen.details(), chosen.severity(), chosen.reference(),
        new ArrayList<>(aliases));
  }

  private static Ecosystem osEcosystem(OsRelease os) {
    return switch (os.id().toLowerCase(Locale.ROOT)) {
      case "debian" -> Ecosystem.DEBIAN;
      case "ubuntu" -> Ecosystem.UBUNTU;
      case "alpine" -> Ecosystem.ALPINE;
      default -> null;
    };
  }

  /**
   * The index release of an OSV ecosystem suffix ({@code 12} of {@code Debian:12}, {@code 3.19} of
   * {@code Alpine:v3.19}, {@code 22.04} of {@code Ubuntu:Pro:22.04:LTS}); "" for language ecosystems;
   * {@code null} when an OS ecosystem names no usable release (unscoped {@code Debian}, {@code Alpine:edge}):
   * such entries are not indexed, since matching them against any release gives false positives.
   */
  static String osvReleaseKey(Ecosystem eco, String suffix) {
    return switch (eco) {
      case DEBIAN -> debianMajor(suffix);
      case ALPINE -> majorMinor(suffix);
      case UBUNTU -> {
        Matcher m = UBUNTU_RELEASE.matcher(suffix);
        yield m.find() ? m.group(1) : null;
      }
      default -> "";
    };
  }

  /** The index release of an image's {@code VERSION_ID}, or null when it has none usable. */
  static String imageReleaseKey(Ecosystem eco, String versionId) {
    return switch (eco) {
      case DEBIAN -> debianMajor(versionId);
      case ALPINE -> majorMinor(versionId);
      case UBUNTU -> {
        Matcher m = MAJOR_MINOR.matcher(versionId);
        yield m.matches() ? m.group(1) + "." + m.group(2) : null;
      }
      default -> "";
    };
  }

  /** The index name of a package: PEP 503-normalised for PyPI, else as written. */
  static String packageKey(Ecosystem eco, String name) {
    return eco == Ecosystem.PYPI ? PEP503.matcher(name.toLowerCase(Locale.ROOT)).replaceAll("-") : name;
  }

  /** An installed Go version as OSV writes it: no leading {@code v}; toolchain versions as full semver. */
  static String goVersion(String module, String version) {
    String v = version.startsWith("v") ? version.substring(1) : version;
    if (module.equals("stdlib") || module.equals("toolchain")) {
      Matcher m = GO_TOOLCHAIN.matcher(v);
      if (m.matches()) {
        String semver = m.group(1) + "." + m.group(2) + "." + (m.group(3) == null ? "0" : m.group(3));
        return m.group(4) == null ? semver : semver + "-" + m.group(4) + "." + m.group(5);
      }
    }
    return v;
  }

  private static String debianMajor(String s) {
    int dot = s.indexOf('.');
    String major = dot < 0 ? s : s.substring(0, dot);
    return !major.isEmpty() && major.chars().allMatch(c -> c >= '0' && c <= '9') ? major : null;
  }

  private static String majorMinor(String s) {
    Matcher m = MAJOR_MINOR.matcher(s);
    return m.matches() ? m.group(1) + "." + m.group(2) : null;
  }
}
