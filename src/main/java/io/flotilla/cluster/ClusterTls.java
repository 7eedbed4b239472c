package io.flotilla.cluster;

import io.flotilla.config.ConfigException;
import io.flotilla.config.TlsFiles;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TCPSSLOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The cluster's certificate as Vert.x TLS options, for every node-to-node channel: the clustered
 * event bus ({@link #applyTo}) and the data channel of blob bytes ({@link #keyCert}, {@link #trust},
 * used by {@code boot.Node} for {@code bus.DataChannelOptions}).
 *
 * <p>Mutual TLS against the cluster CA only: each side presents its certificate and accepts the
 * other's only if it chains to {@code cluster.tls.ca}. Host names are not verified (the Vert.x event
 * bus client turns hostname verification off, and a node's certificate need not name the address
 * its peers dial): any holder of a certificate signed by the cluster CA is a member. So the cluster
 * CA must sign nothing but cluster node certificates.
 *
 * @param files the PEM files of {@code cluster.tls}
 */
public record ClusterTls(TlsFiles files) {
  public ClusterTls {
    if (files == null || files.ca() == null) {
      throw new IllegalArgumentException("cluster TLS needs a certificate, a key and a CA");
    }
  }

  /**
   * The cluster TLS of the config, after checking that its files are readable; null when
   * {@code tls} is null (TLS off).
   *
   * @throws ConfigException if a file cannot be read
   */
  public static ClusterTls of(TlsFiles tls) {
    if (tls == null) {
      return null;
    }
    readable("cluster.tls.cert", tls.cert());
    readable("cluster.tls.key", tls.key());
    readable("cluster.tls.ca", tls.ca());
    return new ClusterTls(tls);
  }

  private static void readable(String key, Path file) {
    if (file == null || !Files.isReadable(file)) {
      throw new ConfigException(key, "cannot read " + file);
    }
  }

  /** This node's certificate chain and private key. */
  public PemKeyCertOptions keyCert() {
    return new PemKeyCertOptions().setCertPath(files.cert().toString()).setKeyPath(files.key().toString());
  }

  /** The cluster CA: the only issuer whose certificates are accepted from peers. */
  public PemTrustOptions trust() {
    return new PemTrustOptions().addCertPath(files.ca().toString());
  }

  /** Turns TLS on for a node-to-node endpoint (client and server side), trusting the cluster CA only. */
  public <T extends TCPSSLOptions> T enable(T options) {
    options.setSsl(true);
    options.setKeyCertOptions(keyCert());
    options.setTrustOptions(trust());
    return options;
  }

  /**
   * Mutual TLS on the clustered event bus: TLS on, this node's certificate, the cluster CA as the
   * only trust, and a client certificate required from every peer that connects.
   */
  public EventBusOptions applyTo(EventBusOptions bus) {
    enable(bus);
    bus.setTrustAll(false);
    bus.setClientAuth(ClientAuth.REQUIRED);
    return bus;
  }
}
