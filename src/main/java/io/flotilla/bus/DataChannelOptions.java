package io.flotilla.bus;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.TrustOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How a node's data channel listens and connects.
 *
 * @param host address the data port binds
 * @param port data port; 0 picks a free one (the grant names the port actually bound)
 * @param advertisedHost the address peers are told to connect to
 * @param idleTimeout a connection that moves no byte either way for this long is closed
 * @param ticketTtl how long a ticket may wait for its connection
 * @param keyCert this node's certificate, or null for plain TCP
 * @param trust the cluster CA (the only accepted issuer of peers' certificates), or null for plain TCP
 */
public record DataChannelOptions(String host, int port, String advertisedHost, Duration idleTimeout,
    Duration ticketTtl, KeyCertOptions keyCert, TrustOptions trust) {
  /**
   * Socket receive buffer of the connecting side (the reader of pulls, replication and rebalancing);
   * Vert.x then also reads up to this much at once instead of Netty's adaptive 64 KiB at most, so a
   * relay handles a few large buffers instead of many small ones (measured: twice the rate of a pull
   * through a non-owner). The receiving side of pushes keeps the default: its body goes to the
   * upload path in 256 KiB blocks anyway, and larger reads did not help there.
   */
  static final int RECEIVE_BUFFER = 1024 * 1024;
  /** The ticket lifetime used unless a test sets another. */
  public static final Duration TICKET_TTL = Duration.ofSeconds(30);

  public DataChannelOptions {
    if ((keyCert == null) != (trust == null)) {
      throw new IllegalArgumentException("data channel TLS needs both a certificate and a CA");
    }
    if (idleTimeout == null || idleTimeout.toMillis() < 1) {
      throw new IllegalArgumentException("idle timeout must be positive");
    }
  }

  /** Whether the channel runs mutual TLS. */
  public boolean tls() {
    return keyCert != null;
  }

  NetServerOptions serverOptions() {
    NetServerOptions o = new NetServerOptions().setHost(host).setPort(port).setTcpNoDelay(true)
        .setIdleTimeout((int) idleTimeout.toMillis()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    if (tls()) {
      o.setSsl(true).setKeyCertOptions(keyCert).setTrustOptions(trust).setClientAuth(ClientAuth.REQUIRED);
    }
    return o;
  }

  NetClientOptions clientOptions() {
    NetClientOptions o = new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(10_000)
        .setReceiveBufferSize(RECEIVE_BUFFER)
        .setIdleTimeout((int) idleTimeout.toMillis()).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    if (tls()) {
      // peers are members by their certificate (signed by the cluster CA), not by the name they are dialled by
      o.setSsl(true).setKeyCertOptions(keyCert).setTrustOptions(trust).setHostnameVerificationAlgorithm("");
    }
    return o;
  }
}
