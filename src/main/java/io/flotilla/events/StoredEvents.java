package io.flotilla.events;

import com.fasterxml.jackson.databind.JsonNode;
import io.flotilla.oci.Digest;
import io.flotilla.oci.RepositoryName;
import io.flotilla.oci.Tag;
import io.flotilla.storage.MetadataStore;
import java.io.IOException;
import java.util.List;

/**
 * Decides, when an event journal left by an earlier version (which wrote push events ahead of their
 * operations) is opened after a crash, whether a push whose event was written ahead did happen: the manifest or blob is in the repository on this node's storage, or a later
 * event deletes it (or its repository), which explains why it is gone. A manifest pushed by tag
 * happened only if, in addition, the tag points at it now or a later event moved the tag (a push
 * of the same tag) or deleted it (the tag, the manifest, the repository): the manifest may have
 * been there before, from a push of another tag. Every other event was written after its
 * operation was durable and stands.
 */
public final class StoredEvents implements EventJournal.Verifier {
  private final MetadataStore metadata;

  /** @param metadata this node's metadata, loaded */
  public StoredEvents(MetadataStore metadata) {
    this.metadata = metadata;
  }

  @Override
  public boolean happened(String json, List<String> later) {
    JsonNode event = parse(json);
    if (event == null || !"push".equals(event.path("action").asText())) {
      return true;
    }
    String repository = event.at("/target/repository").asText();
    String digest = event.at("/target/digest").asText(null);
    if (digest == null) {
      return true;
    }
    try {
      RepositoryName name = RepositoryName.of(repository);
      Digest d = Digest.parse(digest);
      boolean manifest = EventHub.isManifestType(event.at("/target/mediaType").asText(null));
      boolean stored = manifest ? metadata.manifest(name, d) != null : metadata.blobSize(name, d) >= 0;
      if (!stored) {
        return deletedLater(repository, digest, later);
      }
      String tag = event.at("/target/tag").asText(null);
      if (!manifest || tag == null || d.equals(metadata.tag(name, new Tag(tag)))) {
        return true;
      }
      return deletedLater(repository, digest, later) || tagChangedLater(repository, tag, later);
    } catch (RuntimeException invalid) {
      return true; // not ours to judge: deliver it
    }
  }

  private static boolean deletedLater(String repository, String digest, List<String> later) {
    for (String json : later) {
      JsonNode e = parse(json);
      if (e != null && "delete".equals(e.path("action").asText())
          && repository.equals(e.at("/target/repository").asText())) {
        JsonNode d = e.at("/target/digest");
        JsonNode tag = e.at("/target/tag");
        boolean wholeRepository = (d.isMissingNode() || d.isNull()) && (tag.isMissingNode() || tag.isNull());
        if (wholeRepository || digest.equals(d.asText())) {
          return true;
        }
      }
    }
    return false;
  }

  /** Whether a later event pushed or deleted {@code tag} in the repository (so it may point elsewhere now). */
  private static boolean tagChangedLater(String repository, String tag, List<String> later) {
    for (String json : later) {
      JsonNode e = parse(json);
      String action = e == null ? "" : e.path("action").asText();
      if (("push".equals(action) || "delete".equals(action)) && repository.equals(e.at("/target/repository").asText())
          && tag.equals(e.at("/target/tag").asText(null))) {
        return true;
      }
    }
    return false;
  }

  private static JsonNode parse(String json) {
    try {
      return EventFormat.JSON.readTree(json);
    } catch (IOException e) {
      return null;
    }
  }
}
