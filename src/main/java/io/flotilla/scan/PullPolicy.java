package io.flotilla.scan;

import io.flotilla.config.ScanConfig;
import io.flotilla.oci.Descriptor;
import io.flotilla.oci.Manifest;
import io.flotilla.oci.ManifestParser;
import io.flotilla.oci.MediaTypes;
import io.flotilla.oci.OciError;
import io.flotilla.storage.ForwardingStorage;
import io.flotilla.storage.RegistryStorage;
import io.flotilla.storage.RequestContext;
import io.flotilla.storage.StorageTypes.ManifestContent;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Refuses pulls of vulnerable images where a policy says so: a manifest GET of a repository that
 * matches a {@code scan.policies} entry fails with {@code DENIED}, naming the worst vulnerability, when
 * the image (for an index: any of its images) has a finding at or above the policy's severity under
 * the active database. Images without a current result are served. Sits on the owner's side of the
 * storage stack, where the results are; costs nothing for repositories no policy names. Internal
 * reads (replication, sync) are never refused.
 */
public final class PullPolicy extends ForwardingStorage {
  private record Rule(Pattern repositories, Severity severity) {}

  private final List<Rule> rules = new ArrayList<>();
  private final ScanResults results;

  public PullPolicy(RegistryStorage delegate, List<ScanConfig.Policy> policies, ScanResults results) {
    super(delegate);
    for (ScanConfig.Policy p : policies) {
      rules.add(new Rule(io.flotilla.oci.Glob.toPattern(p.repositories()), Severity.valueOf(p.severity())));
    }
    this.results = results;
  }

  /** The severity at or above which pulls of {@code repository} are refused, if a policy names it. */
  public Optional<Severity> threshold(String repository) {
    for (Rule r : rules) {
      if (r.repositories().matcher(repository).matches()) {
        return Optional.of(r.severity());
      }
    }
    return Optional.empty();
  }

  @Override
  public Future<ManifestContent> getManifest(RequestContext ctx, String repository, String reference) {
    Future<ManifestContent> got = delegate.getManifest(ctx, repository, reference);
    if (rules.isEmpty() || ctx.isInternal() || "SYNC".equals(ctx.method()) || !results.enabled()) {
      return got;
    }
    Optional<Severity> threshold = threshold(repository);
    if (threshold.isEmpty()) {
      return got;
    }
    return got.compose(m -> {
      Optional<Finding> worst = worst(m);
      if (worst.isPresent() && worst.get().severity().compareTo(threshold.get()) >= 0) {
        Finding f = worst.get();
        return Future.failedFuture(OciError.DENIED.with("pull refused by the vulnerability policy of " + repository
            + " (" + threshold.get() + " or worse): " + f.id() + " is " + f.severity() + " in " + f.packageName() + " "
            + f.installedVersion()));
      }
      return Future.succeededFuture(m);
    });
  }

  /** The most severe finding of the image (of all images of an index), by severity then id. */
  private Optional<Finding> worst(ManifestContent m) {
    List<String> digests = new ArrayList<>();
    if (MediaTypes.isIndex(m.mediaType())) {
      try {
        Manifest index = ManifestParser.parse(m.body(), m.mediaType());
        for (Descriptor d : index.manifests()) {
          digests.add(d.digest().toString());
        }
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    } else {
      digests.add(m.digest());
    }
    Finding worst = null;
    for (String d : digests) {
      for (Finding f : results.stored(d).map(ImageScan::findings).orElse(List.of())) {
        if (worst == null || f.severity().compareTo(worst.severity()) > 0
            || f.severity() == worst.severity() && f.id().compareTo(worst.id()) < 0) {
          worst = f;
        }
      }
    }
    return Optional.ofNullable(worst);
  }
}
