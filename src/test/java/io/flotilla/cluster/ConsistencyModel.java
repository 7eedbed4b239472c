package io.flotilla.cluster;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What the acknowledged operations of {@link ConsistencyIT} imply about the registry's final state.
 *
 * <p><b>Tags.</b> Every tag has exactly one writer (tags are partitioned among writers, and a writer
 * runs one operation at a time), so concurrent writers never make a tag's value ambiguous. A tag's
 * value is a manifest digest or {@link #ABSENT}. {@link TagState#acked} is what the last
 * <em>acknowledged</em> operation implies (201 push: its digest; 202 tag delete or manifest delete:
 * absent). An operation whose outcome is unknown (5xx, timeout, reset while a node died) may have
 * been applied, and may even still be applied later by the server (a timed-out request keeps
 * running there), so its value joins {@link TagState#unknown} for good. The allowed values are
 * {@code acked} plus {@code unknown}; a tag with no unknown operation has exactly one.
 *
 * <p><b>Manifests.</b> Each push uploads a manifest no other push uses (its config names the
 * repository, tag, writer and operation), so a manifest is pushed at most once and deleted by
 * digest at most by its tag's writer. Overwriting or deleting a tag leaves the manifest in the
 * repository (docs/api.md), so an acknowledged push keeps the manifest {@link Presence#PRESENT}
 * until an acknowledged delete by digest makes it {@link Presence#DELETED}; unknown outcomes make
 * it {@link Presence#UNCERTAIN}.
 *
 * <p><b>Events.</b> Every acknowledged write (blob upload, manifest push, mount, tag or manifest
 * delete) must produce a webhook event (docs/events.md: a write is acknowledged only once its event
 * is durable); unknown ones may or may not.
 *
 * <p>Rejections (4xx other than a delete's 404) and refused connections change nothing.
 */
final class ConsistencyModel {
  static final String ABSENT = "absent";

  /** A manifest's fate as the acknowledged operations tell it. */
  enum Presence { PRESENT, DELETED, UNCERTAIN }

  /** How an operation ended, from the client's side. */
  enum Outcome {
    /** 201/202: done, durably, on every live owner. */
    ACKED,
    /** 404 to a delete: the registry says there was nothing to delete. */
    NOT_FOUND,
    /** 5xx, timeout, connection reset: may or may not have happened (or may still happen). */
    UNKNOWN,
    /** 4xx or connection refused: did not happen. */
    REJECTED
  }

  /** One tag's acknowledged history; mutated only by its writer's thread. */
  static final class TagState {
    final String repository;
    final String tag;
    String acked = ABSENT;
    final Set<String> unknown = new LinkedHashSet<>();
    /** The operations on this tag and their outcomes, oldest first, for reports. */
    final List<String> history = new ArrayList<>();

    TagState(String repository, String tag) {
      this.repository = repository;
      this.tag = tag;
    }

    /** Every value the tag may have: the acknowledged one and any an unknown operation may have set. */
    Set<String> allowed() {
      Set<String> out = new TreeSet<>(unknown);
      out.add(acked);
      return out;
    }

    boolean allows(String value) {
      return acked.equals(value) || unknown.contains(value);
    }

    /** Exactly one value allowed. */
    boolean certain() {
      return allowed().size() == 1;
    }

    /** For reports: {@code sha256:ab..} or {@code one of [..]}. */
    String expected() {
      Set<String> allowed = allowed();
      return allowed.size() == 1 ? allowed.iterator().next() : "one of " + allowed;
    }
  }

  /** One manifest pushed by the test. */
  static final class ManifestState {
    final String repository;
    final String digest;
    volatile Presence presence;

    ManifestState(String repository, String digest, Presence presence) {
      this.repository = repository;
      this.digest = digest;
      this.presence = presence;
    }
  }

  /** An event the webhook receiver must get: action, repository, and digest or {@code tag:<tag>}. */
  record ExpectedEvent(String action, String repository, String subject) {
    String key() {
      return action + " " + repository + " " + subject;
    }
  }

  /** Something an acknowledged answer contradicted while the test ran (for the report). */
  record Anomaly(String repository, String tag, String node, String expected, String actual, long atNanos) {}

  private final Map<String, TagState> tags = new ConcurrentHashMap<>();
  private final Map<String, ManifestState> manifests = new ConcurrentHashMap<>();
  private final Collection<ExpectedEvent> events = new ConcurrentLinkedQueue<>();
  private final Collection<Anomaly> anomalies = new ConcurrentLinkedQueue<>();

  TagState tag(String repository, String tag) {
    return tags.computeIfAbsent(repository + ":" + tag, k -> new TagState(repository, tag));
  }

  Collection<TagState> tags() {
    return tags.values();
  }

  Collection<ManifestState> manifests() {
    return manifests.values();
  }

  Collection<ExpectedEvent> expectedEvents() {
    return events;
  }

  Collection<Anomaly> anomalies() {
    return anomalies;
  }

  /** A blob upload or mount that was acknowledged: its event must arrive. */
  void blobAcked(String action, String repository, String digest) {
    events.add(new ExpectedEvent(action, repository, digest));
  }

  /** A manifest PUT by tag. */
  void pushed(TagState t, String digest, Outcome outcome, String how) {
    t.history.add("push " + digest + " " + how);
    switch (outcome) {
      case ACKED -> {
        t.acked = digest;
        manifests.put(key(t.repository, digest), new ManifestState(t.repository, digest, Presence.PRESENT));
        events.add(new ExpectedEvent("push", t.repository, digest));
      }
      case UNKNOWN -> {
        t.unknown.add(digest);
        manifests.put(key(t.repository, digest), new ManifestState(t.repository, digest, Presence.UNCERTAIN));
      }
      case NOT_FOUND, REJECTED -> { }
    }
  }

  /** {@code DELETE /v2/<repo>/manifests/<tag>}; {@code node} answered. */
  void tagDeleted(TagState t, Outcome outcome, String how, String node) {
    t.history.add("delete tag " + how);
    switch (outcome) {
      case ACKED -> {
        t.acked = ABSENT;
        events.add(new ExpectedEvent("delete", t.repository, "tag:" + t.tag));
      }
      case NOT_FOUND -> {
        if (!t.acked.equals(ABSENT)) {
          // the registry says the tag does not exist although a push of it was acknowledged: report
          // it, and allow either value from now on (the delete may or may not have left the tag)
          anomalies.add(new Anomaly(t.repository, t.tag, node, "202 (tag is " + t.acked + ")", "404 to DELETE", System.nanoTime()));
          t.unknown.add(ABSENT);
        }
      }
      case UNKNOWN -> t.unknown.add(ABSENT);
      case REJECTED -> { }
    }
  }

  /** {@code DELETE /v2/<repo>/manifests/<digest>} of the tag's acknowledged manifest. */
  void manifestDeleted(TagState t, String digest, Outcome outcome, String how, String node) {
    t.history.add("delete manifest " + digest + " " + how);
    ManifestState m = manifests.get(key(t.repository, digest));
    switch (outcome) {
      case ACKED -> {
        // the manifest and every tag pointing at it go; only this tag ever pointed at it
        if (t.acked.equals(digest)) {
          t.acked = ABSENT;
        }
        m.presence = Presence.DELETED;
        events.add(new ExpectedEvent("delete", t.repository, digest));
      }
      case NOT_FOUND -> {
        if (m.presence == Presence.PRESENT) {
          anomalies.add(new Anomaly(t.repository, t.tag, node, "202 (manifest " + digest + " was pushed)",
              "404 to DELETE", System.nanoTime()));
        }
        m.presence = Presence.UNCERTAIN;
        t.unknown.add(ABSENT);
      }
      case UNKNOWN -> {
        m.presence = Presence.UNCERTAIN;
        t.unknown.add(ABSENT);
      }
      case REJECTED -> { }
    }
  }

  private static String key(String repository, String digest) {
    return repository + "@" + digest;
  }
}
