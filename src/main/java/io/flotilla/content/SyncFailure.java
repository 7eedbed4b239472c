package io.flotilla.content;

/**
 * One thing a sync could not do, e.g. subject {@code tag v1} with reason
 * {@code blob sha256:...: DIGEST_MISMATCH: GET /v2/lib/app/blobs/sha256:...: the bytes hash to ...}.
 */
public record SyncFailure(String subject, String reason) {}
