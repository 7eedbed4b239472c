package io.flotilla.content;

import io.flotilla.oci.Digest;
import io.flotilla.oci.Manifest;

/**
 * A manifest or index as an upstream served it, verified: {@code body} hashes to {@code digest}
 * (the digest asked for, or the upstream's {@code Docker-Content-Digest}, or else the body's
 * SHA-256), and it parsed as a supported manifest. Immutable by convention: {@code body} is the
 * caller's to keep, not to change.
 *
 * @param body the exact bytes, as they must be stored and served again for the digest to hold
 * @param mediaType the manifest's media type (OCI manifest or index, Docker v2 manifest or list)
 * @param manifest what the body says (config, layers, child manifests, subject)
 */
public record UpstreamManifest(byte[] body, String mediaType, Digest digest, Manifest manifest) {}
