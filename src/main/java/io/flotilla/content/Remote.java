package io.flotilla.content;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * An upstream registry repository to sync from (a Pulp remote): its URL and repository name,
 * credentials (the password is stored, never shown), TLS options, tag filters, the policy
 * ({@link #IMMEDIATE}: a sync copies everything selected; {@link #ON_DEMAND}: content is fetched on
 * first pull) and an optional period for syncing by itself.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Remote(String name, String url, String upstreamName, String username, String password,
    boolean verifyTls, String caCertificate, List<String> includeTags, List<String> excludeTags, String policy,
    Long syncInterval, long created, long updated) {
  public static final String KIND = "remote";
  public static final String IMMEDIATE = "immediate";
  public static final String ON_DEMAND = "onDemand";

  public Remote {
    includeTags = includeTags == null ? List.of() : List.copyOf(includeTags);
    excludeTags = excludeTags == null ? List.of() : List.copyOf(excludeTags);
    policy = policy == null ? IMMEDIATE : policy;
  }

  /** Whether content is fetched on first pull instead of by syncs. */
  public boolean onDemand() {
    return ON_DEMAND.equals(policy);
  }

  /** The upstream client's configuration for this remote (retries and timeouts at their defaults). */
  public UpstreamConfig upstreamConfig() {
    UpstreamConfig c = UpstreamConfig.of(url);
    if (username != null && !username.isEmpty()) {
      c = c.withCredentials(username, password == null ? "" : password);
    }
    if (!verifyTls) {
      c = c.withoutTlsVerification();
    }
    return c;
  }

  /** The tag filter of its globs. */
  public TagFilter filter() {
    return new TagFilter(includeTags, excludeTags);
  }

  /** The period of its own syncs, if it has one. */
  public Duration period() {
    return syncInterval == null || syncInterval <= 0 ? null : Duration.ofSeconds(syncInterval);
  }

  /** The URL's scheme, host and port, for messages. */
  public String origin() {
    URI u = URI.create(url);
    return u.getScheme() + "://" + u.getAuthority();
  }
}
