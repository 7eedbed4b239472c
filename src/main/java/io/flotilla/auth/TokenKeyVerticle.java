package io.flotilla.auth;

import io.flotilla.bus.Addresses;
import io.flotilla.bus.Bus;
import io.flotilla.oci.OciError;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * Serves this node's token verification keys to the other nodes on its scoped
 * {@link Addresses#AUTH_TOKEN_KEY} address, and rotates its signing key on schedule.
 */
public final class TokenKeyVerticle extends VerticleBase {
  private final TokenKeys keys;
  private final String nodeId;
  private final long rotationMillis;
  private long timer = -1;

  public TokenKeyVerticle(TokenKeys keys, String nodeId, long rotationMillis) {
    this.keys = keys;
    this.nodeId = nodeId;
    this.rotationMillis = rotationMillis;
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(rotationMillis, t -> keys.rotate());
    return Bus.serve(vertx, Addresses.AUTH_TOKEN_KEY, nodeId, q -> keys.local(q.kid())
        .map(Future::succeededFuture)
        .orElseGet(() -> Future.failedFuture(OciError.NOT_FOUND.with("no such key"))));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
